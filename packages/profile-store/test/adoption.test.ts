/**
 * Several processes on one Postgres database: a sample or a computed
 * attribute evaluation that a process began and never finished (it died
 * holding the job's lease) is taken over by another process once the lease
 * has run out, without waiting for a change of its own to start it again.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer, Option } from "effect"
import { ComputedAttributes, JobLeases, SampleStatus } from "../src/index.js"
import { dialect } from "./support/database.js"
import { dataset, ingest, person, store } from "./support/store.js"

const owner = { imsOrgId: "ACME@AdobeOrg", createdBy: "tester@AdobeID" }

/** The survivor: a store whose own triggers never fire here (no automatic sample, no change after the start). */
const survivor = () =>
  store().pipe(
    Layer.provide(SampleStatus.layerSettings({ automatic: false })),
    Layer.provide(Layer.succeed(JobLeases.Settings, { lease: "1 second", poll: "100 millis" }))
  )

/** What a process that died while running `job` leaves: its lease, running out shortly. */
const diedHolding = (job: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const now = yield* Clock.currentTimeMillis
    yield* sql`INSERT INTO job_leases ${sql.insert({ job, owner: "gone-host:1:dead", expires_at: now + 500 })}`
  })

const until = <A, R>(what: string, check: Effect.Effect<Option.Option<A>, never, R>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 600; i++) {
      const found = yield* check
      if (Option.isSome(found)) return found.value
      yield* Effect.sleep("50 millis")
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })

const leaseOf = (job: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ readonly owner: string }>`SELECT owner FROM job_leases WHERE job = ${job}`).pipe(Effect.orDie)

describe.skipIf(dialect !== "postgres")("jobs left half-done by a process that died", () => {
  it.live("a sample is taken over once its lease runs out", () =>
    Effect.gen(function* () {
      const crm = yield* dataset("CRM", "profile")
      yield* ingest(crm.id, [person([["CRMID", "a"]]), person([["CRMID", "b"]])])
      const samples = yield* SampleStatus.SampleStatus
      expect(Option.isNone(yield* samples.snapshot("prod"))).toBe(true)
      yield* diedHolding("sample:prod")
      const snapshot = yield* until("the sample", Effect.orDie(samples.snapshot("prod")))
      expect(snapshot.numRowsToRead).toBe(2)
      // Finished and released (just after the snapshot is written): nothing left to take over.
      yield* until("the lease to be released", Effect.map(leaseOf("sample:prod"), (rows) => (rows.length === 0 ? Option.some(rows) : Option.none())))
    }).pipe(Effect.provide(survivor())))

  it.live("a computed attribute evaluation is taken over once its lease runs out", () =>
    Effect.gen(function* () {
      const events = yield* dataset("Events", "experienceevent")
      yield* ingest(events.id, [{ ...person([["CRMID", "a"]]), _id: "e1", timestamp: new Date().toISOString(), eventType: "web.webpagedetails.pageViews" }])
      const ca = yield* ComputedAttributes.ComputedAttributes
      const created = yield* ca.create(
        "prod",
        {
          name: "views",
          displayName: "views",
          description: "page views",
          expression: 'xEvent[eventType = "web.webpagedetails.pageViews"].count()',
          duration: { count: 7, unit: "DAYS" },
          keepCurrent: false,
          status: "NEW"
        },
        owner
      )
      const processed = (after: number) =>
        Effect.map(ca.get("prod", created.id), (a) =>
          a.status === "PROCESSED" && (a.lastEvaluationTs ?? 0) > after ? Option.some(a) : Option.none()
        ).pipe(Effect.orDie)
      const first = yield* until("the first evaluation", processed(0))
      // A process died in the middle of the next evaluation.
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE computed_attributes SET status = 'PROCESSING' WHERE id = ${created.id}`
      yield* diedHolding("computed-attributes:prod")
      const again = yield* until("the evaluation to be taken over", processed(first.lastEvaluationTs!))
      expect(again.status).toBe("PROCESSED")
      expect(yield* leaseOf("computed-attributes:prod")).toEqual([])
    }).pipe(Effect.provide(survivor())))
})
