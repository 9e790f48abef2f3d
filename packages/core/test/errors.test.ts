import { describe, expect, it } from "@effect/vitest"
import { Identity, ProfileClient, ProfileError, Retry } from "@rtcp/core"
import { Duration, Effect, Either } from "effect"
import { drive } from "./support/clock.js"
import { always, empty, fakeTransport, json, type Reply, staticLayer, text, transportFailure } from "./support/fakeTransport.js"
import { fixture } from "./support/fixtures.js"

const jane = Identity.make("email", "janedoe@example.com")

/** One call with retries off; the error and the requests that were sent. */
const failWith = (
  reply: Reply,
  f: (client: ProfileClient.ProfileClientService) => Effect.Effect<unknown, ProfileError.ProfileError> = (client) =>
    client.getProfile(jane)
) =>
  Effect.gen(function* () {
    const transport = fakeTransport(always(reply))
    const error = yield* Effect.flatMap(ProfileClient.ProfileClient, f).pipe(
      Effect.provide(staticLayer(transport)),
      Effect.provideService(Retry.CurrentRetryPolicy, Retry.none),
      Effect.flip
    )
    const sent = transport.requests.at(-1)!
    return { error, transport, requestId: sent.headers["x-request-id"] }
  })

const tooManyIdentities = {
  message: "UPS-MRG-1000002: Too many related identities. The identity graph links more than 50 identities.",
  statusCode: "422"
}

describe("status → tag", () => {
  const cases: ReadonlyArray<readonly [number, ProfileError.ProfileError["_tag"], unknown]> = [
    [400, "BadRequest", fixture("entities/error-400.json")],
    [400, "BadRequest", fixture("gateway/missing-header-400003.json")],
    [400, "BadRequest", fixture("gateway/content-type-invalid-400.json")],
    [401, "Unauthorized", fixture("gateway/oauth-token-invalid-401013.json")],
    [403, "Forbidden", fixture("entities/error-403.json")],
    [403, "Forbidden", fixture("gateway/api-key-required-403000.json")],
    [403, "Forbidden", fixture("gateway/api-key-invalid-403003.json")],
    [403, "Forbidden", fixture("gateway/oauth-token-missing-403010.json")],
    [403, "Forbidden", fixture("gateway/profile-not-valid-403025.json")],
    [403, "Forbidden", fixture("gateway/user-region-missing-403027.json")],
    [404, "NotFound", fixture("entities/error-404.json")],
    [422, "TooManyRelatedIdentities", tooManyIdentities],
    [422, "Unprocessable", fixture("entities/error-422.json")],
    [422, "Unprocessable", fixture("system-jobs/error-422.json")],
    [429, "RateLimited", fixture("entities/error-429.json")],
    [500, "ServerError", fixture("entities/error-500.json")],
    [502, "ServerError", fixture("entities/error-500.json")],
    [503, "ServerError", fixture("entities/error-500.json")],
    [504, "ServerError", fixture("entities/error-500.json")]
  ]
  for (const [status, tag, body] of cases) {
    const code = (body as { error_code?: string }).error_code
    it.effect(`${status}${code ? ` (${code})` : ""} → ${tag}, with AEP's body and the request id`, () =>
      Effect.gen(function* () {
        const { error, requestId } = yield* failWith(json(status, body))
        expect(error._tag).toBe(tag)
        expect(error.status).toBe(status)
        expect(error.body).toEqual(body)
        expect(requestId).toBeDefined()
        expect(error.requestId).toBe(requestId)
        expect(ProfileError.isProfileError(error)).toBe(true)
        expect(error.message).toContain(String(status))
      })
    )
  }

  it.effect("the message carries AEP's own sentence", () =>
    Effect.gen(function* () {
      const problem = yield* failWith(json(400, fixture("gateway/content-type-invalid-400.json")))
      expect(problem.error.message).toContain("A valid content-type must be specified")
      const gateway = yield* failWith(json(403, fixture("gateway/api-key-invalid-403003.json")))
      expect(gateway.error.message).toContain("Api Key is invalid")
      const ups = yield* failWith(json(403, fixture("entities/error-403.json")))
      expect(ups.error.message).toContain("IMS Org is not provisioned")
    })
  )

  it.effect("429: retryAfter from the Retry-After header", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(json(429, fixture("entities/error-429.json"), { "retry-after": "7" }))
      expect(error._tag).toBe("RateLimited")
      expect(error._tag === "RateLimited" && error.retryAfter && Duration.toMillis(error.retryAfter)).toBe(7_000)
    })
  )

  it.effect("429: retryAfter from AEP's array body (retryAfterMs is a string)", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(json(429, fixture("entities/error-429.json")))
      expect(error._tag === "RateLimited" && error.retryAfter && Duration.toMillis(error.retryAfter)).toBe(500)
    })
  )

  it.effect("429: Retry-After as an HTTP date", () =>
    Effect.gen(function* () {
      // TestClock starts at epoch 0.
      const { error } = yield* failWith(empty(429, { "retry-after": new Date(4_000).toUTCString() }))
      expect(error._tag === "RateLimited" && error.retryAfter && Duration.toMillis(error.retryAfter)).toBe(4_000)
    })
  )

  it.effect("an empty 429 is RateLimited without a hint", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(empty(429))
      expect(error._tag).toBe("RateLimited")
      expect(error._tag === "RateLimited" && error.retryAfter).toBeUndefined()
      expect(error.body).toBeUndefined()
    })
  )

  it.effect("a non-JSON error body (a proxy's HTML page) is kept as text", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(text(502, "<html><body>Bad gateway</body></html>", { "content-type": "text/html" }))
      expect(error._tag).toBe("ServerError")
      expect(error.body).toBe("<html><body>Bad gateway</body></html>")
    })
  )

  it.effect("an undeclared status (418) is a tagged error, never an untyped failure", () =>
    Effect.gen(function* () {
      const { error, requestId } = yield* failWith(json(418, { message: "I'm a teapot" }))
      expect(ProfileError.isProfileError(error)).toBe(true)
      expect(error._tag).toBe("BadRequest")
      expect(error.status).toBe(418)
      expect(error.body).toEqual({ message: "I'm a teapot" })
      expect(error.requestId).toBe(requestId)
    })
  )

  it.effect("207 on an endpoint that does not declare it (GET /access/entities) is a tagged error", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(json(207, fixture("entities/error-207.json")))
      expect(ProfileError.isProfileError(error)).toBe(true)
      expect(error._tag).toBe("ResponseDecodeError")
      expect(error.status).toBe(207)
    })
  )

  it.effect("207 from POST /access/entities (declared: some identities failed) is NotFound with the 207 body", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(json(207, fixture("entities/error-207.json")), (client) =>
        client.getProfiles([jane])
      )
      expect(error._tag).toBe("NotFound")
      expect(error.status).toBe(207)
      expect(error.body).toEqual(fixture("entities/error-207.json"))
    })
  )

  it.effect("a connection failure is a TransportError with status 0 and the request id", () =>
    Effect.gen(function* () {
      const { error, requestId } = yield* failWith(transportFailure("connect ECONNREFUSED 10.0.0.1:443"))
      expect(error._tag).toBe("TransportError")
      expect(error.status).toBe(0)
      expect(error.requestId).toBe(requestId)
      expect(error.message).toContain("/data/core/ups/access/entities")
    })
  )

  it.effect("a 200 whose body violates the contract is a ResponseDecodeError", () =>
    Effect.gen(function* () {
      const wrong = yield* failWith(json(200, { id: 42, name: ["not", "a", "string"] }), (client) =>
        client.getMergePolicy("e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2")
      )
      expect(wrong.error._tag).toBe("ResponseDecodeError")
      expect(ProfileError.isProfileError(wrong.error)).toBe(true)
      const notJson = yield* failWith(text(200, "<html>maintenance</html>", { "content-type": "text/html" }), (client) =>
        client.getSampleStatus()
      )
      expect(notJson.error._tag).toBe("ResponseDecodeError")
    })
  )

  // BUG (src/internal/http.ts normalizeError): ProfileError.ts promises that every error carries the
  // x-request-id of the request that failed, but ResponseDecodeError never does: normalizeError drops
  // `error.request.headers["x-request-id"]` (and the body) of an HttpClientError ResponseError, and a
  // ParseError has no request at all. Remove `.fails` once fixed.
  it.effect("a ResponseDecodeError names the request id that was sent", () =>
    Effect.gen(function* () {
      const undeclared = yield* failWith(json(207, fixture("entities/error-207.json")))
      expect(undeclared.error.requestId).toBe(undeclared.requestId)
      const invalid = yield* failWith(json(200, { id: 42 }), (client) => client.getMergePolicy("x"))
      expect(invalid.error.requestId).toBe(invalid.requestId)
    })
  )

  it.effect("the request id sent wins over a requestId in the body, which stays in the body", () =>
    Effect.gen(function* () {
      const body = fixture("system-jobs/error-422.json")
      const { error, requestId } = yield* failWith(json(422, body), (client) =>
        client.createSystemJob({ dataSetId: "5c802d3cd83fc114b741c4b5" })
      )
      expect(error._tag).toBe("Unprocessable")
      expect(error.requestId).toBe(requestId)
      expect(error.body).toEqual(body)
      expect(error.message).toContain("Invalid system job payload")
    })
  )
})

describe("callers handle errors by tag", () => {
  it.effect("Effect.catchTag recovers a NotFound", () =>
    Effect.gen(function* () {
      const transport = fakeTransport(always(json(404, fixture("entities/error-404.json"))))
      const result = yield* Effect.flatMap(ProfileClient.ProfileClient, (client) => client.getProfile(jane)).pipe(
        Effect.map((profile) => profile.entityId),
        Effect.catchTag("NotFound", (error) => Effect.succeed(`no profile (${error.status})`)),
        Effect.provide(staticLayer(transport))
      )
      expect(result).toBe("no profile (404)")
    })
  )

  it.effect("Effect.catchTags tells a rate limit from a server error after the retries", () =>
    Effect.gen(function* () {
      const transport = fakeTransport(always(json(503, fixture("entities/error-500.json"))))
      const result = yield* drive(
        Effect.flatMap(ProfileClient.ProfileClient, (client) => client.getProfile(jane)).pipe(
          Effect.as("ok"),
          Effect.catchTags({
            RateLimited: () => Effect.succeed("slow down"),
            ServerError: (error) => Effect.succeed(`server ${error.status}: ${(error.body as { message: string }).message}`)
          }),
          Effect.provide(staticLayer(transport))
        )
      )
      expect(result).toBe("server 503: Unable to connect to server")
      expect(transport.requests).toHaveLength(5)
    })
  )

  it.effect("errors are Schema classes: instanceof and Either work", () =>
    Effect.gen(function* () {
      const transport = fakeTransport(always(json(403, fixture("entities/error-403.json"))))
      const result = yield* Effect.flatMap(ProfileClient.ProfileClient, (client) => client.getProfile(jane)).pipe(
        Effect.provide(staticLayer(transport)),
        Effect.either
      )
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left).toBeInstanceOf(ProfileError.Forbidden)
        expect(result.left).toBeInstanceOf(Error)
      }
    })
  )
})
