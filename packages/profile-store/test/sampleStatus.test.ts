import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Option, TestClock, TestServices } from "effect"
import { Entities, Ingestion, MergePolicies, SampleStatus, StoreEvents } from "../src/index.js"
import { apportion, namespaceId, parseDay } from "../src/internal/sample.js"
import { dataset, ecid, event, ingest, person, store } from "./support/store.js"

const DAY = 86_400_000
// Near the epoch on purpose: the TestClock wakes every periodic fiber of the
// store (computed attributes check hourly) on its way to the time it is set to.
const NOW = Date.UTC(1970, 4, 1, 12, 0, 0)

/** A store whose samples run only when asked, unless `settings` says otherwise. */
const storeWith = (settings: Partial<Parameters<typeof SampleStatus.layerSettings>[0]> = {}) =>
  store().pipe(Layer.provide(SampleStatus.layerSettings({ automatic: false, ...settings })))

const service = SampleStatus.SampleStatus

const sum = (record: Readonly<Record<string, number>>) => Object.values(record).reduce((a, b) => a + b, 0)

/**
 * Five profiles under the default `pdg` policy:
 * G1 = c1 + a@x (CRM), L1 + a@x (Loyalty), e1 + a@x (2 web events): 3 fragments;
 * G2 = c2 + b@x (CRM); G3 = c3 (CRM); G4 = e2 (3 events, newest a day old);
 * G5 = e3 (1 event, 100 days old). G2–G5 have one fragment each.
 */
const handBuilt = Effect.gen(function* () {
  const HOUR = 3_600_000
  yield* TestClock.setTime(NOW - 3 * HOUR)
  const crm = yield* dataset("CRM", "profile")
  const loyalty = yield* dataset("Loyalty", "profile", { upsert: true })
  const web = yield* dataset("Web", "experienceevent")
  yield* ingest(crm.id, [
    person([["CRMID", "c1"], ["Email", "a@x.com"]]),
    person([["CRMID", "c2"], ["Email", "b@x.com"]]),
    person([["CRMID", "c3"]])
  ])
  yield* TestClock.adjust("1 hour")
  yield* ingest(loyalty.id, [person([["LoyaltyId", "L1"], ["Email", "a@x.com"]])])
  yield* TestClock.adjust("1 hour")
  const lastBatch = yield* ingest(web.id, [
    event("w1", NOW - 2 * DAY, [["ECID", ecid(1)], ["Email", "a@x.com"]]),
    event("w2", NOW - 3 * DAY, [["ECID", ecid(1)]]),
    event("w3", NOW - DAY, [["ECID", ecid(2)]]),
    event("w4", NOW - 40 * DAY, [["ECID", ecid(2)]]),
    event("w5", NOW - 50 * DAY, [["ECID", ecid(2)]]),
    event("w6", NOW - 100 * DAY, [["ECID", ecid(3)]])
  ])
  yield* TestClock.setTime(NOW)
  return { crm, loyalty, web, lastBatch }
})

/** Lets the background fibers (event listener, timers, the job) run. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 200; i++) yield* Effect.yieldNow()
})

/** Whether the sandbox has a snapshot now. */
const sampled = Effect.map(Effect.flatMap(SampleStatus.SampleStatus, (samples) => samples.snapshot("prod")), Option.isSome)

/** The sandbox's snapshot, waited for: the job reads the store, and on a database across a socket that takes real time. */
const sampledSoon = Effect.gen(function* () {
  const samples = yield* SampleStatus.SampleStatus
  let snapshot = yield* samples.snapshot("prod")
  for (let i = 0; i < 500 && Option.isNone(snapshot); i++) {
    yield* TestServices.provideLive(Effect.sleep("10 millis"))
    snapshot = yield* samples.snapshot("prod")
  }
  return snapshot
})

/** Starts a job that the store's `beforeScan` hook holds until `release`, and checks the status meanwhile. */
const whileHeld = (entered: Deferred.Deferred<void>, release: Deferred.Deferred<void>) =>
  Effect.gen(function* () {
    yield* handBuilt
    const samples = yield* service
    const job = yield* Effect.fork(SampleStatus.runSample("prod"))
    yield* Deferred.await(entered)
    expect(yield* samples.running("prod")).toBe(true)
    const status = yield* samples.status("prod")
    expect(status).toMatchObject({ running: true, submittedAt: NOW, snapshot: undefined })
    yield* Deferred.succeed(release, undefined)
    yield* job.await
    const after = yield* samples.status("prod")
    expect(after).toMatchObject({ running: false, submittedAt: NOW })
    expect(after.snapshot?.submittedAt).toBe(NOW)
  })

describe("sample status", () => {
  it.effect("before any sample: no snapshot, no job, the default policy's strategy; no report", () =>
    Effect.gen(function* () {
      yield* handBuilt
      const samples = yield* service
      expect(yield* samples.status("prod")).toEqual({
        snapshot: undefined,
        running: false,
        submittedAt: undefined,
        mergeStrategy: "timestampOrdered_pdg"
      })
      const missing = yield* Effect.flip(samples.report("prod"))
      expect(missing).toMatchObject({ _tag: "ReportNotFound", sandbox: "prod", date: undefined })
      expect((yield* Effect.flip(samples.latestReport("prod")))._tag).toBe("ReportNotFound")
    }).pipe(Effect.provide(storeWith()))
  )

  it.effect("counts a hand-built store exactly (pdg)", () =>
    Effect.gen(function* () {
      const { crm, lastBatch, loyalty, web } = yield* handBuilt
      const samples = yield* service
      const snapshot = yield* SampleStatus.runSample("prod")
      expect(snapshot.sampled).toBe(false)

      const status = yield* samples.status("prod")
      expect(status).toEqual({ snapshot, running: false, submittedAt: NOW, mergeStrategy: "timestampOrdered_pdg" })
      expect(snapshot).toMatchObject({
        sandbox: "prod",
        submittedAt: NOW,
        sampledAt: NOW,
        numRowsToRead: 5,
        totalRows: 5,
        // 3 CRM + 1 loyalty record fragments, 3 web event fragments (e1, e2, e3).
        fragments: 7,
        // 4 records + 6 events.
        documents: 10,
        events: 6,
        mergeStrategy: "timestampOrdered_pdg",
        lastBatch: { id: lastBatch.id, at: NOW - 3_600_000 }
      })

      // Every report is read from the latest snapshot.
      const report = yield* samples.report("prod")
      expect(report).toEqual(snapshot)
      expect(yield* samples.latestReport("prod")).toEqual(snapshot)

      const byName = Object.fromEntries(report.datasets.map((d) => [d.name, d]))
      expect(byName.CRM).toMatchObject({ id: crm.id, sampleCount: 3, fullIDsCount: 3 })
      expect(byName.Web).toMatchObject({ id: web.id, fullIDsCount: 3 })
      expect(byName.Loyalty).toMatchObject({ id: loyalty.id, fullIDsCount: 1 })
      expect(report.datasets.map((d) => d.name)).toEqual(["CRM", "Web", "Loyalty"])

      const byCode = Object.fromEntries(report.namespaces.map((n) => [n.code, n]))
      expect(Object.keys(byCode).sort()).toEqual(["ECID", "Email", "crmid", "loyaltyid"])
      expect(byCode.ECID).toMatchObject({ id: "4", fullIDsCount: 3, fullIDsFragmentCount: 3 })
      expect(byCode.Email).toMatchObject({ id: "6", fullIDsCount: 2, fullIDsFragmentCount: 0 })
      expect(byCode.crmid).toMatchObject({ id: namespaceId("crmid"), fullIDsCount: 3, fullIDsFragmentCount: 3 })
      expect(byCode.loyaltyid).toMatchObject({ fullIDsCount: 1, fullIDsFragmentCount: 1 })

      const ids = [crm.id, loyalty.id, web.id].sort()
      expect(report.datasetOverlap).toEqual({ [ids.join(",")]: 1, [crm.id]: 2, [web.id]: 2 })
      expect(report.namespaceOverlap).toEqual({ "ECID,Email,crmid,loyaltyid": 1, "Email,crmid": 1, crmid: 1, ECID: 2 })
      expect(sum(report.datasetOverlap)).toBe(5)
      expect(sum(report.namespaceOverlap)).toBe(5)

      const windows = report.unstitched
      // G2, G3 (no events) and G5 (last event 100 days ago); G4 was active yesterday.
      for (const name of ["7days", "30days", "60days", "90days"]) {
        expect(windows[name]).toEqual({
          countOfProfiles: 3,
          eventsAssociated: 1,
          nsDistribution: { ECID: { countOfProfiles: 1, eventsAssociated: 1 }, crmid: { countOfProfiles: 2, eventsAssociated: 0 } }
        })
      }
      expect(windows["120days"]).toEqual({
        countOfProfiles: 2,
        eventsAssociated: 0,
        nsDistribution: { crmid: { countOfProfiles: 2, eventsAssociated: 0 } }
      })
    }).pipe(Effect.provide(storeWith()))
  )

  it.effect("follows the default policy: `none` counts identities, not graphs", () =>
    Effect.gen(function* () {
      const { crm, web } = yield* handBuilt
      const policies = yield* MergePolicies.MergePolicies
      const page = yield* policies.list("prod", {})
      yield* policies.update("prod", page.policies.find((p) => p.isDefault)!.id, (p) => Effect.succeed({ ...p, identityGraph: "none" as const }))
      const snapshot = yield* SampleStatus.runSample("prod")
      // c1, c2, c3, L1, e1, e2, e3: each its own profile with one fragment.
      expect(snapshot.mergeStrategy).toBe("timestampOrdered_none")
      expect(snapshot.totalRows).toBe(7)
      expect(snapshot.fragments).toBe(7)
      expect(snapshot.namespaceOverlap).toEqual({ ECID: 3, crmid: 3, loyaltyid: 1 })
      expect(snapshot.datasetOverlap[crm.id]).toBe(3)
      expect(snapshot.datasetOverlap[web.id]).toBe(3)
      expect(snapshot.unstitched["120days"]!.countOfProfiles).toBe(4)
    }).pipe(Effect.provide(storeWith()))
  )

  it.effect("a profile whose data is deleted no longer counts", () =>
    Effect.gen(function* () {
      yield* handBuilt
      const entities = yield* Entities.Entities
      yield* entities.deleteEntity("prod", { namespace: "ecid", id: ecid(1) }, undefined)
      const snapshot = yield* SampleStatus.runSample("prod")
      // G1 (c1, L1, e1 and a@x.com) is gone: its identities remain, its data does not.
      expect(snapshot.totalRows).toBe(4)
      expect(snapshot.fragments).toBe(4)
      expect(snapshot.documents).toBe(6)
      expect(snapshot.namespaceOverlap).toEqual({ "Email,crmid": 1, crmid: 1, ECID: 2 })
    }).pipe(Effect.provide(storeWith()))
  )

  it.effect("keeps reports by day: date selects that day's latest, 404 for a day without one, 400 for a bad date", () =>
    Effect.gen(function* () {
      const { crm } = yield* handBuilt
      const samples = yield* service
      yield* SampleStatus.runSample("prod")
      // Next day: one more CRM profile, sampled twice; the later sample wins the day.
      yield* TestClock.setTime(NOW + DAY - 4 * 3_600_000)
      yield* ingest(crm.id, [person([["CRMID", "c4"]])])
      yield* SampleStatus.runSample("prod")
      yield* TestClock.setTime(NOW + DAY + 500)
      yield* ingest(crm.id, [person([["CRMID", "c5"]])])
      yield* SampleStatus.runSample("prod")

      const first = yield* samples.report("prod", "1970-05-01")
      expect(first.sampledAt).toBe(NOW)
      expect(sum(first.datasetOverlap)).toBe(5)
      const second = yield* samples.report("prod", "1970-05-02")
      expect(second.sampledAt).toBe(NOW + DAY + 500)
      expect(sum(second.datasetOverlap)).toBe(7)
      expect(yield* samples.report("prod")).toEqual(second)
      expect(yield* samples.latestReport("prod")).toEqual(second)
      expect((yield* samples.status("prod")).snapshot).toEqual(second)

      const none = yield* Effect.flip(samples.report("prod", "1970-05-03"))
      expect(none).toMatchObject({ _tag: "ReportNotFound", date: "1970-05-03" })
      for (const bad of ["2024-13-45", "yesterday", "2025-02-30", "2025-6-1"]) {
        const error = yield* Effect.flip(samples.report("prod", bad))
        expect(error).toMatchObject({ _tag: "InvalidInput", rule: "Invalid date" })
      }
      // Sandboxes are separate.
      expect((yield* Effect.flip(samples.report("other")))._tag).toBe("ReportNotFound")
    }).pipe(Effect.provide(storeWith()))
  )

  it.effect("samples a sandbox once ingestion has been quiet for the configured period", () =>
    Effect.gen(function* () {
      const samples = yield* service
      const ingestion = yield* Ingestion.Ingestion
      const crm = yield* dataset("CRM", "profile")

      yield* ingest(crm.id, [person([["CRMID", "c1"]])])
      yield* settle
      yield* TestClock.adjust("1500 millis")
      yield* settle
      expect(yield* sampled).toBe(false)
      // Another change restarts the quiet period.
      yield* ingestion.streamRecord("prod", crm.id, person([["CRMID", "c2"]]))
      yield* settle
      yield* TestClock.adjust("1500 millis")
      yield* settle
      expect(yield* sampled).toBe(false)
      yield* TestClock.adjust("500 millis")
      const snapshot = yield* sampledSoon
      expect(Option.getOrThrow(snapshot).totalRows).toBe(2)
      // Other sandboxes are not sampled.
      expect(Option.isNone(yield* samples.snapshot("other"))).toBe(true)
    }).pipe(Effect.provide(storeWith({ automatic: true, quietPeriod: "2 seconds" })))
  )

  it.effect("waits past the quiet period while a batch of the sandbox is processed, then for a quiet period after it", () =>
    Effect.gen(function* () {
      const samples = yield* service
      const events = yield* StoreEvents.StoreEvents
      const crm = yield* dataset("CRM", "profile")

      yield* ingest(crm.id, [person([["CRMID", "c1"]])])
      // The next batch of a load, still being processed when the quiet period ends.
      const release = yield* Deferred.make<void>()
      const batch = yield* Effect.fork(events.processing("prod", Deferred.await(release)))
      yield* settle
      yield* TestClock.adjust("2500 millis")
      yield* settle
      expect(yield* sampled).toBe(false)
      yield* TestClock.adjust("1 minute")
      yield* settle
      expect(yield* sampled).toBe(false)
      expect(yield* samples.running("prod")).toBe(false)

      yield* Deferred.succeed(release, undefined)
      yield* batch.await
      yield* settle
      yield* TestClock.adjust("1900 millis")
      yield* settle
      expect(yield* sampled).toBe(false)
      yield* TestClock.adjust("100 millis")
      const snapshot = yield* sampledSoon
      expect(Option.getOrThrow(snapshot).totalRows).toBe(1)
    }).pipe(Effect.provide(storeWith({ automatic: true, quietPeriod: "2 seconds" })))
  )

  it.effect("sampleJobRunning is true while a job runs", () =>
    Effect.gen(function* () {
      const entered = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const hold = () => Effect.zipRight(Deferred.succeed(entered, undefined), Deferred.await(release))
      yield* Effect.provide(whileHeld(entered, release), storeWith({ beforeScan: hold }))
    })
  )

  it.effect("beyond the threshold reads a deterministic sample and scales it to the store", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const crm = yield* dataset("CRM", "profile")
      const web = yield* dataset("Web", "experienceevent")
      // 300 CRM profiles, every third also seen on the web (linked by ECID), and 100 web-only visitors.
      yield* ingest(
        crm.id,
        Array.from({ length: 300 }, (_, i) => person([["CRMID", `c${i}`], ...(i % 3 === 0 ? [["ECID", ecid(i)] as const] : [])]))
      )
      yield* ingest(web.id, [
        ...Array.from({ length: 100 }, (_, i) => event(`k${i}`, NOW - DAY, [["ECID", ecid(i * 3)]])),
        ...Array.from({ length: 100 }, (_, i) => event(`v${i}`, NOW - DAY, [["ECID", ecid(10_000 + i)]]))
      ])
      const first = yield* SampleStatus.runSample("prod")
      expect(first.sampled).toBe(true)
      expect(first.totalRows).toBe(400)
      expect(first.fragments).toBe(300 + 200)
      expect(first.documents).toBe(300 + 200)
      expect(first.numRowsToRead).toBeGreaterThan(20)
      expect(first.numRowsToRead).toBeLessThan(100)
      expect(sum(first.datasetOverlap)).toBe(400)
      expect(sum(first.namespaceOverlap)).toBe(400)
      const samples = yield* service
      expect((yield* samples.status("prod")).snapshot).toEqual(first)
      // Scaled figures are near the truth: 300 CRM profiles, 200 on the web.
      const report = yield* samples.report("prod")
      const crmRow = report.datasets.find((d) => d.id === crm.id)!
      expect(crmRow.fullIDsCount).toBeGreaterThan(200)
      expect(crmRow.fullIDsCount).toBeLessThanOrEqual(400)
      expect(crmRow.fullIDsCount).toBe(Math.round((crmRow.sampleCount * 400) / first.numRowsToRead))
      expect(crmRow.sampleCount).toBeLessThanOrEqual(first.numRowsToRead)
      // The same store gives the same sample.
      const again = yield* SampleStatus.runSample("prod")
      expect(again.numRowsToRead).toBe(first.numRowsToRead)
      expect(again.datasetOverlap).toEqual(first.datasetOverlap)
    }).pipe(Effect.provide(storeWith({ sampleThreshold: 60 })))
  )
})

describe("sample helpers", () => {
  it("accepts only real days", () => {
    expect(parseDay("2024-02-29")).toBe("2024-02-29")
    expect(parseDay("2023-02-29")).toBeUndefined()
    expect(parseDay("2024-13-45")).toBeUndefined()
    expect(parseDay("yesterday")).toBeUndefined()
  })

  it("gives standard namespaces AEP's ids and others stable ones", () => {
    expect(["email", "ecid", "phone", "aaid"].map(namespaceId)).toEqual(["6", "4", "7", "10"])
    expect(namespaceId("crmid")).toBe(namespaceId("crmid"))
    expect(Number(namespaceId("crmid"))).toBeGreaterThanOrEqual(1000)
    expect(namespaceId("crmid")).not.toBe(namespaceId("loyaltyid"))
  })

  it("apportions scaled counts so they sum to the total", () => {
    const scaled = apportion(new Map([["a", 1], ["b", 1], ["c", 1]]), 3, 10)
    expect([...scaled.values()].reduce((a, b) => a + b, 0)).toBe(10)
    expect(scaled.get("a")).toBe(4)
  })
})
