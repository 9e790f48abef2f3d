import { describe, expect, it } from "@effect/vitest"
import { Identity, ProfileClient, ProfileLookup, Retry } from "@rtcp/core"
import { Effect, Layer, Stream } from "effect"
import { drive } from "./support/clock.js"
import { empty, fakeTransport, json, queue, type Responder, staticLayer, transportFailure } from "./support/fakeTransport.js"

const forward = (request: Parameters<ProfileClient.ProfileClientService["forward"]>[0]) =>
  Effect.flatMap(ProfileClient.ProfileClient, (client) => client.forward(request))

const text = (body: Stream.Stream<Uint8Array, unknown>) =>
  Effect.map(Stream.runCollect(Stream.decodeText(body)), (chunks) => [...chunks].join(""))

const get = { method: "GET", pathAndQuery: "/data/core/ups/config/mergePolicies?limit=1", headers: { accept: "application/json" } }

describe("ProfileClient.forward (pass-through)", () => {
  it.effect("answers with the upstream's status, headers and streamed body; the credential's headers win", () =>
    Effect.gen(function* () {
      const transport = fakeTransport(queue(json(200, { ok: true }, { "x-thing": "1" })))
      const answer = yield* forward({ ...get, headers: { authorization: "Bearer caller", "x-api-key": "caller" } }).pipe(
        Effect.provide(staticLayer(transport))
      )
      expect(answer.status).toBe(200)
      expect(answer.headers["x-thing"]).toBe("1")
      expect(JSON.parse(yield* text(answer.body))).toEqual({ ok: true })
      expect(transport.requests[0]!.headers.authorization).toBe("Bearer tok")
      expect(transport.requests[0]!.headers["x-api-key"]).toBe("key")
      expect(transport.requests[0]!.headers["x-request-id"]).toBe(answer.requestId)
    })
  )

  it.effect("the last non-2xx answer is returned, not failed, when attempts run out", () =>
    Effect.gen(function* () {
      const transport = fakeTransport(queue(json(503, { m: 1 }), json(503, { m: 2 }), json(503, { m: 3 })))
      const answer = yield* forward(get).pipe(
        Effect.provide(staticLayer(transport)),
        Effect.provideService(Retry.CurrentRetryPolicy, { ...Retry.defaultPolicy, maxAttempts: 3 }),
        drive
      )
      expect(answer.status).toBe(503)
      expect(answer.attempts).toBe(3)
      expect(JSON.parse(yield* text(answer.body))).toEqual({ m: 3 })
    })
  )

  it.effect("with a deadline, a 429 is retried after Retry-After past maxAttempts while the deadline allows", () =>
    Effect.gen(function* () {
      const replies = [...Array.from({ length: 6 }, () => json(429, [{ message: "slow down" }], { "retry-after": "1" })), json(200, {})]
      const transport = fakeTransport(queue(...replies))
      const delays: Array<number> = []
      const answer = yield* forward(get).pipe(
        Effect.provide(staticLayer(transport)),
        Effect.provideService(Retry.CurrentRetryPolicy, { ...Retry.defaultPolicy, maxAttempts: 2 }),
        Retry.withDeadline("30 seconds"),
        (effect) => drive(effect, delays)
      )
      expect(answer.status).toBe(200)
      expect(transport.requests).toHaveLength(7)
      for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(1000)
    })
  )

  it.effect("a deadline too close for the server's Retry-After returns the 429 at once", () =>
    Effect.gen(function* () {
      const transport = fakeTransport(queue(json(429, [{ message: "slow down" }], { "retry-after": "5" })))
      const answer = yield* forward(get).pipe(Effect.provide(staticLayer(transport)), Retry.withDeadline("2 seconds"), drive)
      expect(answer.status).toBe(429)
      expect(transport.requests).toHaveLength(1)
    })
  )

  it.effect("a request's own fault (4xx) and a non-idempotent write are not retried", () =>
    Effect.gen(function* () {
      const transport = fakeTransport(queue(json(400, { m: "bad" }), json(503, {}), json(503, {}), json(503, {})))
      const layer = staticLayer(transport)
      const bad = yield* forward({ method: "POST", pathAndQuery: "/data/core/ups/access/entities", headers: {}, body: new Uint8Array([123]) }).pipe(
        Effect.provide(layer),
        drive
      )
      expect(bad.status).toBe(400)
      const patch = yield* forward({ method: "PATCH", pathAndQuery: "/data/core/ups/config/mergePolicies/x", headers: {}, body: new Uint8Array([91, 93]) }).pipe(
        Effect.provide(layer),
        drive
      )
      expect(patch.status).toBe(503)
      expect(transport.requests).toHaveLength(2)
      // PUT is idempotent in HTTP: retried.
      const put = yield* forward({ method: "PUT", pathAndQuery: "/data/core/ups/config/mergePolicies/x", headers: {}, body: new Uint8Array([123, 125]) }).pipe(
        Effect.provide(layer),
        Effect.provideService(Retry.CurrentRetryPolicy, { ...Retry.defaultPolicy, maxAttempts: 2 }),
        drive
      )
      expect(put.status).toBe(503)
      expect(transport.requests).toHaveLength(4)
    })
  )

  it.effect("a 401 invalidates the token and the request is sent once more; no answer at all is a TransportError", () =>
    Effect.gen(function* () {
      const transport = fakeTransport(queue(transportFailure(), transportFailure()))
      const failure = yield* forward(get).pipe(
        Effect.provide(staticLayer(transport)),
        Effect.provideService(Retry.CurrentRetryPolicy, { ...Retry.defaultPolicy, maxAttempts: 2 }),
        drive,
        Effect.flip
      )
      expect(failure._tag).toBe("TransportError")
      const again = fakeTransport(queue(empty(401)))
      // A static token cannot be refreshed: the 401 comes back as the answer.
      const answer = yield* forward(get).pipe(Effect.provide(staticLayer(again)), drive)
      expect(answer.status).toBe(401)
      expect(again.requests).toHaveLength(1)
    })
  )
})

describe("ProfileLookup: a failed batch is split", () => {
  it.effect("one identity that fails the batch fails only its own lookup", () =>
    Effect.gen(function* () {
      const responder: Responder = (request) => {
        const ids = (request.json as { identities: ReadonlyArray<{ entityId: string }> }).identities.map((i) => i.entityId)
        if (ids.includes("bad@example.com")) return json(422, { message: "cannot process" })
        return json(
          200,
          Object.fromEntries(
            ids.map((id) => [`X-${id}`, { entityId: `X-${id}`, sources: ["1"], entity: { identities: [{ id, namespace: { code: "email" } }] } }])
          )
        )
      }
      const transport = fakeTransport(responder)
      const layer = ProfileLookup.layer({ window: "10 millis" }).pipe(Layer.provideMerge(staticLayer(transport)))
      const ids = ["a", "b", "bad", "c", "d"].map((name) => Identity.make("email", `${name}@example.com`))
      const results = yield* Effect.forEach(
        ids,
        (identity) => Effect.either(Effect.flatMap(ProfileLookup.ProfileLookup, (lookups) => lookups.lookup(identity))),
        { concurrency: "unbounded" }
      ).pipe(Effect.provide(layer), drive)
      expect(results.map((result) => result._tag)).toEqual(["Right", "Right", "Left", "Right", "Right"])
    })
  )
})
