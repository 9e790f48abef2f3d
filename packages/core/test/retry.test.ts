import { describe, expect, it } from "@effect/vitest"
import { Identity, MergePolicy, ProfileClient, ProfileError, Retry } from "@rtcp/core"
import { Duration, Effect, Exit, Fiber, Random, TestClock } from "effect"
import { awaitSleep, drive, settle } from "./support/clock.js"
import {
  empty,
  fakeTransport,
  json,
  queue,
  type Reply,
  staticLayer,
  transportFailure
} from "./support/fakeTransport.js"
import { fixture } from "./support/fixtures.js"

const jane = Identity.make("email", "janedoe@example.com")
const profileOk = () => json(200, fixture("entities/get-profile.json"))
const serverError = (status: number) => json(status, fixture("entities/error-500.json"))

/** Runs `f` against a ProfileClient over a queue of replies. */
const run = <A>(
  replies: ReadonlyArray<Reply>,
  f: (client: ProfileClient.ProfileClientService) => Effect.Effect<A, ProfileError.ProfileError>
) => {
  const transport = fakeTransport(queue(...replies))
  const call = Effect.flatMap(ProfileClient.ProfileClient, f).pipe(Effect.provide(staticLayer(transport)))
  return { transport, call }
}

const windowFor = (attempt: number) =>
  Math.min(
    Duration.toMillis(Retry.defaultPolicy.maxDelay),
    Duration.toMillis(Retry.defaultPolicy.baseDelay) * 2 ** (attempt - 1)
  )

describe("Retry.delayFor", () => {
  const error = new ProfileError.ServerError({ status: 503, message: "503" })

  it.effect("full jitter: 0 <= delay < window, windows double per attempt and stop at maxDelay", () =>
    Effect.gen(function* () {
      for (let attempt = 1; attempt <= 12; attempt++) {
        const window = windowFor(attempt)
        let highest = 0
        for (let seed = 0; seed < 100; seed++) {
          const delay = yield* Retry.delayFor(Retry.defaultPolicy, attempt, error).pipe(
            Effect.withRandom(Random.make(seed))
          )
          const ms = Duration.toMillis(delay)
          expect(ms).toBeGreaterThanOrEqual(0)
          expect(ms).toBeLessThan(window)
          highest = Math.max(highest, ms)
        }
        // Uniform over the window: 100 draws reach well into its top half.
        expect(highest).toBeGreaterThan(window / 2)
      }
      expect([1, 2, 3, 4, 5].map(windowFor)).toEqual([200, 400, 800, 1600, 3200])
      expect(windowFor(12)).toBe(20_000)
    })
  )

  it.effect("is deterministic for a fixed Random", () =>
    Effect.gen(function* () {
      const once = () => Retry.delayFor(Retry.defaultPolicy, 3, error).pipe(Effect.withRandom(Random.make("seed")))
      expect(Duration.toMillis(yield* once())).toBe(Duration.toMillis(yield* once()))
    })
  )

  it.effect("a server hint is a floor", () =>
    Effect.gen(function* () {
      const limited = new ProfileError.RateLimited({ status: 429, message: "429", retryAfter: Duration.seconds(5) })
      for (let seed = 0; seed < 20; seed++) {
        const delay = yield* Retry.delayFor(Retry.defaultPolicy, 1, limited).pipe(Effect.withRandom(Random.make(seed)))
        expect(Duration.toMillis(delay)).toBe(5_000)
      }
      const late = yield* Retry.delayFor(Retry.defaultPolicy, 12, limited).pipe(Effect.withRandom(Random.make(1)))
      expect(Duration.toMillis(late)).toBeGreaterThanOrEqual(5_000)
      expect(Duration.toMillis(late)).toBeLessThan(20_000)
    })
  )
})

describe("retries through the client", () => {
  it.effect("backoff between attempts stays inside the growing windows", () =>
    Effect.gen(function* () {
      for (const seed of [1, 2, 3, 42]) {
        const { call, transport } = run(
          [serverError(503), serverError(503), serverError(503), serverError(503), profileOk()],
          (client) => client.getProfile(jane)
        )
        const delays: Array<number> = []
        yield* drive(call, delays).pipe(Effect.withRandom(Random.make(seed)))
        expect(transport.requests).toHaveLength(5)
        expect(delays).toHaveLength(4)
        delays.forEach((delay, i) => {
          expect(delay).toBeGreaterThanOrEqual(0)
          expect(delay).toBeLessThan(windowFor(i + 1))
        })
      }
    })
  )

  it.effect("Retry-After: 2 is honoured: no second request before 2 s, one right after", () =>
    Effect.gen(function* () {
      const { call, transport } = run(
        [json(429, fixture("entities/error-429.json"), { "retry-after": "2" }), profileOk()],
        (client) => client.getProfile(jane)
      )
      const fiber = yield* Effect.fork(call)
      expect(yield* awaitSleep).toBe(2_000)
      expect(transport.requests).toHaveLength(1)
      yield* TestClock.adjust("1999 millis")
      yield* settle
      expect(transport.requests).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      const profile = yield* Fiber.join(fiber)
      expect(profile.entityId).toBe("BVrqzwVv7o2p3naHvnsWpqZXv3KJgA")
      expect(transport.requests).toHaveLength(2)
    })
  )

  it.effect("AEP's 429 array body retryAfterMs is honoured", () =>
    Effect.gen(function* () {
      const body = fixture("entities/error-429.json")
      body[0].retryAfterMs = "1500"
      const { call, transport } = run([json(429, body), profileOk()], (client) => client.getProfile(jane))
      const fiber = yield* Effect.fork(call)
      expect(yield* awaitSleep).toBe(1_500)
      yield* TestClock.adjust("1499 millis")
      yield* settle
      expect(transport.requests).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(fiber)
      expect(transport.requests).toHaveLength(2)
    })
  )

  it.effect("an empty 429 body is still retried", () =>
    Effect.gen(function* () {
      const { call, transport } = run([empty(429), profileOk()], (client) => client.getProfile(jane))
      yield* drive(call)
      expect(transport.requests).toHaveLength(2)
    })
  )

  for (const status of [500, 502, 503, 504, 408]) {
    it.effect(`${status} is retried`, () =>
      Effect.gen(function* () {
        const { call, transport } = run([serverError(status), profileOk()], (client) => client.getProfile(jane))
        const profile = yield* drive(call)
        expect(profile.entityId).toBe("BVrqzwVv7o2p3naHvnsWpqZXv3KJgA")
        expect(transport.requests).toHaveLength(2)
      })
    )
  }

  it.effect("a transport failure is retried", () =>
    Effect.gen(function* () {
      const { call, transport } = run([transportFailure(), transportFailure(), profileOk()], (client) =>
        client.getProfile(jane)
      )
      yield* drive(call)
      expect(transport.requests).toHaveLength(3)
    })
  )

  for (const [status, tag, body] of [
    [400, "BadRequest", "entities/error-400.json"],
    [404, "NotFound", "entities/error-404.json"],
    [422, "Unprocessable", "entities/error-422.json"]
  ] as const) {
    it.effect(`${status} is not retried`, () =>
      Effect.gen(function* () {
        const { call, transport } = run([json(status, fixture(body))], (client) => client.getProfile(jane))
        const error = yield* Effect.flip(drive(call))
        expect(error._tag).toBe(tag)
        expect(transport.requests).toHaveLength(1)
      })
    )
  }

  it.effect("maxAttempts caps the attempts and the last error is returned", () =>
    Effect.gen(function* () {
      const { call, transport } = run(
        [
          json(500, { message: "first" }),
          json(502, { message: "second" }),
          json(503, { message: "third" }),
          profileOk()
        ],
        (client) => client.getProfile(jane)
      )
      const error = yield* Effect.flip(
        drive(call).pipe(Effect.provideService(Retry.CurrentRetryPolicy, { ...Retry.defaultPolicy, maxAttempts: 3 }))
      )
      expect(transport.requests).toHaveLength(3)
      expect(error._tag).toBe("ServerError")
      expect(error.status).toBe(503)
      expect(error.body).toEqual({ message: "third" })
    })
  )

  it.effect("the default policy makes 5 attempts", () =>
    Effect.gen(function* () {
      const { call, transport } = run(
        [1, 2, 3, 4, 5].map(() => serverError(503)),
        (client) => client.getProfile(jane)
      )
      const error = yield* Effect.flip(drive(call))
      expect(error._tag).toBe("ServerError")
      expect(transport.requests).toHaveLength(5)
    })
  )

  const mergePolicyInput = fixture<MergePolicy.MergePolicyInput>("merge-policies/create-request.json")

  const unsafe: ReadonlyArray<
    readonly [string, (client: ProfileClient.ProfileClientService) => Effect.Effect<unknown, ProfileError.ProfileError>]
  > = [
    ["POST createMergePolicy", (client) => client.createMergePolicy(mergePolicyInput)],
    ["POST createSystemJob", (client) => client.createSystemJob(fixture("system-jobs/create-dataset-request.json"))],
    ["POST deleteBatchFromProfile", (client) => client.deleteBatchFromProfile("66a92c5910df2d1767de13f3", "01JF")],
    ["POST createExportJob", (client) => client.createExportJob(fixture("export-jobs/create-request.json"))],
    [
      "POST createComputedAttribute",
      (client) => client.createComputedAttribute(fixture("computed-attributes/create-request.json"))
    ],
    ["PATCH patchMergePolicy", (client) => client.patchMergePolicy("e5bc94de", fixture("merge-policies/patch-request.json"))],
    [
      "PATCH patchComputedAttribute",
      (client) => client.patchComputedAttribute("1e8d0d77", fixture("computed-attributes/patch-request.json"))
    ]
  ]
  for (const [name, f] of unsafe) {
    it.effect(`${name} is never retried (not idempotent)`, () =>
      Effect.gen(function* () {
        for (const reply of [serverError(503), empty(429), transportFailure()]) {
          const { call, transport } = run([reply], f)
          const exit = yield* Effect.exit(drive(call))
          expect(Exit.isFailure(exit)).toBe(true)
          expect(transport.requests).toHaveLength(1)
        }
      })
    )
  }

  it.effect("POST /access/entities (getProfiles) is retried: it only reads", () =>
    Effect.gen(function* () {
      const { call, transport } = run([serverError(503), json(200, fixture("entities/post-profiles.json"))], (client) =>
        client.getProfiles([jane])
      )
      yield* drive(call)
      expect(transport.requests.map((request) => request.method)).toEqual(["POST", "POST"])
      expect(transport.requests[0]!.path).toBe("/data/core/ups/access/entities")
    })
  )

  it.effect("POST bulk-get is retried: it only reads", () =>
    Effect.gen(function* () {
      const { call, transport } = run(
        [transportFailure(), json(207, fixture("merge-policies/bulk-get-response.json"))],
        (client) => client.bulkGetMergePolicies(["0bf16e61-90e9-4204-b8fa-ad250360957b"])
      )
      const result = yield* drive(call)
      expect(Object.keys(result.results)).toHaveLength(2)
      expect(transport.requests).toHaveLength(2)
      expect(transport.requests[1]!.path).toBe("/data/core/ups/config/mergePolicies/bulk-get")
    })
  )

  it.effect("PUT and DELETE are retried (idempotent)", () =>
    Effect.gen(function* () {
      const put = run([serverError(502), json(200, fixture("merge-policies/put-response.json"))], (client) =>
        client.replaceMergePolicy("e5bc94de-cd14-4cdf-a2bc-88b6e8cbfac2", mergePolicyInput)
      )
      yield* drive(put.call)
      expect(put.transport.requests.map((request) => request.method)).toEqual(["PUT", "PUT"])
      const del = run([serverError(504), empty(200)], (client) => client.deleteSystemJob("9c2018e2"))
      yield* drive(del.call)
      expect(del.transport.requests.map((request) => request.method)).toEqual(["DELETE", "DELETE"])
    })
  )

  it.effect("the policy is replaceable: Retry.none makes one attempt", () =>
    Effect.gen(function* () {
      const { call, transport } = run([serverError(503), profileOk()], (client) => client.getProfile(jane))
      const error = yield* Effect.flip(drive(call).pipe(Effect.provideService(Retry.CurrentRetryPolicy, Retry.none)))
      expect(error._tag).toBe("ServerError")
      expect(transport.requests).toHaveLength(1)
    })
  )

  it.effect("a Retry-After beyond maxRetryAfter goes to the caller at once", () =>
    Effect.gen(function* () {
      const { call, transport } = run(
        [json(429, fixture("entities/error-429.json"), { "retry-after": "120" }), profileOk()],
        (client) => client.getProfile(jane)
      )
      const delays: Array<number> = []
      const error = yield* Effect.flip(drive(call, delays))
      expect(error._tag).toBe("RateLimited")
      expect(error._tag === "RateLimited" && error.retryAfter && Duration.toMillis(error.retryAfter)).toBe(120_000)
      expect(delays).toEqual([])
      expect(transport.requests).toHaveLength(1)
    })
  )

  it.effect("a 503 with Retry-After waits as asked", () =>
    Effect.gen(function* () {
      const { call, transport } = run([empty(503, { "retry-after": "3" }), profileOk()], (client) =>
        client.getProfile(jane)
      )
      const delays: Array<number> = []
      yield* drive(call, delays)
      expect(delays).toEqual([3_000])
      expect(transport.requests).toHaveLength(2)
    })
  )
})
