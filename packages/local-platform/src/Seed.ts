/**
 * `--seed demo`: the demo retail datasets of `@rtcp/seed`, created and
 * ingested once per sandbox (a second start finds them and does nothing).
 */
import { Catalog, Ingestion } from "@rtcp/profile-store"
import { datasets, records } from "@rtcp/seed"
import { Clock, Effect } from "effect"

export interface SeedOptions {
  readonly sandbox: string
  readonly profiles: number
  /** Events end at this instant; defaults to now. */
  readonly anchor?: Date | undefined
}

export const seedDemo = (options: SeedOptions) =>
  Effect.gen(function* () {
    const catalog = yield* Catalog.Catalog
    const ingestion = yield* Ingestion.Ingestion
    const existing = yield* catalog.list(options.sandbox)
    if (datasets.every((spec) => existing.some((dataset) => dataset.name === spec.name))) {
      yield* Effect.logInfo("demo data already present").pipe(Effect.annotateLogs({ sandbox: options.sandbox }))
      return { created: false, datasets: existing }
    }
    const anchor = options.anchor ?? new Date(yield* Clock.currentTimeMillis)
    const created: Array<Catalog.Dataset> = []
    for (const spec of datasets) {
      const dataset = yield* catalog.create(options.sandbox, {
        name: spec.name,
        description: spec.description,
        schemaRef: { id: spec.schemaClass, contentType: "application/vnd.adobe.xed+json;version=1" },
        tags: { unifiedProfile: spec.upsert ? ["enabled:true", "isUpsert:true"] : ["enabled:true"] }
      })
      const started = yield* Clock.currentTimeMillis
      const batch = yield* ingestion.ingestRecords(options.sandbox, dataset.id, records(spec.key, { profiles: options.profiles, anchor }))
      const finished = yield* Clock.currentTimeMillis
      yield* Effect.logInfo("seeded dataset").pipe(
        Effect.annotateLogs({ dataset: spec.name, records: batch.recordsTotal, ms: finished - started })
      )
      created.push(dataset)
    }
    return { created: true, datasets: created }
  })
