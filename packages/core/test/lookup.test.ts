import { describe, expect, it } from "@effect/vitest"
import { Identity, Platform, ProfileLookup, Retry } from "@rtcp/core"
import { Effect, Either, Fiber, Layer, TestClock } from "effect"
import { drive } from "./support/clock.js"
import { always, fakeTransport, json, type RecordedRequest, type Responder, staticLayer } from "./support/fakeTransport.js"
import { fixture } from "./support/fixtures.js"

interface RequestedIdentity {
  readonly entityId: string
  readonly entityIdNS?: { readonly code: string }
}

const requested = (request: RecordedRequest): ReadonlyArray<RequestedIdentity> =>
  (request.json as { identities: ReadonlyArray<RequestedIdentity> }).identities

/**
 * POST /access/entities as AEP answers it: one merged entity per requested
 * identity, keyed by a (fake) XID, listing that identity in
 * `entity.identities`; an unknown identity gets AEP's placeholder entity.
 */
const entities =
  (unknown: ReadonlySet<string> = new Set()): Responder =>
  (request) => {
    if (request.method !== "POST" || request.path !== "/data/core/ups/access/entities") {
      return json(404, fixture("entities/error-404.json"))
    }
    const answer: Record<string, unknown> = {}
    for (const identity of requested(request)) {
      const namespace = identity.entityIdNS?.code
      const xid = `XID-${namespace ?? "xid"}-${identity.entityId}`
      answer[xid] = unknown.has(identity.entityId)
        ? { entityId: xid, sources: [""], entity: {}, lastModifiedAt: "1970-01-01T00:00:00Z" }
        : {
            entityId: xid,
            sources: ["1000000000"],
            entity: {
              identities: namespace ? [{ id: identity.entityId, namespace: { code: namespace.toLowerCase() } }] : [],
              person: { name: { firstName: `name of ${identity.entityId}` } }
            },
            lastModifiedAt: "2018-08-28T20:57:24Z"
          }
    }
    return json(200, answer)
  }

const setup = (options: ProfileLookup.Options = { maxBatchSize: 100 }, responder: Responder = entities()) => {
  const transport = fakeTransport(responder)
  const layer = ProfileLookup.layer(options).pipe(Layer.provideMerge(staticLayer(transport)))
  const lookup = (identity: Identity.Identity, lookupOptions?: ProfileLookup.LookupOptions) =>
    Effect.flatMap(ProfileLookup.ProfileLookup, (service) => service.lookup(identity, lookupOptions))
  return { transport, layer, lookup }
}

/**
 * Today ProfileLookup only batches when the caller turns Effect's request
 * batching on (see the BUG tests below), so the behaviour tests do.
 */
const batched = { concurrency: "unbounded", batching: true } as const

const emails = (n: number) => Array.from({ length: n }, (_, i) => Identity.make("email", `user${i}@example.com`))

const firstNameOf = (profile: { readonly entity: Record<string, unknown> }) =>
  (profile.entity as { person: { name: { firstName: string } } }).person.name.firstName

describe("ProfileLookup", () => {
  // BUG (src/ProfileLookup.ts): the module promises that "concurrent lookups (from many fibers, many
  // callers of a proxy) are collected by a batched resolver into one POST", but it relies on Effect's
  // request batching, which only groups requests issued inside ONE Effect.all/forEach that passes
  // `batching: true` (the FiberRef default is ignored by forEach unless `batching: "inherit"`); lookups
  // from plain concurrent forEach or from separate fibers each make their own POST (1,000 here). Fix:
  // batch across fibers in ProfileLookup.make, e.g. wrap the resolver with a time window
  // (`RequestResolver.dataLoader(resolver, { window: "5 millis", maxBatchSize })` from
  // @effect/experimental, or a Queue drained with `Queue.takeBetween(1, maxBatchSize)` by a background
  // fiber) so batching no longer depends on how the caller forks. Remove `.fails` once fixed.
  it.effect("1,000 concurrent lookups (Effect.forEach, unbounded): at most 10 upstream calls", () =>
    Effect.gen(function* () {
      const { layer, lookup, transport } = setup({ maxBatchSize: 100 })
      const identities = emails(1_000)
      const profiles = yield* drive(
        Effect.forEach(identities, (identity) => lookup(identity), { concurrency: "unbounded" }).pipe(
          Effect.provide(layer)
        )
      )
      expect(profiles.map(firstNameOf)).toEqual(identities.map((identity) => `name of ${identity.id}`))
      expect(transport.requests.length).toBeLessThanOrEqual(10)
    })
  )

  it.effect("lookups from separate fibers (one per proxy request) share a batch (same bug)", () =>
    Effect.gen(function* () {
      const { layer, lookup, transport } = setup({ maxBatchSize: 100 })
      yield* drive(
        Effect.gen(function* () {
          const fibers = yield* Effect.forEach(emails(50), (identity) => Effect.fork(lookup(identity)))
          yield* Fiber.joinAll(fibers)
        }).pipe(Effect.provide(layer))
      )
      expect(transport.requests.length).toBeLessThanOrEqual(2)
    })
  )

  it.effect("1,000 concurrent lookups with request batching: at most 10 upstream calls, each caller gets its own profile", () =>
    Effect.gen(function* () {
      const { layer, lookup, transport } = setup({ maxBatchSize: 100 })
      const identities = emails(1_000)
      const profiles = yield* drive(
        Effect.forEach(identities, (identity) => lookup(identity), batched).pipe(Effect.provide(layer))
      )
      expect(transport.requests.length).toBeGreaterThanOrEqual(1)
      expect(transport.requests.length).toBeLessThanOrEqual(10)
      for (const request of transport.requests) expect(requested(request).length).toBeLessThanOrEqual(100)
      expect(transport.requests.flatMap(requested)).toHaveLength(1_000)
      profiles.forEach((profile, i) => {
        expect(firstNameOf(profile)).toBe(`name of ${identities[i]!.id}`)
        expect(profile.entityId).toBe(`XID-email-${identities[i]!.id}`)
      })
    })
  )

  it.effect("maxBatchSize splits a batch", () =>
    Effect.gen(function* () {
      const { layer, lookup, transport } = setup({ maxBatchSize: 7 })
      yield* Effect.forEach(emails(20), (identity) => lookup(identity), batched).pipe(Effect.provide(layer), drive)
      expect(transport.requests.map((request) => requested(request).length).sort()).toEqual([6, 7, 7])
    })
  )

  it.effect("duplicate identities are sent once and every caller is answered", () =>
    Effect.gen(function* () {
      const { layer, lookup, transport } = setup()
      const lookups = [
        Identity.make("email", "a@example.com"),
        Identity.make("email", "a@example.com"),
        Identity.make("Email", "a@example.com"),
        Identity.make("email", "b@example.com"),
        Identity.make("email", "a@example.com")
      ]
      const profiles = yield* Effect.forEach(lookups, (identity) => lookup(identity), batched).pipe(Effect.provide(layer), drive)
      expect(transport.requests).toHaveLength(1)
      expect(requested(transport.requests[0]!).map((identity) => identity.entityId).sort()).toEqual([
        "a@example.com",
        "b@example.com"
      ])
      expect(profiles.map(firstNameOf)).toEqual([
        "name of a@example.com",
        "name of a@example.com",
        "name of a@example.com",
        "name of b@example.com",
        "name of a@example.com"
      ])
    })
  )

  it.effect("an unknown identity (AEP's placeholder entity) fails with NotFound, the others succeed", () =>
    Effect.gen(function* () {
      const { layer, lookup, transport } = setup({ maxBatchSize: 100 }, entities(new Set(["ghost@example.com"])))
      const lookups = [...emails(3), Identity.make("email", "ghost@example.com")]
      const results = yield* Effect.forEach(lookups, (identity) => Effect.either(lookup(identity)), batched).pipe(Effect.provide(layer), drive)
      expect(transport.requests).toHaveLength(1)
      expect(results.slice(0, 3).every(Either.isRight)).toBe(true)
      const ghost = results[3]!
      expect(Either.isLeft(ghost) && ghost.left._tag).toBe("NotFound")
    })
  )

  it.effect("Adobe's documented POST answer (with its placeholder) resolves the documented identities", () =>
    Effect.gen(function* () {
      const { layer, lookup } = setup({}, always(json(200, fixture("entities/post-profiles.json"))))
      const [found, missing] = yield* Effect.all(
        [
          lookup(Identity.make("ECID", "89149270342662559642753730269986316601")),
          Effect.either(lookup(Identity.make("ECID", "89149270342662559642753730269986316900")))
        ],
        batched
      ).pipe(Effect.provide(layer), drive)
      expect(found.entityId).toBe("A29cgveD5y64ezlhxjUXNzcm")
      expect(Either.isLeft(missing) && missing.left._tag).toBe("NotFound")
    })
  )

  it.effect("an upstream failure reaches every caller of the batch", () =>
    Effect.gen(function* () {
      const { layer, lookup, transport } = setup({}, always(json(403, fixture("entities/error-403.json"))))
      const results = yield* Effect.forEach(emails(5), (identity) => Effect.flip(lookup(identity)), batched).pipe(Effect.provide(layer), Effect.provideService(Retry.CurrentRetryPolicy, Retry.none), drive)
      expect(transport.requests).toHaveLength(1)
      expect(results.map((error) => error._tag)).toEqual(Array(5).fill("Forbidden"))
      expect(results[0]!.body).toEqual(fixture("entities/error-403.json"))
    })
  )

  describe("the batch's own upstream call", () => {
    const storm = (n: number): Responder => {
      const ok = entities()
      return (request, index) => (index < n ? json(429, fixture("entities/error-429.json"), { "retry-after": "1" }) : ok(request, index))
    }

    it.effect("retries by the lookups' deadline, never sooner than Retry-After, however many attempts that takes", () =>
      Effect.gen(function* () {
        const { layer, lookup, transport } = setup({ window: "1 millis" }, storm(7))
        const delays: Array<number> = []
        const profile = yield* drive(lookup(Identity.make("email", "a@example.com")).pipe(Retry.withDeadline("30 seconds"), Effect.provide(layer)), delays)
        expect(firstNameOf(profile)).toBe("name of a@example.com")
        // Seven 429s: more than the policy's five attempts, each waited out for at least its Retry-After.
        expect(transport.requests).toHaveLength(8)
        expect(delays.filter((ms) => ms >= 1000).length).toBeGreaterThanOrEqual(7)
      })
    )

    it.effect("gives the last 429 back when waiting would pass the deadline", () =>
      Effect.gen(function* () {
        const { layer, lookup, transport } = setup({ window: "1 millis" }, storm(100))
        const error = yield* drive(Effect.flip(lookup(Identity.make("email", "a@example.com")).pipe(Retry.withDeadline("3500 millis"), Effect.provide(layer))))
        expect(error.status).toBe(429)
        expect(transport.requests.length).toBeLessThanOrEqual(4)
      })
    )

    it.effect("without a deadline, keeps the policy's attempt count", () =>
      Effect.gen(function* () {
        const { layer, lookup, transport } = setup({ window: "1 millis" }, storm(100))
        const error = yield* drive(Effect.flip(lookup(Identity.make("email", "a@example.com")).pipe(Effect.provide(layer))))
        expect(error.status).toBe(429)
        expect(transport.requests).toHaveLength(Retry.defaultPolicy.maxAttempts)
      })
    )
  })

  it.effect("different sandboxes go to separate calls with the right x-sandbox-name", () =>
    Effect.gen(function* () {
      const { layer, lookup, transport } = setup()
      const prod = emails(3)
      const dev = [Identity.make("email", "dev1@example.com"), Identity.make("email", "dev2@example.com")]
      yield* Effect.all(
        [
          ...prod.map((identity) => lookup(identity)),
          ...dev.map((identity) => lookup(identity).pipe(Platform.withSandbox("dev")))
        ],
        batched
      ).pipe(Effect.provide(layer), drive)
      expect(transport.requests).toHaveLength(2)
      const bySandbox = Object.fromEntries(
        transport.requests.map((request) => [
          request.headers["x-sandbox-name"],
          requested(request).map((identity) => identity.entityId).sort()
        ])
      )
      expect(bySandbox).toEqual({
        prod: prod.map((identity) => identity.id).sort(),
        dev: ["dev1@example.com", "dev2@example.com"]
      })
    })
  )

  it.effect("different merge policies go to separate calls; identities are fetched and hidden unless asked for", () =>
    Effect.gen(function* () {
      const { layer, lookup, transport } = setup()
      const [plain, withPolicy] = yield* Effect.all(
        [
          lookup(Identity.make("email", "a@example.com"), { fields: ["person.name"] }),
          lookup(Identity.make("email", "a@example.com"), { mergePolicyId: "mp-1", fields: ["person.name"] })
        ],
        batched
      ).pipe(Effect.provide(layer), drive)
      expect(transport.requests).toHaveLength(2)
      const bodies = transport.requests.map((request) => request.json as Record<string, unknown>)
      expect(bodies.map((body) => body["mergePolicyId"]).sort()).toEqual(["mp-1", undefined])
      for (const body of bodies) expect(body["fields"]).toEqual(["person.name", "identities"])
      expect(plain.entity["identities"]).toBeUndefined()
      expect(withPolicy.entity["identities"]).toBeUndefined()
      expect(firstNameOf(plain)).toBe("name of a@example.com")
    })
  )

  it.effect("namespace codes match case-insensitively", () =>
    Effect.gen(function* () {
      const { layer, lookup } = setup()
      const profile = yield* lookup(Identity.make("ECID", "89149270342662559642753730269986316601")).pipe(Effect.provide(layer), drive)
      expect(profile.entityId).toBe("XID-ECID-89149270342662559642753730269986316601")
    })
  )

  describe("cache", () => {
    it.effect("with cacheTtl, the same identity object looked up again makes no new call; invalidate forces one", () =>
      Effect.gen(function* () {
        const { layer, lookup, transport } = setup({ maxBatchSize: 100, cacheTtl: "1 minute" })
        const identity = Identity.make("email", "a@example.com")
        yield* Effect.gen(function* () {
          yield* lookup(identity)
          yield* lookup(identity)
          expect(transport.requests).toHaveLength(1)
          yield* Effect.flatMap(ProfileLookup.ProfileLookup, (service) => service.invalidate)
          yield* lookup(identity)
          expect(transport.requests).toHaveLength(2)
        }).pipe(Effect.provide(layer), drive)
      })
    )

    it.effect("answers expire after cacheTtl", () =>
      Effect.gen(function* () {
        const { layer, lookup, transport } = setup({ maxBatchSize: 100, cacheTtl: "1 minute" })
        const identity = Identity.make("email", "a@example.com")
        yield* Effect.gen(function* () {
          yield* lookup(identity)
          yield* TestClock.adjust("59 seconds")
          yield* lookup(identity)
          expect(transport.requests).toHaveLength(1)
          yield* TestClock.adjust("2 seconds")
          yield* lookup(identity)
          expect(transport.requests).toHaveLength(2)
        }).pipe(Effect.provide(layer), drive)
      })
    )

    // BUG (src/ProfileLookup.ts GetProfile): the request holds `identity` as a plain object, and
    // Request/Data equality is shallow (Equal.equals compares plain objects by reference), so two
    // lookups of the same identity built separately (`Identity.make("email", "a@example.com")` twice,
    // which is what every caller does) are different cache keys: the cache never hits. Fix: key the
    // request by value, e.g. store `identity: Data.struct({ ...identity })` (or an `identityKey:
    // Identity.key(identity)` field) in GetProfile. Remove `.fails` once fixed.
    it.effect("with cacheTtl, a repeated lookup of an equal identity makes no new call", () =>
      Effect.gen(function* () {
        const { layer, lookup, transport } = setup({ maxBatchSize: 100, cacheTtl: "1 minute" })
        yield* Effect.gen(function* () {
          yield* lookup(Identity.make("email", "a@example.com"))
          yield* lookup(Identity.make("email", "a@example.com"))
        }).pipe(Effect.provide(layer), drive)
        expect(transport.requests).toHaveLength(1)
      })
    )

    it.effect("without cacheTtl every lookup calls upstream", () =>
      Effect.gen(function* () {
        const { layer, lookup, transport } = setup({ maxBatchSize: 100 })
        const identity = Identity.make("email", "a@example.com")
        yield* Effect.zip(lookup(identity), lookup(identity)).pipe(Effect.provide(layer), drive)
        expect(transport.requests).toHaveLength(2)
      })
    )
  })
})
