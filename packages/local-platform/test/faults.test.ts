/**
 * Fault injection: rule parsing, and the core's retry and auth layers end to
 * end against a service that misbehaves on purpose.
 */
import { HttpClientRequest } from "@effect/platform"
import { describe, expect, it, layer as serviceLayer } from "@effect/vitest"
import { AccessToken, ProfileClient, Retry } from "@rtcp/core"
import { Duration, Effect, Layer, Metric } from "effect"
import * as Faults from "../src/Faults.js"
import { http, layer } from "./support/harness.js"

/** Retries with tiny backoff windows, so tests only wait for what the server asks. */
const quick: Retry.RetryPolicy = { maxAttempts: 5, baseDelay: "5 millis", maxDelay: "20 millis", maxRetryAfter: "5 seconds" }
const withRetries = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provideService(effect, Retry.CurrentRetryPolicy, quick)
const withoutRetries = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provideService(effect, Retry.CurrentRetryPolicy, Retry.none)

const POLICIES = "/data/core/ups/config/mergePolicies"

const configure = (...rules: ReadonlyArray<string>) =>
  Effect.flatMap(Faults.FaultInjector, (faults) => faults.configure({ rules }))

const ruleState = (index = 0) => Effect.map(Effect.flatMap(Faults.FaultInjector, (f) => f.snapshot), (s) => s.rules[index]!)

const raw = (method: "GET" | "PUT" | "DELETE", url: string, body?: string, contentType = "application/json") =>
  Effect.gen(function* () {
    const client = yield* http
    let request = HttpClientRequest.make(method)(url)
    if (body !== undefined) request = HttpClientRequest.bodyText(request, body, contentType)
    const response = yield* client.execute(request)
    const text = yield* response.text
    return { status: response.status, headers: response.headers, body: text === "" ? undefined : (JSON.parse(text) as any) }
  })

describe("fault rules", () => {
  it("parses method, path, action and options", () => {
    expect(Faults.parseRule("GET /data/core/ups/access/entities 429 retry-after=2 times=3")).toMatchObject({
      method: "GET",
      path: "/data/core/ups/access/entities",
      action: "429",
      retryAfterMs: 2000,
      times: 3,
      probability: 1
    })
    expect(Faults.parseRule("  post   /x  503  p=25%  retry-after=500ms ")).toMatchObject({
      method: "POST",
      action: "503",
      probability: 0.25,
      retryAfterMs: 500,
      text: "post /x 503 p=25% retry-after=500ms"
    })
    expect(Faults.parseRule("/data/** latency delay=1.5s")).toMatchObject({ method: undefined, action: "latency", delayMs: 1500 })
    expect(Faults.parseRule("* /x slow chunk=4 every=10ms")).toMatchObject({ method: undefined, chunkBytes: 4, everyMs: 10 })
    expect(Faults.parseRule("DELETE /x drop p=0.5 times=1")).toMatchObject({ action: "drop", probability: 0.5, times: 1 })
    expect(Faults.parseRule("GET /x expire-tokens")).toMatchObject({ action: "expire-tokens", times: undefined })
    // 429 says when to come back even when not asked; 503 only when asked.
    expect(Faults.parseRule("GET /x 429").retryAfterMs).toBe(1000)
    expect(Faults.parseRule("GET /x 503").retryAfterMs).toBeUndefined()
  })

  it("says what is wrong with a rule", () => {
    const message = (rule: string) => {
      try {
        Faults.parseRule(rule)
      } catch (error) {
        expect(error).toBeInstanceOf(Faults.FaultRuleError)
        return (error as Error).message
      }
      throw new Error(`"${rule}" should not parse`)
    }
    expect(message("")).toMatch(/empty rule/)
    expect(message("FETCH /x 429")).toMatch(/"FETCH" is not a method/)
    expect(message("GET x 429")).toMatch(/path starting with "\/"/)
    expect(message("GET /x")).toMatch(/missing action/)
    expect(message("GET /x 404")).toMatch(/unknown action "404"/)
    expect(message("GET /x 429 times=0")).toMatch(/times must be a whole number/)
    expect(message("GET /x 429 times=1.5")).toMatch(/times must be a whole number/)
    expect(message("GET /x 429 p=2")).toMatch(/probability from 0 to 1/)
    expect(message("GET /x drop retry-after=1")).toMatch(/retry-after only applies to 429 and 503/)
    expect(message("GET /x 429 retry-after=soon")).toMatch(/retry-after must be seconds/)
    expect(message("GET /x 500 chunk=4")).toMatch(/chunk only applies to slow/)
    expect(message("GET /x latency")).toMatch(/latency needs delay/)
    expect(message("GET /x 429 3")).toMatch(/"3" is not an option/)
    expect(message("GET /x 429 colour=red")).toMatch(/unknown option "colour"/)
  })

  it("durations", () => {
    expect(Faults.parseDuration("50ms")).toBe(50)
    expect(Faults.parseDuration("2s")).toBe(2000)
    expect(Faults.parseDuration("1m")).toBe(60_000)
    expect(Faults.parseDuration("200")).toBe(200)
    expect(Faults.parseDuration("2", "s")).toBe(2000)
    expect(Faults.parseDuration("fast")).toBeUndefined()
  })

  it("matches paths by prefix or glob, ignoring the query and trailing slashes", () => {
    expect(Faults.pathMatches("/data/core/ups/access/entities", "/data/core/ups/access/entities?schema.name=x")).toBe(true)
    expect(Faults.pathMatches("/data/core/ups/access/entities", "/data/core/ups/access/entities/")).toBe(true)
    expect(Faults.pathMatches("/data/core/ups/config", "/data/core/ups/config/mergePolicies/1")).toBe(true)
    expect(Faults.pathMatches("/data/core/ups/config", "/data/core/ups/configuration")).toBe(false)
    expect(Faults.pathMatches("/", "/anything")).toBe(true)
    expect(Faults.pathMatches("/data/core/ups/config/*", "/data/core/ups/config/mergePolicies")).toBe(true)
    expect(Faults.pathMatches("/data/core/ups/config/*", "/data/core/ups/config/mergePolicies/1")).toBe(false)
    expect(Faults.pathMatches("/data/core/ups/config/*/bulk-get", "/data/core/ups/config/mergePolicies/bulk-get")).toBe(true)
    expect(Faults.pathMatches("/data/**", "/data/core/ca/attributes/1")).toBe(true)
    expect(Faults.pathMatches("/data/core/*.json", "/data/core/axjson")).toBe(false)
    const rule = Faults.parseRule("POST /x 503")
    expect(Faults.ruleMatches(rule, "post", "/x")).toBe(true)
    expect(Faults.ruleMatches(rule, "GET", "/x")).toBe(false)
  })

  it.effect("counts calls, stops after times, and repeats its dice with a seed", () =>
    Effect.gen(function* () {
      const fates = (seed: number) =>
        Effect.gen(function* () {
          const injector = yield* Faults.make({ rules: ["GET /x 503 p=0.5"], seed }, { expireTokens: Effect.void })
          const plans = yield* Effect.forEach(Array.from({ length: 32 }), () => injector.decide("GET", "/x"))
          return plans.map((plan) => plan.answer !== undefined)
        })
      const first = yield* fates(42)
      expect(yield* fates(42)).toEqual(first)
      expect(first.filter(Boolean).length).toBeGreaterThan(4)
      expect(first.filter(Boolean).length).toBeLessThan(28)
      expect(yield* fates(7)).not.toEqual(first)

      const injector = yield* Faults.make(
        { rules: ["GET /x latency delay=5ms", "GET /x 429 times=2", "GET /x 500"], latency: "1ms" },
        { expireTokens: Effect.void }
      )
      const plans = yield* Effect.forEach([1, 2, 3], () => injector.decide("GET", "/x?q=1"))
      expect(plans.map((p) => p.answer && p.answer._tag === "Status" && p.answer.status)).toEqual([429, 429, 500])
      expect(plans.map((p) => p.delayMs)).toEqual([6, 6, 6])
      const snapshot = yield* injector.snapshot
      expect(snapshot.rules.map((r) => [r.matched, r.fired, r.remaining])).toEqual([
        [3, 3, null],
        [3, 2, 0],
        [1, 1, null]
      ])
      expect((yield* injector.decide("POST", "/x")).answer).toBeUndefined()
      const error = yield* Effect.flip(injector.configure({ rules: ["GET /x 600"] }))
      expect(error.message).toMatch(/unknown action "600"/)
    })
  )
})

describe("the core against injected faults", () => {
  // The live clock: the core's backoff, Retry-After and injected latency really wait.
  const live = { excludeTestServices: true } as const
  // Sibling `it.layer`s in one file otherwise share module-level layers (the
  // same NodeHttpServer.layerTest server): each service here is its own.
  const own = Layer.fresh

  serviceLayer(own(layer({ admin: true })), live)((it) => {
    it.effect("a 429 storm with Retry-After is retried until it passes", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        yield* configure(`GET ${POLICIES} 429 retry-after=1 times=1`)
        const limited = yield* Effect.flip(withoutRetries(client.listMergePolicies()))
        expect(limited._tag).toBe("RateLimited")
        expect(limited._tag === "RateLimited" && limited.retryAfter && Duration.toMillis(limited.retryAfter)).toBe(1000)
        expect(limited.body).toEqual([
          { message: "Too many requests", cause: '{"Errors":["Request rate is large"]}', retryAfterMs: "1000", statusCode: "429" }
        ])

        yield* configure(`GET ${POLICIES} 429 retry-after=1 times=2`)
        const page = yield* withRetries(client.listMergePolicies())
        expect(page.children.length).toBeGreaterThan(0)
        expect(yield* ruleState()).toMatchObject({ matched: 3, fired: 2, remaining: 0 })
      })
    )

    it.effect("a burst of 503s is retried until it passes", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        yield* configure(`GET ${POLICIES} 503 times=3`)
        const page = yield* withRetries(client.listMergePolicies())
        expect(page.children.length).toBeGreaterThan(0)
        expect(yield* ruleState()).toMatchObject({ matched: 4, fired: 3, remaining: 0 })
      })
    )

    it.effect("500 and 502 carry AEP's bodies and are retried too", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        yield* configure(`GET ${POLICIES} 500 times=1`, `GET ${POLICIES} 502 times=1`)
        const first = yield* Effect.flip(withoutRetries(client.listMergePolicies()))
        expect(first).toMatchObject({ _tag: "ServerError", status: 500, body: { message: "Unable to connect to server", statusCode: "500" } })
        const second = yield* Effect.flip(withoutRetries(client.listMergePolicies()))
        expect(second).toMatchObject({ _tag: "ServerError", status: 502, body: { statusCode: "502" } })
        yield* configure(`GET ${POLICIES} 500 times=1`, `GET ${POLICIES} 502 times=1`)
        yield* withRetries(client.listMergePolicies())
      })
    )

    it.effect("a dropped connection is a TransportError, and retried", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        yield* configure(`GET ${POLICIES} drop times=2`)
        const dropped = yield* Effect.flip(withoutRetries(client.listMergePolicies()))
        expect(dropped._tag).toBe("TransportError")
        expect(dropped.status).toBe(0)
        const page = yield* withRetries(client.listMergePolicies())
        expect(page.children.length).toBeGreaterThan(0)
        expect(yield* ruleState()).toMatchObject({ matched: 3, fired: 2, remaining: 0 })
      })
    )

    it.effect("a POST that is not idempotent is not retried on 503", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        yield* configure(`POST ${POLICIES} 503 times=3`)
        const failed = yield* Effect.flip(
          withRetries(
            client.createMergePolicy({
              name: "never created",
              schema: { name: "_xdm.context.profile" },
              identityGraph: { type: "none" },
              attributeMerge: { type: "timestampOrdered" }
            })
          )
        )
        expect(failed).toMatchObject({ _tag: "ServerError", status: 503 })
        // Called once: the fault fired once and has two 503s left.
        expect(yield* ruleState()).toMatchObject({ matched: 1, fired: 1, remaining: 2 })
        const names = (yield* client.listMergePolicies()).children.map((p) => p.name)
        expect(names).not.toContain("never created")
      })
    )

    it.effect("tokens expired early: the core fetches a new token once and succeeds", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        yield* configure()
        yield* client.listMergePolicies() // a valid token is cached
        const before = (yield* Metric.value(AccessToken.refreshes)).count
        yield* configure(`GET ${POLICIES} expire-tokens times=1`, "POST /ims/token/v3 latency delay=0ms")
        const page = yield* withoutRetries(client.listMergePolicies())
        expect(page.children.length).toBeGreaterThan(0)
        expect((yield* Metric.value(AccessToken.refreshes)).count - before).toBe(1)
        expect(yield* ruleState(0)).toMatchObject({ matched: 2, fired: 1 })
        // One call to IMS: the refresh.
        expect(yield* ruleState(1)).toMatchObject({ matched: 1 })
      })
    )

    it.effect("slow bodies and latency still deliver the whole answer", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        yield* configure()
        const expected = yield* client.listMergePolicies()
        const faults = yield* Faults.FaultInjector
        yield* faults.configure({ rules: [`GET ${POLICIES} slow chunk=7 every=1ms`], latency: "5ms" })
        expect(yield* client.listMergePolicies()).toEqual(expected)
        expect(yield* ruleState()).toMatchObject({ fired: 1 })
      })
    )

    it.effect("the admin endpoint shows, replaces and clears the rules", () =>
      Effect.gen(function* () {
        yield* configure()
        const put = yield* raw("PUT", "/rtcp/admin/faults", JSON.stringify({ rules: [`GET ${POLICIES} 503 times=2`], latency: 10, seed: 7 }))
        expect(put.status).toBe(200)
        expect(put.body).toMatchObject({ latencyMs: 10, seed: 7, rules: [{ action: "503", times: 2, remaining: 2, matched: 0 }] })

        const client = yield* ProfileClient.ProfileClient
        const failed = yield* Effect.flip(withoutRetries(client.listMergePolicies()))
        expect(failed.status).toBe(503)
        const got = yield* raw("GET", "/rtcp/admin/faults")
        expect(got.body.rules[0]).toMatchObject({ matched: 1, fired: 1, remaining: 1 })

        const text = yield* raw("PUT", "/rtcp/admin/faults", `# one rule per line\nGET ${POLICIES} 429 times=1\n\n* /x drop`, "text/plain")
        expect(text.body.rules.map((r: any) => r.rule)).toEqual([`GET ${POLICIES} 429 times=1`, "* /x drop"])

        const invalid = yield* raw("PUT", "/rtcp/admin/faults", JSON.stringify({ rules: ["GET /x teapot"] }))
        expect(invalid.status).toBe(400)
        expect(invalid.body.detail).toMatch(/unknown action "teapot"/)
        expect((yield* raw("GET", "/rtcp/admin/faults")).body.rules).toHaveLength(2)

        expect((yield* raw("DELETE", "/rtcp/admin/faults")).status).toBe(204)
        expect((yield* raw("GET", "/rtcp/admin/faults")).body).toMatchObject({ latencyMs: 0, rules: [] })
        yield* client.listMergePolicies()
      })
    )

    it.effect("faults never touch the admin endpoint", () =>
      Effect.gen(function* () {
        yield* configure("* / 503")
        expect((yield* raw("GET", "/rtcp/admin/faults")).status).toBe(200)
        expect((yield* raw("DELETE", "/rtcp/admin/faults")).status).toBe(204)
      })
    )
  })

  serviceLayer(own(layer({ faults: { rules: [`GET ${POLICIES} 503 times=1`] } })), live)((it) => {
    it.effect("rules given at start apply, and there is no admin endpoint without admin", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        expect((yield* Effect.flip(withoutRetries(client.listMergePolicies()))).status).toBe(503)
        yield* withoutRetries(client.listMergePolicies())
        expect((yield* raw("GET", "/rtcp/admin/faults")).status).toBe(404)
        expect((yield* raw("PUT", "/rtcp/admin/faults", "[]")).status).toBe(404)
      })
    )
  })

  serviceLayer(own(layer()), live)((it) => {
    it.effect("by default: no faults and no admin endpoint", () =>
      Effect.gen(function* () {
        expect((yield* raw("GET", "/rtcp/admin/faults")).status).toBe(404)
        expect((yield* raw("DELETE", "/rtcp/admin/faults")).status).toBe(404)
        // Rules set on the injector do nothing when the middleware is not installed.
        yield* configure(`GET ${POLICIES} 503`)
        const client = yield* ProfileClient.ProfileClient
        yield* withoutRetries(client.listMergePolicies())
      })
    )
  })
})
