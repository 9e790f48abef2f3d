import { HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, layer as blockOf } from "@effect/vitest"
import { type ProfileError, ProfileClient } from "@rtcp/core"
import { Catalog, SampleStatus } from "@rtcp/profile-store"
import { datasets, records } from "@rtcp/seed"
import { Effect, Layer, TestClock } from "effect"
import { seedDemo } from "../src/Seed.js"
import { authHeaders, ingest, layer } from "./support/harness.js"

// Near the epoch: the TestClock wakes the store's periodic fibers (computed
// attributes check hourly) on its way to the time it is set to.
const ANCHOR = Date.UTC(1970, 4, 1)
const PROFILES = 300
const DAY = 86_400_000

/** Samples run only when a test asks. */
const manual = layer().pipe(Layer.provide(SampleStatus.layerSettings({ automatic: false })))

const rawGet = (path: string, auth = true) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const headers = auth ? yield* authHeaders() : {}
    const response = yield* client.execute(HttpClientRequest.get(path).pipe(HttpClientRequest.setHeaders(headers)))
    return { status: response.status, body: (yield* response.json) as any }
  }).pipe(Effect.scoped)

const sum = (record: Readonly<Record<string, number>>) => Object.values(record).reduce((a, b) => a + b, 0)

// ---------------------------------------------------------------------------
// The expected figures, recomputed from the seed's records by union-find.
// ---------------------------------------------------------------------------

const STANDARD: Record<string, string> = { email: "Email", ecid: "ECID", phone: "Phone", aaid: "AAID" }
const display = (ns: string) => STANDARD[ns] ?? ns

interface Component {
  datasets: Set<string>
  namespaces: Set<string>
  fragments: number
  events: number
  lastEvent: number | undefined
  fragmentNamespace: string | undefined
}

const expectedFigures = (datasetIds: ReadonlyMap<string, string>, sampledAt: number) => {
  const parent = new Map<string, string>()
  const find = (x: string): string => {
    let root = x
    while (parent.get(root) !== root) root = parent.get(root)!
    parent.set(x, root)
    return root
  }
  const add = (x: string) => {
    if (!parent.has(x)) parent.set(x, x)
  }
  const union = (a: string, b: string) => {
    const [ra, rb] = [find(a), find(b)]
    if (ra !== rb) parent.set(ra, rb)
  }
  const recordFragments = new Map<string, { dataset: string; primary: string }>()
  const eventFragments = new Map<string, { dataset: string; primary: string }>()
  const events: Array<{ primary: string; ts: number }> = []
  for (const spec of datasets) {
    const dataset = datasetIds.get(spec.name)!
    const isEvent = spec.schemaClass.endsWith("experienceevent")
    for (const record of records(spec.key, { profiles: PROFILES, anchor: new Date(ANCHOR) })) {
      const identities = Object.entries(record.identityMap as Record<string, Array<{ id: string; primary?: boolean }>>).flatMap(
        ([ns, entries]) => entries.map((entry) => ({ key: `${ns.toLowerCase()}:${entry.id}`, primary: entry.primary === true }))
      )
      for (const identity of identities) add(identity.key)
      for (const identity of identities.slice(1)) union(identities[0]!.key, identity.key)
      const primary = (identities.find((i) => i.primary) ?? identities[0]!).key
      if (isEvent) {
        eventFragments.set(`${dataset}|${primary}`, { dataset, primary })
        events.push({ primary, ts: Date.parse(record.timestamp as string) })
      } else {
        recordFragments.set(`${dataset}|${primary}`, { dataset, primary })
      }
    }
  }
  const components = new Map<string, Component>()
  const of = (identity: string) => {
    const root = find(identity)
    let component = components.get(root)
    if (!component) {
      component = { datasets: new Set(), namespaces: new Set(), fragments: 0, events: 0, lastEvent: undefined, fragmentNamespace: undefined }
      components.set(root, component)
    }
    return component
  }
  const fragmentsByNamespace = new Map<string, number>()
  for (const { dataset, primary } of [...recordFragments.values(), ...eventFragments.values()]) {
    const component = of(primary)
    const code = display(primary.split(":")[0]!)
    component.datasets.add(dataset)
    component.fragments += 1
    component.fragmentNamespace = code
    fragmentsByNamespace.set(code, (fragmentsByNamespace.get(code) ?? 0) + 1)
  }
  for (const { primary, ts } of events) {
    const component = of(primary)
    component.events += 1
    component.lastEvent = Math.max(component.lastEvent ?? -Infinity, ts)
  }
  for (const identity of parent.keys()) components.get(find(identity))?.namespaces.add(display(identity.split(":")[0]!))

  const count = (keys: Iterable<string>, into: Record<string, number>) => {
    for (const key of keys) into[key] = (into[key] ?? 0) + 1
  }
  const ascii = (values: Iterable<string>) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(",")
  const byDataset: Record<string, number> = {}
  const byNamespace: Record<string, number> = {}
  const datasetOverlap: Record<string, number> = {}
  const namespaceOverlap: Record<string, number> = {}
  const windows: Record<string, { countOfProfiles: number; eventsAssociated: number; nsDistribution: Record<string, { countOfProfiles: number; eventsAssociated: number }> }> = {}
  for (const [name, days] of [["7days", 7], ["30days", 30], ["60days", 60], ["90days", 90], ["120days", 120]] as const) {
    const window = { countOfProfiles: 0, eventsAssociated: 0, nsDistribution: {} as Record<string, { countOfProfiles: number; eventsAssociated: number }> }
    for (const component of components.values()) {
      if (component.fragments !== 1) continue
      if (component.lastEvent !== undefined && component.lastEvent >= sampledAt - days * DAY) continue
      window.countOfProfiles += 1
      window.eventsAssociated += component.events
      const entry = (window.nsDistribution[component.fragmentNamespace!] ??= { countOfProfiles: 0, eventsAssociated: 0 })
      entry.countOfProfiles += 1
      entry.eventsAssociated += component.events
    }
    windows[name] = window
  }
  for (const component of components.values()) {
    count(component.datasets, byDataset)
    count(component.namespaces, byNamespace)
    count([ascii(component.datasets)], datasetOverlap)
    count([ascii(component.namespaces)], namespaceOverlap)
  }
  return {
    profiles: components.size,
    fragments: recordFragments.size + eventFragments.size,
    documents: recordFragments.size + events.length,
    events: events.length,
    byDataset,
    byNamespace,
    fragmentsByNamespace: Object.fromEntries(fragmentsByNamespace),
    datasetOverlap,
    namespaceOverlap,
    windows
  }
}

// ---------------------------------------------------------------------------

describe("preview sample status through the core client", () => {
  // `layer` from @effect/vitest, not `it.layer`: `it.layer` assigns its methods
  // onto the shared `it`, so a second `it.layer` in a file would nest in the
  // first and share its store.
  blockOf(manual, { timeout: 60_000 })((it) => {
    it.effect("before any sample: 200 with zero counts, reports 404; bad dates 400", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const status = yield* client.getSampleStatus()
        expect(status).toMatchObject({
          totalRows: "0",
          numRowsToRead: "0",
          totalFragmentCount: 0,
          status: "TASK_NOT_STARTED",
          mergeStrategy: "timestampOrdered_pdg",
          sampleJobRunning: { status: false, submissionTimestamp: null }
        })
        for (const call of [
          client.getDatasetReport() as Effect.Effect<unknown, ProfileError.ProfileError>,
          client.getNamespaceReport(),
          client.getDatasetOverlapReport(),
          client.getNamespaceOverlapReport(),
          client.getUnstitchedProfilesReport()
        ]) {
          const error = yield* Effect.flip(call)
          expect(error._tag).toBe("NotFound")
          expect(error.status).toBe(404)
          expect(error.body).toMatchObject({ status: 404 })
        }
        const alias = yield* rawGet("/data/core/ups/previewsamplestatus/report/unknownProfiles")
        expect(alias.status).toBe(404)
        // A well-formed but impossible day passes the contract and the service refuses it.
        const impossible = yield* Effect.flip(client.getNamespaceOverlapReport("2024-13-45"))
        expect(impossible._tag).toBe("BadRequest")
        expect(impossible.status).toBe(400)
        expect(impossible.body).toMatchObject({ status: 400, title: "Invalid date", type: expect.stringContaining("RTCP-400") })
        // The core client refuses to send a malformed date, so send it raw.
        for (const path of ["dataset", "namespace", "dataset/overlap", "namespace/overlap"]) {
          for (const bad of ["yesterday", "2024-13-45"]) {
            const answer = yield* rawGet(`/data/core/ups/previewsamplestatus/report/${path}?date=${bad}`)
            expect(answer.status).toBe(400)
            expect(answer.body).toMatchObject({ status: 400, type: expect.stringContaining("RTCP-400") })
          }
        }
      })
    )
  })

  blockOf(manual, { timeout: 120_000 })((it) => {
    it.effect("a seeded store: every figure matches counts recomputed from the records", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(ANCHOR)
        yield* seedDemo({ sandbox: "prod", profiles: PROFILES, anchor: new Date(ANCHOR) })
        const catalog = yield* Catalog.Catalog
        const datasetIds = new Map((yield* catalog.list("prod")).map((d) => [d.name, d.id]))
        const expected = expectedFigures(datasetIds, ANCHOR)
        expect(expected.profiles).toBeGreaterThan(PROFILES)

        yield* SampleStatus.runSample("prod")
        const client = yield* ProfileClient.ProfileClient
        const status = yield* client.getSampleStatus()
        expect(status).toMatchObject({
          totalRows: String(expected.profiles),
          numRowsToRead: String(expected.profiles),
          totalFragmentCount: expected.fragments,
          cosmosDocCount: JSON.stringify(String(expected.documents)),
          docCount: JSON.stringify(String(expected.documents)),
          samplingRatio: 1,
          status: "TASK_FINISHED",
          mergeStrategy: "timestampOrdered_pdg",
          lastSampledTimestamp: "1970-05-01 00:00:00.0"
        })

        const datasetReport = yield* client.getDatasetReport()
        expect(Object.fromEntries(datasetReport.data.map((d) => [d.value, d.fullIDsCount]))).toEqual(
          Object.fromEntries([...datasetIds.values()].map((id) => [id, expected.byDataset[id]]))
        )
        for (const row of datasetReport.data) {
          expect(row.sampleCount).toBe(row.fullIDsCount)
          expect(row.fullIDsPercentage).toBeCloseTo(row.fullIDsCount / expected.profiles, 5)
          expect(row.name).toBe([...datasetIds].find(([, id]) => id === row.value)![0])
        }

        const namespaceReport = yield* client.getNamespaceReport()
        expect(Object.fromEntries(namespaceReport.data.map((n) => [n.code, n.fullIDsCount]))).toEqual(expected.byNamespace)
        expect(
          Object.fromEntries(namespaceReport.data.filter((n) => n.fullIDsFragmentCount > 0).map((n) => [n.code, n.fullIDsFragmentCount]))
        ).toEqual(expected.fragmentsByNamespace)
        const ids = Object.fromEntries(namespaceReport.data.map((n) => [n.code, n.value]))
        expect(ids).toMatchObject({ Email: "6", ECID: "4", Phone: "7" })

        const datasetOverlap = yield* client.getDatasetOverlapReport()
        expect(datasetOverlap.data).toEqual(expected.datasetOverlap)
        expect(sum(datasetOverlap.data)).toBe(expected.profiles)
        const namespaceOverlap = yield* client.getNamespaceOverlapReport("1970-05-01")
        expect(namespaceOverlap.data).toEqual(expected.namespaceOverlap)
        expect(sum(namespaceOverlap.data)).toBe(expected.profiles)
        expect(namespaceOverlap.reportTimestamp).toBe("1970-05-01T00:00:00.000")

        const unstitched = yield* client.getUnstitchedProfilesReport()
        expect(unstitched.data).toEqual({
          totalNumberOfProfiles: expected.profiles,
          totalNumberOfEvents: expected.events,
          unstitchedProfiles: expected.windows
        })
        // The older path answers the same report.
        const alias = yield* rawGet("/data/core/ups/previewsamplestatus/report/unknownProfiles")
        expect(alias.status).toBe(200)
        expect(alias.body.data).toEqual(unstitched.data)
        const anonymous = yield* rawGet("/data/core/ups/previewsamplestatus/report/unknownProfiles", false)
        expect(anonymous.status).toBe(401)
        expect(anonymous.body).toEqual({ error_code: "403010", message: "Oauth token is missing." })

        // Another day without a sample: 404; the day of the sample still answers.
        const otherDay = yield* Effect.flip(client.getDatasetReport("1970-05-02"))
        expect(otherDay._tag).toBe("NotFound")
        expect((yield* client.getDatasetReport("1970-05-01")).data).toEqual(datasetReport.data)
      })
    )
  })

  blockOf(layer().pipe(Layer.provide(SampleStatus.layerSettings({ quietPeriod: 0 }))), { timeout: 60_000 })((it) => {
    it.effect("with no quiet period, a sample follows each ingestion", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        yield* ingest({ name: "CRM", xdmClass: "profile" }, [
          { identityMap: { CRMID: [{ id: "c1", primary: true }], Email: [{ id: "a@x.com" }] } },
          { identityMap: { CRMID: [{ id: "c2", primary: true }] } }
        ])
        let status = yield* client.getSampleStatus()
        for (let i = 0; i < 100 && status.status !== "TASK_FINISHED"; i++) {
          yield* Effect.yieldNow()
          status = yield* client.getSampleStatus()
        }
        expect(status).toMatchObject({ status: "TASK_FINISHED", totalRows: "2", totalFragmentCount: 2 })
        const overlap = yield* client.getNamespaceOverlapReport()
        expect(overlap.data).toEqual({ "Email,crmid": 1, crmid: 1 })
      })
    )
  })

  blockOf(manual, { timeout: 60_000 })((it) => {
    it.effect("every answer in AEP's shape, key for key (the alias too)", () =>
      Effect.gen(function* () {
        // On PostgreSQL too: a snapshot kept as jsonb gives its maps back in
        // another key order, and the answer must not show it.
        /** The same JSON text: the values and the order of every key. */
        const exactly = (path: string, expected: unknown) =>
          Effect.gen(function* () {
            const answer = yield* rawGet(`/data/core/ups/previewsamplestatus${path}`)
            expect(answer.status).toBe(200)
            expect(answer.body).toEqual(expected)
            expect(JSON.stringify(answer.body)).toBe(JSON.stringify(expected))
          })

        yield* TestClock.setTime(ANCHOR)
        yield* exactly("", {
          numRowsToRead: "0",
          sampleJobRunning: { status: false, submissionTimestamp: null },
          cosmosDocCount: '"0"',
          docCount: '"0"',
          totalFragmentCount: 0,
          lastSuccessfulBatchTimestamp: '"null"',
          streamingDriven: '"false"',
          totalRows: "0",
          lastBatchId: '"null"',
          status: "TASK_NOT_STARTED",
          samplingRatio: 0,
          mergeStrategy: "timestampOrdered_pdg",
          lastSampledTimestamp: null
        })
        // G1 = c1 + a@x.com (a CRM record, a web event keyed by the email); G2 = c2 alone.
        const crm = yield* ingest({ name: "CRM", xdmClass: "profile" }, [
          { identityMap: { CRMID: [{ id: "c1", primary: true }], Email: [{ id: "a@x.com" }] } },
          { identityMap: { CRMID: [{ id: "c2", primary: true }] } }
        ])
        yield* TestClock.setTime(ANCHOR + 500)
        const web = yield* ingest({ name: "Web", xdmClass: "experienceevent" }, [
          {
            _id: "w1",
            timestamp: new Date(ANCHOR - DAY).toISOString(),
            eventType: "web.webpagedetails.pageViews",
            identityMap: { Email: [{ id: "a@x.com", primary: true }] }
          }
        ])
        yield* TestClock.setTime(ANCHOR + 1500)
        yield* SampleStatus.runSample("prod")
        const at = "1970-05-01T00:00:01.500"

        yield* exactly("", {
          numRowsToRead: "2",
          sampleJobRunning: { status: false, submissionTimestamp: "1970-05-01 00:00:01.5" },
          cosmosDocCount: '"3"',
          docCount: '"3"',
          totalFragmentCount: 3,
          lastSuccessfulBatchTimestamp: JSON.stringify(String(ANCHOR + 500)),
          streamingDriven: '"false"',
          totalRows: "2",
          lastBatchId: JSON.stringify(web.batch.id),
          status: "TASK_FINISHED",
          samplingRatio: 1,
          mergeStrategy: "timestampOrdered_pdg",
          lastSampledTimestamp: "1970-05-01 00:00:01.5"
        })
        const dataset = (name: string, id: string, count: number) => ({
          sampleCount: count,
          samplePercentage: count / 2,
          fullIDsCount: count,
          fullIDsPercentage: count / 2,
          name,
          description: "",
          value: id,
          streamingIngestionEnabled: "",
          createdUser: "rtcp-local@AdobeID",
          reportTimestamp: at
        })
        yield* exactly("/report/dataset", {
          data: [dataset("CRM", crm.dataset.id, 2), dataset("Web", web.dataset.id, 1)],
          reportTimestamp: at
        })
        const crmid = (yield* rawGet("/data/core/ups/previewsamplestatus/report/namespace")).body.data[0].value
        expect(crmid).toMatch(/^\d{4,7}$/)
        yield* exactly("/report/namespace", {
          data: [
            { sampleCount: 2, samplePercentage: 1, reportTimestamp: at, fullIDsFragmentCount: 2, fullIDsCount: 2, fullIDsPercentage: 1, code: "crmid", value: crmid },
            { sampleCount: 1, samplePercentage: 0.5, reportTimestamp: at, fullIDsFragmentCount: 1, fullIDsCount: 1, fullIDsPercentage: 0.5, code: "Email", value: "6" }
          ],
          reportTimestamp: at
        })
        yield* exactly("/report/dataset/overlap?date=1970-05-01", {
          // Keys in ASCII order, as AEP sorts them.
          data: Object.fromEntries(
            [[[crm.dataset.id, web.dataset.id].sort().join(","), 1] as const, [crm.dataset.id, 1] as const].sort(([a], [b]) => (a < b ? -1 : 1))
          ),
          reportTimestamp: at
        })
        yield* exactly("/report/namespace/overlap", { data: { "Email,crmid": 1, crmid: 1 }, reportTimestamp: at })
        const unstitched = {
          data: {
            totalNumberOfProfiles: 2,
            totalNumberOfEvents: 1,
            unstitchedProfiles: Object.fromEntries(
              ["7days", "30days", "60days", "90days", "120days"].map((window) => [
                window,
                { countOfProfiles: 1, eventsAssociated: 0, nsDistribution: { crmid: { countOfProfiles: 1, eventsAssociated: 0 } } }
              ])
            )
          },
          reportTimestamp: at
        }
        yield* exactly("/report/unstitchedProfiles", unstitched)
        yield* exactly("/report/unknownProfiles", unstitched)
      })
    )
  })
})
