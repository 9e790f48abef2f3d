import { it, expect } from "@effect/vitest"
import { Effect } from "effect"
import { Catalog, Entities, Ingestion, ProfileStore } from "@rtcp/profile-store"
import { datasets, demoCustomer, records } from "@rtcp/seed"

it.effect("seeds and looks up the demo customer", () =>
  Effect.gen(function* () {
    const catalog = yield* Catalog.Catalog
    const ingestion = yield* Ingestion.Ingestion
    const entities = yield* Entities.Entities
    const anchor = new Date("2026-01-01T00:00:00Z")
    const start = Date.now()
    for (const spec of datasets) {
      const ds = yield* catalog.create("prod", {
        name: spec.name,
        schemaRef: { id: spec.schemaClass },
        tags: { unifiedProfile: spec.upsert ? ["enabled:true", "isUpsert:true"] : ["enabled:true"] }
      })
      yield* ingestion.ingestRecords("prod", ds.id, records(spec.key, { profiles: 2000, anchor }))
    }
    console.log("ingest ms", Date.now() - start)
    const t = Date.now()
    const profile = yield* entities.getProfile("prod", {
      identity: { namespace: "Email", value: demoCustomer.email },
      schemaName: "_xdm.context.profile"
    })
    console.log("lookup ms", Date.now() - t)
    console.log(JSON.stringify(profile, null, 1).slice(0, 3000))
    const events = yield* entities.getEvents("prod", { identity: { namespace: "email", value: demoCustomer.email }, limit: 3 })
    console.log(JSON.stringify(events).slice(0, 800))
    expect(profile.body.sources.length).toBeGreaterThanOrEqual(2)
  }).pipe(Effect.provide(ProfileStore.layerSqlite({ directory: ":memory:" })))
)
