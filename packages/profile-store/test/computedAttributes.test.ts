import { describe, expect, it } from "@effect/vitest"
import { storeAt } from "./support/database.js"
import { Duration, Effect, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Catalog, ComputedAttributes, Entities, Ingestion, MergePolicies, Sandboxes } from "../src/index.js"

const HOUR = 3_600_000
const DAY = 24 * HOUR
/** A Wednesday, noon UTC. */
const NOW = Date.UTC(2025, 5, 18, 12, 0, 0)

const store = () => storeAt(":memory:")
const owner = { imsOrgId: "ACME@AdobeOrg", createdBy: "tester@AdobeID" }
const PROFILE = "_xdm.context.profile"

const dataset = (name: string, xdmClass: "profile" | "experienceevent") =>
  Effect.flatMap(Catalog.Catalog, (catalog) =>
    catalog.create("prod", {
      name,
      schemaRef: { id: `https://ns.adobe.com/xdm/context/${xdmClass}` },
      tags: { unifiedProfile: ["enabled:true"] }
    })
  ).pipe(Effect.orDie)

const ingest = (datasetId: string, records: ReadonlyArray<unknown>) =>
  Effect.flatMap(Ingestion.Ingestion, (ingestion) => ingestion.ingestRecords("prod", datasetId, records)).pipe(Effect.orDie)

const input = (
  name: string,
  expression: string,
  duration: ComputedAttributes.Lookback,
  extra: Partial<ComputedAttributes.Definition> = {}
): ComputedAttributes.Definition => ({
  name,
  displayName: name,
  description: `${name} for tests`,
  expression,
  duration,
  keepCurrent: false,
  status: "NEW",
  ...extra
})

/** The computed attribute values a `withCA` lookup shows, or undefined. */
const lookup = (namespace: string, value: string, withCA = true) =>
  Effect.flatMap(Entities.Entities, (entities) =>
    entities.getProfile("prod", { identity: { namespace: namespace.toLowerCase(), id: value }, schemaName: PROFILE, withCA })
  ).pipe(
    Effect.orDie,
    Effect.map((profile) => (profile.body.entity as any)._acme?.SystemComputedAttributes as Record<string, any> | undefined)
  )

/** Waits (in real time) until `check` answers something; background fibers run meanwhile. */
const eventually = <A, R>(check: Effect.Effect<A | undefined, never, R>, what: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 300; i++) {
      const result = yield* check
      if (result !== undefined) return result
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })

// ---------------------------------------------------------------------------
// the events of three profiles, and the expected values computed here
// ---------------------------------------------------------------------------

type ProfileKey = "P1" | "P2" | "P3"

interface TestEvent {
  readonly profile: ProfileKey
  readonly identity: readonly [string, string]
  readonly id: string
  readonly ts: number
  readonly type: string
  readonly price?: number
  readonly page?: string
}

const makeEvents = (): Array<TestEvent> => {
  let seed = 7
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  const out: Array<TestEvent> = []
  const add = (profile: ProfileKey, identity: readonly [string, string], ts: number) => {
    const n = out.length
    const purchase = rnd() < 0.5
    out.push({
      profile,
      identity,
      id: `ev-${n}`,
      ts,
      // equals("commerce.purchases", false) must also take the odd casing
      type: purchase ? (rnd() < 0.2 ? "Commerce.Purchases" : "commerce.purchases") : "web.webpagedetails.pageViews",
      ...(purchase ? { price: 1 + Math.floor(rnd() * 100) } : { page: `page-${Math.floor(rnd() * 10)}` })
    })
  }
  // P1: one person known by CRM id and email (linked by a profile record); events under both.
  for (let i = 0; i < 60; i++) add("P1", i % 2 === 0 ? ["CRMID", "c1"] : ["Email", "one@example.com"], NOW - Math.floor(rnd() * 35 * DAY) - i)
  add("P1", ["CRMID", "c1"], NOW + HOUR) // in the future: never counted
  add("P1", ["CRMID", "c1"], NOW - 7 * DAY) // exactly on the 7-day boundary: counted
  add("P1", ["CRMID", "c1"], NOW - 30 * 60_000) // half an hour ago
  for (let i = 0; i < 30; i++) add("P2", ["CRMID", "c2"], NOW - Math.floor(rnd() * 20 * DAY) - i)
  // P3: only old events
  for (let i = 0; i < 5; i++) add("P3", ["CRMID", "c3"], NOW - 45 * DAY - i * DAY)
  return out
}

const toRecord = (event: TestEvent) => ({
  _id: event.id,
  timestamp: new Date(event.ts).toISOString(),
  eventType: event.type,
  identityMap: { [event.identity[0]]: [{ id: event.identity[1], primary: true }] },
  ...(event.price === undefined ? {} : { commerce: { order: { priceTotal: event.price } } }),
  ...(event.page === undefined ? {} : { web: { webPageDetails: { name: event.page } } })
})

const PURCHASES = 'eventType.equals("commerce.purchases", false)'
const isPurchase = (e: TestEvent) => e.type.toLowerCase() === "commerce.purchases"
const isView = (e: TestEvent) => e.type === "web.webpagedetails.pageViews"

interface Case {
  readonly name: string
  readonly expression: string
  readonly duration: { count: number; unit: "HOURS" | "DAYS" | "WEEKS" | "MONTHS" }
  readonly keepCurrent?: boolean
  /** Window start at `now`, computed by hand. */
  readonly start: (now: number) => number
  readonly expected: (events: ReadonlyArray<TestEvent>, now: number) => unknown
}

const sum = (xs: ReadonlyArray<number>) => (xs.length === 0 ? undefined : { value: xs.reduce((a, b) => a + b, 0) })
const pick = (events: ReadonlyArray<TestEvent>, latest: boolean) => {
  const sorted = [...events].sort((a, b) => (latest ? b.ts - a.ts : a.ts - b.ts))
  const chosen = sorted[0]
  return chosen === undefined ? undefined : { value: chosen.page, timestamp: new Date(chosen.ts).toISOString() }
}

const cases: ReadonlyArray<Case> = [
  {
    name: "totalSpend7d",
    expression: `xEvent[${PURCHASES}].sum(commerce.order.priceTotal)`,
    duration: { count: 7, unit: "DAYS" },
    start: (now) => now - 7 * DAY,
    expected: (events) => sum(events.filter(isPurchase).map((e) => e.price!))
  },
  {
    name: "totalSpend24h",
    expression: `xEvent[${PURCHASES}].sum(commerce.order.priceTotal)`,
    duration: { count: 24, unit: "HOURS" },
    start: (now) => now - DAY,
    expected: (events) => sum(events.filter(isPurchase).map((e) => e.price!))
  },
  {
    name: "pageViews3d",
    expression: 'xEvent[eventType = "web.webpagedetails.pageViews"].count()',
    duration: { count: 3, unit: "DAYS" },
    start: (now) => now - 3 * DAY,
    expected: (events) => {
      const n = events.filter(isView).length
      return n === 0 ? undefined : { value: n }
    }
  },
  {
    name: "smallestOrder2w",
    expression: `xEvent[${PURCHASES}].min(commerce.order.priceTotal)`,
    duration: { count: 2, unit: "WEEKS" },
    start: (now) => now - 14 * DAY,
    expected: (events) => {
      const prices = events.filter(isPurchase).map((e) => e.price!)
      return prices.length === 0 ? undefined : { value: Math.min(...prices) }
    }
  },
  {
    name: "largestOrder1m",
    expression: `xEvent[${PURCHASES}].max(commerce.order.priceTotal)`,
    duration: { count: 1, unit: "MONTHS" },
    // one calendar month back: May 18 for June 18, May 20 for June 20
    start: (now) => {
      const d = new Date(now)
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, d.getUTCDate(), d.getUTCHours())
    },
    expected: (events) => {
      const prices = events.filter(isPurchase).map((e) => e.price!)
      return prices.length === 0 ? undefined : { value: Math.max(...prices) }
    }
  },
  {
    name: "lastPage7d",
    expression: 'xEvent[eventType = "web.webpagedetails.pageViews"].topN(timestamp, 1).map({"timestamp": timestamp, "value": web.webPageDetails.name}).head()',
    duration: { count: 7, unit: "DAYS" },
    start: (now) => now - 7 * DAY,
    expected: (events) => pick(events.filter(isView), true)
  },
  {
    name: "firstPage7d",
    expression: 'xEvent[eventType = "web.webpagedetails.pageViews"].bottomN(timestamp, 1).map({"timestamp": timestamp, "value": web.webPageDetails.name}).head()',
    duration: { count: 7, unit: "DAYS" },
    start: (now) => now - 7 * DAY,
    expected: (events) => pick(events.filter(isView), false)
  },
  {
    name: "bigOrdersLast2d",
    // the filter's own time condition narrows the 7-day lookback
    expression: "xEvent[commerce.order.priceTotal >= 50 and (timestamp occurs <= 2 days before now)].sum(commerce.order.priceTotal)",
    duration: { count: 7, unit: "DAYS" },
    start: (now) => now - 2 * DAY,
    expected: (events) => sum(events.filter((e) => (e.price ?? 0) >= 50).map((e) => e.price!))
  },
  {
    name: "ordersWeek",
    expression: `xEvent[${PURCHASES}].count()`,
    duration: { count: 1, unit: "WEEKS" },
    start: (now) => now - 7 * DAY,
    expected: (events) => {
      const n = events.filter(isPurchase).length
      return n === 0 ? undefined : { value: n }
    }
  },
  {
    name: "ordersWeekFast",
    expression: `xEvent[${PURCHASES}].count()`,
    duration: { count: 1, unit: "WEEKS" },
    keepCurrent: true,
    // fast refresh: from the Sunday one week before the current week's Sunday (June 8)
    start: () => Date.UTC(2025, 5, 8),
    expected: (events) => {
      const n = events.filter(isPurchase).length
      return n === 0 ? undefined : { value: n }
    }
  }
]

const expectedFor = (events: ReadonlyArray<TestEvent>, profile: ProfileKey, now: number) => {
  const out: Record<string, unknown> = {}
  for (const c of cases) {
    const start = c.start(now)
    const value = c.expected(events.filter((e) => e.profile === profile && e.ts >= start && e.ts <= now), now)
    if (value !== undefined) out[c.name] = value
  }
  return out
}

// ---------------------------------------------------------------------------

describe("ComputedAttributes evaluation", () => {
  it.effect("values match an independent computation for every function and lookback", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const crm = yield* dataset("CRM", "profile")
      const web = yield* dataset("Web", "experienceevent")
      yield* ingest(crm.id, [
        { _id: "p1", identityMap: { CRMID: [{ id: "c1", primary: true }], Email: [{ id: "one@example.com" }] }, person: { name: { firstName: "Ann" } } }
      ])
      const events = makeEvents()
      yield* ingest(web.id, events.map(toRecord))
      const ca = yield* ComputedAttributes.ComputedAttributes
      for (const c of cases) {
        yield* ca.create("prod", input(c.name, c.expression, c.duration, c.keepCurrent ? { keepCurrent: true } : {}), owner)
      }
      // a draft is never evaluated
      yield* ca.create("prod", input("draftOnly", "xEvent.count()", { count: 7, unit: "DAYS" }, { status: "DRAFT" }), owner)

      const [report] = yield* ca.evaluateNow("prod")
      expect(report!.at).toBe(NOW)
      expect(report!.attributes.map((a) => a.name).sort()).toEqual(cases.map((c) => c.name).sort())

      const check = (now: number) =>
        Effect.gen(function* () {
          const p1 = yield* lookup("CRMID", "c1")
          expect(p1).toEqual(expectedFor(events, "P1", now))
          // the same merged profile through its other identity
          expect(yield* lookup("Email", "one@example.com")).toEqual(p1)
          expect(yield* lookup("CRMID", "c2")).toEqual(expectedFor(events, "P2", now))
          // only old events: no value at all
          expect(yield* lookup("CRMID", "c3")).toBeUndefined()
        })
      yield* check(NOW)
      // sanity: the data exercises every function on P1
      expect(Object.keys(expectedFor(events, "P1", NOW)).sort()).toEqual(cases.map((c) => c.name).sort())
      // without withCA nothing is added
      expect(yield* lookup("CRMID", "c1", false)).toBeUndefined()

      for (const attribute of (yield* ca.list("prod", {})).attributes) {
        expect(attribute.status).toBe(attribute.name === "draftOnly" ? "DRAFT" : "PROCESSED")
        expect(attribute.lastEvaluationTs).toBe(attribute.name === "draftOnly" ? undefined : NOW)
      }

      // Two days later the windows have rolled: older events drop out, the fast-refresh week does not.
      yield* TestClock.adjust(Duration.days(2))
      yield* ca.evaluateNow("prod")
      yield* check(NOW + 2 * DAY)
      const later = expectedFor(events, "P1", NOW + 2 * DAY)
      expect(later.totalSpend24h).toBeUndefined()
      expect(later.ordersWeekFast).not.toEqual(later.ordersWeek)
    }).pipe(Effect.provide(store()))
  )

  it.effect("events are grouped per identity when the default policy does not stitch", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const crm = yield* dataset("CRM", "profile")
      const web = yield* dataset("Web", "experienceevent")
      yield* ingest(crm.id, [{ _id: "p1", identityMap: { CRMID: [{ id: "c1", primary: true }], Email: [{ id: "one@example.com" }] } }])
      yield* ingest(web.id, [
        toRecord({ profile: "P1", identity: ["CRMID", "c1"], id: "a", ts: NOW - HOUR, type: "commerce.purchases", price: 10 }),
        toRecord({ profile: "P1", identity: ["Email", "one@example.com"], id: "b", ts: NOW - HOUR, type: "commerce.purchases", price: 5 })
      ])
      const ca = yield* ComputedAttributes.ComputedAttributes
      yield* ca.create("prod", input("spend", `xEvent.sum(commerce.order.priceTotal)`, { count: 1, unit: "DAYS" }), owner)
      yield* ca.evaluateNow("prod")
      expect((yield* lookup("CRMID", "c1"))?.spend).toEqual({ value: 15 })

      const policies = yield* MergePolicies.MergePolicies
      const current = yield* policies.resolve("prod", undefined, PROFILE).pipe(Effect.orDie)
      yield* policies.update("prod", current.id, (p) => Effect.succeed({ ...p, identityGraph: "none" as const })).pipe(Effect.orDie)
      yield* ca.evaluateNow("prod")
      expect((yield* lookup("CRMID", "c1"))?.spend).toEqual({ value: 10 })
      expect((yield* lookup("Email", "one@example.com"))?.spend).toEqual({ value: 5 })
    }).pipe(Effect.provide(store()))
  )

  it.effect("the background job evaluates after publishing and after store changes, debounced", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const web = yield* dataset("Web", "experienceevent")
      const ca = yield* ComputedAttributes.ComputedAttributes
      const created = yield* ca.create("prod", input("visits", "xEvent.count()", { count: 7, unit: "DAYS" }), owner)
      const record = (id: string, ago: number) =>
        toRecord({ profile: "P2", identity: ["CRMID", "c2"], id, ts: NOW - ago, type: "web.webpagedetails.pageViews", page: "home" })
      yield* ingest(web.id, [record("v1", HOUR), record("v2", 2 * HOUR)])
      // nothing runs before the debounce delay has passed
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      expect((yield* ca.get("prod", created.id)).status).toBe("NEW")

      yield* TestClock.adjust(ComputedAttributes.DEBOUNCE)
      const processed = yield* eventually(
        Effect.map(ca.get("prod", created.id).pipe(Effect.orDie), (a) => (a.status === "PROCESSED" ? a : undefined)),
        "the first evaluation"
      )
      expect(processed.lastEvaluationTs).toBe(NOW + Duration.toMillis(ComputedAttributes.DEBOUNCE))
      expect((yield* lookup("CRMID", "c2"))?.visits).toEqual({ value: 2 })

      // a streamed record triggers a new run
      const ingestion = yield* Ingestion.Ingestion
      yield* ingestion.streamRecord("prod", web.id, record("v3", 3 * HOUR)).pipe(Effect.orDie)
      yield* TestClock.adjust(ComputedAttributes.DEBOUNCE)
      yield* eventually(
        Effect.map(lookup("CRMID", "c2"), (values) => (values?.visits?.value === 3 ? true : undefined)),
        "the streamed event to count"
      )

      // deleting the profile's data removes its values on the next run
      const entities = yield* Entities.Entities
      yield* entities.deleteEntity("prod", { namespace: "crmid", id: "c2" }, undefined).pipe(Effect.orDie)
      yield* TestClock.adjust(ComputedAttributes.DEBOUNCE)
      yield* eventually(
        Effect.map(ca.get("prod", created.id).pipe(Effect.orDie), (a) =>
          a.lastEvaluationTs === NOW + 3 * Duration.toMillis(ComputedAttributes.DEBOUNCE) ? true : undefined
        ),
        "the run after the delete"
      )
      const values = yield* Effect.flatMap(Entities.Entities, (e) =>
        e.getProfiles("prod", { identities: [{ namespace: "crmid", id: "c2" }], schemaName: PROFILE, withCA: true })
      ).pipe(Effect.orDie)
      expect(Object.values(values)[0]!.entity).toEqual({})
    }).pipe(Effect.provide(store()))
  )

  it.effect("an attribute published before a restart is evaluated after it", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const directory = mkdtempSync(join(tmpdir(), "rtcp-ca-"))
      const onDisk = storeAt(directory)
      const id = yield* Effect.gen(function* () {
        const web = yield* dataset("Web", "experienceevent")
        yield* ingest(web.id, [toRecord({ profile: "P2", identity: ["CRMID", "c2"], id: "x", ts: NOW - HOUR, type: "commerce.purchases", price: 4 })])
        const ca = yield* ComputedAttributes.ComputedAttributes
        return (yield* ca.create("prod", input("spend", "xEvent.sum(commerce.order.priceTotal)", { count: 1, unit: "DAYS" }), owner)).id
      }).pipe(Effect.provide(onDisk))
      yield* Effect.gen(function* () {
        const ca = yield* ComputedAttributes.ComputedAttributes
        expect((yield* ca.get("prod", id)).status).toBe("NEW")
        yield* TestClock.adjust(ComputedAttributes.DEBOUNCE)
        yield* eventually(
          Effect.map(ca.get("prod", id).pipe(Effect.orDie), (a) => (a.status === "PROCESSED" ? a : undefined)),
          "the evaluation after the restart"
        )
        expect((yield* lookup("CRMID", "c2"))?.spend).toEqual({ value: 4 })
      }).pipe(Effect.provide(onDisk))
      rmSync(directory, { recursive: true, force: true })
    })
  )

  it("windows and refresh periods follow the lookback", () => {
    const lookback = (count: number, unit: ComputedAttributes.DurationUnit) => ({ count, unit })
    expect(ComputedAttributes.windowStart(lookback(6, "HOURS"), false, NOW)).toBe(NOW - 6 * HOUR)
    expect(ComputedAttributes.windowStart(lookback(7, "DAYS"), true, NOW)).toBe(NOW - 7 * DAY)
    expect(ComputedAttributes.windowStart(lookback(2, "WEEKS"), false, NOW)).toBe(NOW - 14 * DAY)
    expect(ComputedAttributes.windowStart(lookback(2, "WEEKS"), true, NOW)).toBe(Date.UTC(2025, 5, 1))
    expect(ComputedAttributes.windowStart(lookback(2, "WEEKS"), true, Date.UTC(2025, 5, 22, 1))).toBe(Date.UTC(2025, 5, 8))
    expect(ComputedAttributes.windowStart(lookback(6, "MONTHS"), false, NOW)).toBe(Date.UTC(2024, 11, 18, 12))
    expect(ComputedAttributes.windowStart(lookback(1, "MONTHS"), true, NOW)).toBe(Date.UTC(2025, 4, 1))
    expect(Duration.toHours(ComputedAttributes.refreshPeriod(lookback(24, "HOURS"), false))).toBe(1)
    expect(Duration.toDays(ComputedAttributes.refreshPeriod(lookback(7, "DAYS"), false))).toBe(1)
    expect(Duration.toDays(ComputedAttributes.refreshPeriod(lookback(4, "WEEKS"), false))).toBe(7)
    expect(Duration.toDays(ComputedAttributes.refreshPeriod(lookback(4, "WEEKS"), true))).toBe(1)
    expect(Duration.toDays(ComputedAttributes.refreshPeriod(lookback(6, "MONTHS"), false))).toBe(30)
  })
})

describe("ComputedAttributes lifecycle", () => {
  it.effect("drafts are edited and published; published attributes can only be disabled", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const ca = yield* ComputedAttributes.ComputedAttributes
      const draft = yield* ca.create(
        "prod",
        input("spend", "xEvent.sum(commerce.order.priceTotal)", { count: 7, unit: "DAYS" }, { status: "DRAFT" }),
        owner
      )
      expect(draft).toMatchObject({
        name: "spend",
        status: "DRAFT",
        mergeFunction: "SUM",
        returnType: "number",
        tenant: "acme",
        imsOrgId: "ACME@AdobeOrg",
        createdBy: "tester@AdobeID",
        keepCurrent: false,
        createEpoch: NOW,
        updateEpoch: NOW,
        lastEvaluationTs: undefined
      })
      const id = draft.id
      const rejects = (changes: ComputedAttributes.Changes, message: RegExp) =>
        Effect.gen(function* () {
          const before = yield* ca.get("prod", id)
          const error = yield* Effect.flip(ca.patch("prod", id, changes))
          expect(error._tag).toBe("InvalidInput")
          expect(error.message).toMatch(message)
          expect(yield* ca.get("prod", id)).toEqual(before)
        })

      // a draft: everything editable but system fields
      yield* TestClock.adjust(Duration.seconds(5))
      const edited = yield* ca.patch("prod", id, {
        name: "orders",
        displayName: "Orders",
        description: "Orders this fortnight",
        keepCurrent: true,
        expression: "xEvent.count()",
        duration: { count: 2, unit: "WEEKS" }
      })
      expect(edited).toMatchObject({
        name: "orders",
        mergeFunction: "COUNT",
        returnType: "integer",
        keepCurrent: true,
        duration: { count: 2, unit: "WEEKS" },
        status: "DRAFT",
        createEpoch: NOW,
        updateEpoch: NOW + 5_000
      })
      yield* rejects({ status: "PROCESSED" }, /a DRAFT computed attribute can only be published \(status NEW\)/)
      yield* rejects({ name: "my orders" }, /only letters and digits/)
      yield* rejects({ displayName: " " }, /displayName must not be empty/)
      yield* rejects({ duration: { count: 5, unit: "WEEKS" } }, /from 1 to 4 for WEEKS/)
      yield* rejects({ expression: "xEvent.median(a)" }, /function median is not supported/)
      yield* rejects({ expression: " " }, /expression.value must hold the PQL text/)

      // publish
      const published = yield* ca.patch("prod", id, { status: "NEW" })
      expect(published.status).toBe("NEW")
      // NEW: display name and description may still change (Adobe's guide), the definition not
      const renamed = yield* ca.patch("prod", id, { displayName: "All orders", description: "Every order" })
      expect(renamed.displayName).toBe("All orders")
      yield* rejects({ name: "other" }, /name can only be changed while the computed attribute is a DRAFT; it is NEW/)
      yield* rejects({ status: "DRAFT" }, /a NEW computed attribute can only be disabled/)
      // unchanged values are not changes
      expect((yield* ca.patch("prod", id, { name: "orders", status: "NEW" })).updateEpoch).toBe(renamed.updateEpoch)

      yield* ca.evaluateNow("prod")
      const processed = yield* ca.get("prod", id)
      expect(processed.status).toBe("PROCESSED")
      expect(processed.lastEvaluationTs).toBe(NOW + 5_000)
      yield* rejects({ displayName: "x" }, /displayName can only be changed while the computed attribute is a DRAFT; it is PROCESSED, so the only change allowed is status DISABLED/)
      yield* rejects({ keepCurrent: false }, /keepCurrent can only be changed while/)
      yield* rejects({ status: "NEW" }, /a PROCESSED computed attribute can only be disabled/)

      const deleteError = yield* Effect.flip(ca.remove("prod", id))
      expect(deleteError._tag).toBe("Refused")
      expect(deleteError.message).toMatch(/is PROCESSED: only DRAFT computed attributes can be deleted/)

      const disabled = yield* ca.patch("prod", id, { status: "DISABLED" })
      expect(disabled.status).toBe("DISABLED")
      yield* rejects({ status: "NEW" }, /a DISABLED computed attribute cannot be changed/)
      yield* rejects({ description: "again" }, /a DISABLED computed attribute cannot be changed/)
      expect((yield* Effect.flip(ca.remove("prod", id)))._tag).toBe("Refused")
      // disabled attributes are no longer evaluated
      expect((yield* ca.evaluateNow("prod"))[0]!.attributes).toEqual([])

      // a draft can be deleted; the answer is the deleted attribute
      const other = yield* ca.create("prod", input("other", "xEvent.count()", { count: 1, unit: "HOURS" }, { status: "DRAFT" }), owner)
      expect(yield* ca.remove("prod", other.id)).toEqual(other)
      expect((yield* Effect.flip(ca.get("prod", other.id)))._tag).toBe("ComputedAttributeNotFound")
      expect((yield* Effect.flip(ca.remove("prod", other.id)))._tag).toBe("ComputedAttributeNotFound")
      expect((yield* Effect.flip(ca.patch("prod", other.id, { status: "NEW" })))._tag).toBe("ComputedAttributeNotFound")
    }).pipe(Effect.provide(store()))
  )

  it.effect("disabling removes the values from lookups", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const web = yield* dataset("Web", "experienceevent")
      yield* ingest(web.id, [toRecord({ profile: "P2", identity: ["CRMID", "c2"], id: "x", ts: NOW - HOUR, type: "commerce.purchases", price: 3 })])
      const ca = yield* ComputedAttributes.ComputedAttributes
      const a = yield* ca.create("prod", input("spend", "xEvent.sum(commerce.order.priceTotal)", { count: 1, unit: "DAYS" }), owner)
      const b = yield* ca.create("prod", input("orders", "xEvent.count()", { count: 1, unit: "DAYS" }), owner)
      yield* ca.evaluateNow()
      expect(yield* lookup("CRMID", "c2")).toEqual({ spend: { value: 3 }, orders: { value: 1 } })
      yield* ca.patch("prod", a.id, { status: "DISABLED" })
      expect(yield* lookup("CRMID", "c2")).toEqual({ orders: { value: 1 } })
      yield* ca.patch("prod", b.id, { status: "DISABLED" })
      expect(yield* lookup("CRMID", "c2")).toBeUndefined()
    }).pipe(Effect.provide(store()))
  )

  it.effect("create checks every field and writes nothing when one is wrong", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const ca = yield* ComputedAttributes.ComputedAttributes
      yield* ca.create("prod", input("spend", "xEvent.count()", { count: 1, unit: "DAYS" }), owner)
      const ok = input("fine", "xEvent.count()", { count: 1, unit: "DAYS" })
      const bad: ReadonlyArray<[ComputedAttributes.Definition, RegExp]> = [
        [{ ...ok, name: "" }, /^name is required/],
        [{ ...ok, name: "my_attr" }, /may contain only letters and digits/],
        [{ ...ok, name: "a".repeat(101) }, /at most 100 characters/],
        [{ ...ok, displayName: " " }, /displayName must not be empty/],
        [{ ...ok, expression: "" }, /expression.value must hold the PQL text/],
        [{ ...ok, expression: "xEvent[a > 1].percentile(a, 90)" }, /function percentile is not supported; use sum, count, min, max or most recent/],
        [{ ...ok, duration: { count: 25, unit: "HOURS" } }, /from 1 to 24 for HOURS/],
        [{ ...ok, duration: { count: 0, unit: "DAYS" } }, /from 1 to 7 for DAYS/],
        [{ ...ok, duration: { count: 8, unit: "DAYS" } }, /from 1 to 7 for DAYS/],
        [{ ...ok, duration: { count: 7, unit: "MONTHS" } }, /from 1 to 6 for MONTHS/],
        [{ ...ok, duration: { count: 1.5, unit: "WEEKS" } }, /from 1 to 4 for WEEKS/]
      ]
      for (const [definition, message] of bad) {
        const error = yield* Effect.flip(ca.create("prod", definition, owner))
        expect(error._tag).toBe("InvalidInput")
        expect(error.message).toMatch(message)
      }
      // Names are unique whatever their case.
      const taken = yield* Effect.flip(ca.create("prod", { ...ok, name: "SPEND" }, owner))
      expect(taken).toMatchObject({ _tag: "AttributeNameTaken", sandbox: "prod", name: "spend" })
      const page = yield* ca.list("prod", {})
      expect(page.attributes.map((a) => a.name)).toEqual(["spend"])
      // the same name in another sandbox is fine
      yield* Effect.flatMap(Sandboxes.Sandboxes, (s) => s.create({ name: "dev" })).pipe(Effect.orDie)
      expect((yield* ca.create("dev", input("spend", "xEvent.count()", { count: 1, unit: "DAYS" }), owner)).name).toBe("spend")
      expect((yield* ca.list("dev", {})).totalCount).toBe(1)
    }).pipe(Effect.provide(store()))
  )
})

describe("ComputedAttributes list filters", () => {
  const attribute = (name: string, status: ComputedAttributes.Status, mergeFunction: string, createEpoch: number, updateEpoch: number) =>
    ({ name, status, mergeFunction, createEpoch, updateEpoch }) as unknown as ComputedAttributes.Attribute
  const a = attribute("totalSpend", "PROCESSED", "SUM", 100, 500)
  const b = attribute("lastPage", "NEW", "MOST_RECENT", 200, 400)
  const c = attribute("visitCount", "DRAFT", "COUNT", 300, 300)
  const select = (raw: string) => {
    const predicate = ComputedAttributes.parseProperty(raw)
    if (typeof predicate === "string") throw new Error(predicate)
    return [a, b, c].filter(predicate).map((x) => x.name)
  }

  it("property filters take AEP's operators and both spellings", () => {
    expect(select("name=TOTALSPEND")).toEqual(["totalSpend"])
    expect(select("name!=totalSpend")).toEqual(["lastPage", "visitCount"])
    expect(select("name=contains(spend,page)")).toEqual(["totalSpend", "lastPage"])
    expect(select("name=!contains(spend,page)")).toEqual(["visitCount"])
    expect(select("status=contains(new,processing,disabled)")).toEqual(["lastPage"])
    expect(select("status=draft")).toEqual(["visitCount"])
    expect(select("mergeFunction.value=COUNT")).toEqual(["visitCount"])
    expect(select("mergePolicy.value=most_recent")).toEqual(["lastPage"])
    expect(select("createEpoch>=200")).toEqual(["lastPage", "visitCount"])
    expect(select("createdEpoch<=200")).toEqual(["totalSpend", "lastPage"])
    expect(select("updateEpoch>=400")).toEqual(["totalSpend", "lastPage"])
  })

  it("property filters say what is wrong", () => {
    expect(ComputedAttributes.parseProperty("colour=red")).toMatch(/cannot filter on colour/)
    expect(ComputedAttributes.parseProperty("name>=a")).toMatch(/name takes =, !=, =contains\(a,b\) or =!contains\(a,b\)/)
    expect(ComputedAttributes.parseProperty("updateEpoch!=5")).toMatch(/updateEpoch takes >= or <=/)
    expect(ComputedAttributes.parseProperty("updateEpoch>=soon")).toMatch(/needs an epoch in milliseconds/)
    expect(ComputedAttributes.parseProperty("name=contains()")).toMatch(/needs at least one value/)
    expect(ComputedAttributes.parseProperty("just text")).toMatch(/must look like <field><op><value>/)
  })
})
