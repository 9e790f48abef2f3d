/**
 * One profile job on a seeded store, timed from its creation to its end:
 * a profile system job deleting a dataset (`TRUNCATE_DATASET`), or an export
 * job writing every merged profile as NDJSON.
 */
import { Catalog, ExportJobs, ProfileStore, SystemJobs } from "@rtcp/profile-store"
import { Effect } from "effect"
import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { SANDBOX } from "../lib/seed.js"
import { resources, workerMain } from "../lib/worker.js"

export interface JobArgs {
  readonly dir: string
  readonly kind: "delete" | "export"
  /** The dataset to delete, by name. */
  readonly dataset?: string
}

export interface JobResult {
  readonly kind: JobArgs["kind"]
  readonly seconds: number
  /** Fragments and events deleted, or profiles exported. */
  readonly rows: number
  readonly rowsPerSecond: number
  readonly exportedMb?: number | undefined
  readonly maxRssMb: number
}

const filesSize = (dir: string): number => {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    total += entry.isDirectory() ? filesSize(join(dir, entry.name)) : statSync(join(dir, entry.name)).size
  }
  return total
}

const program = (args: JobArgs) =>
  Effect.gen(function* () {
    const catalog = yield* Catalog.Catalog
    if (args.kind === "delete") {
      const jobs = yield* SystemJobs.SystemJobs
      const dataset = (yield* catalog.list(SANDBOX)).find((d) => d.name === args.dataset)
      if (!dataset) return yield* Effect.dieMessage(`no dataset named ${args.dataset}`)
      const started = performance.now()
      const job = yield* jobs.create({ sandbox: SANDBOX, sandboxId: "bench", imsOrgId: "RTCPLOCAL@AdobeOrg" }, { datasetId: dataset.id })
      const done = yield* jobs.await(SANDBOX, job.id)
      const seconds = (performance.now() - started) / 1000
      if (done.status !== "SUCCESS") return yield* Effect.dieMessage(`the delete job ended ${done.status}: ${done.error}`)
      const rows = done.fragmentsDeleted + done.eventsDeleted
      return { kind: args.kind, seconds, rows, rowsPerSecond: rows / seconds, maxRssMb: resources().maxRssMb } satisfies JobResult
    }
    const exports = yield* ExportJobs.ExportJobs
    const destination = yield* catalog.create(SANDBOX, { name: "bench export", schemaRef: { id: "https://ns.adobe.com/xdm/context/profile" } })
    const started = performance.now()
    const job = yield* exports.create(
      SANDBOX,
      {
        request: {
          fields: undefined,
          mergePolicyId: undefined,
          mergePolicyVersion: undefined,
          segments: undefined,
          fromIngestTimestamp: undefined,
          emptyProfiles: false,
          events: undefined,
          datasetId: destination.id,
          segmentPerBatch: false
        },
        echo: {}
      },
      { imsOrgId: "RTCPLOCAL@AdobeOrg" }
    )
    for (;;) {
      const current = yield* exports.get(SANDBOX, job.id)
      if (current.status === "SUCCEEDED" || current.status === "FAILED" || current.status === "CANCELLED") {
        const seconds = (performance.now() - started) / 1000
        if (current.status !== "SUCCEEDED") return yield* Effect.dieMessage(`the export job ended ${current.status}`)
        const rows = current.metrics.totalExportedProfileCounter
        const files = yield* exports.files(SANDBOX, job.id)
        const exportedMb = files.reduce((sum, file) => sum + statSync(file).size, 0) / 2 ** 20
        return { kind: args.kind, seconds, rows, rowsPerSecond: rows / seconds, exportedMb, maxRssMb: resources().maxRssMb } satisfies JobResult
      }
      yield* Effect.sleep("50 millis")
    }
  }).pipe(Effect.provide(ProfileStore.layerSqlite({ directory: args.dir })), Effect.orDie)

workerMain<JobArgs, JobResult>((args) => Effect.runPromise(program(args)).then((result) => ({ ...result, dataDirMb: filesSize(args.dir) / 2 ** 20 })))
