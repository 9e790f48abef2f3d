/**
 * Export jobs (`/data/core/ups/export/jobs`): merged profiles, optionally with
 * their events, written as files into a dataset.
 *
 * A job is checked whole when it is created (nothing is created on a bad
 * request: its body is read at the HTTP edge, its policy and dataset here), gets an integer id and its destination batch at once, and runs in
 * the background: `NEW` → `PROCESSING` → `SUCCEEDED` | `FAILED`, or
 * `CANCELLED` after a cancel. Jobs run one at a time, in creation order.
 *
 * What a job writes: NDJSON files
 * `<DataDirectory>/exports/<sandbox>/<datasetId>/<batchId>/part-NNNNN.ndjson`,
 * one merged profile per line in the entity lookup's shape
 * (`{entityId, sources, entity, lastModifiedAt, mergePolicy, events?}`; the
 * `entityId` is the profile's XID, so `GET /access/entities` with that XID
 * answers the same `entity`), a new part every `profilesPerFile` profiles.
 * The batch is registered in Catalog (`success` with its record count) when
 * the job succeeds. Profiles are read from SQL page by page and each page is
 * written before the next is read, so memory stays flat whatever the number
 * of profiles.
 *
 * Decisions where AEP is silent:
 * - `mergePolicy.version` older than the policy's current version runs with
 *   the current one, and the job shows the version it used. AEP keeps no
 *   history of a policy (no call reads a past version), its guide defaults
 *   to the latest and its own examples still show version 1 after updates,
 *   so clients hard-code `version: 1` (aepp's `createExportJob` does). A
 *   version above the current one never existed: 422. The policy is pinned
 *   at creation, so a later update does not change a job that has not run.
 * - There is no segmentation engine here: a `filter.segments` request is
 *   accepted (its shape is checked) but the job then fails with an error
 *   entry naming the segments, since no segment store knows them.
 * - `filter.fromIngestTimestamp` keeps profiles whose `lastModifiedAt` (latest
 *   fragment ingestion) is after it; for event-only profiles (`emptyProfiles`)
 *   their latest event ingestion counts.
 * - `additionalFields.eventList.filter` keeps events ingested after
 *   `fromIngestTimestamp` and before `toIngestTimestamp` (both exclusive).
 * - `exportedProfileByNamespaceCounter` counts profiles per namespace code of
 *   their identities; codes are the store's lower-case ones, as lookups show.
 * - Graphs above the 50-identity lookup limit are exported whole.
 * - The destination must be a profile-class dataset of the sandbox; the
 *   batch is registered but not ingested into the profile store.
 * - Jobs still `PROCESSING` when the store starts (the service stopped
 *   mid-run) end `FAILED`; `NEW` ones run.
 *
 * @since 0.1.0
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { randomBytes, randomUUID } from "node:crypto"
import { Cause, Clock, Context, Effect, FiberSet, Layer, Option, Schema } from "effect"
import { Catalog } from "./Catalog.js"
import { JobLeases } from "./JobLeases.js"
import { lockFor } from "./internal/dialect.js"
import * as StoreError from "./StoreError.js"
import { invalid, refused } from "./StoreError.js"
import { DataDirectory } from "./DataDirectory.js"
import { batchDirectory, listParts, partWriter, removeDirectory } from "./internal/exportFiles.js"
import { type PolicySnapshot, type ProfilePage, readPage } from "./internal/exportProfiles.js"
import * as ExportRequest from "./internal/exportRequest.js"
import { MergePolicies } from "./MergePolicies.js"
import * as Rows from "./migrations/rows.js"

export const STATUSES = ["NEW", "PROCESSING", "SUCCEEDED", "FAILED", "CANCELLED"] as const
export type Status = (typeof STATUSES)[number]

export const DEFAULT_PROFILES_PER_FILE = 10_000
export const DEFAULT_PAGE_SIZE = 500
/** Pages are smaller when events come along, since a profile then weighs more. */
export const DEFAULT_EVENT_PAGE_SIZE = 100
export const DEFAULT_LIST_LIMIT = 100
export const MAX_LIST_LIMIT = 1000

export const CANCEL_MESSAGE = "Export job has been marked for cancelling"

export interface Options {
  /** Profiles per part file (default 10,000). */
  readonly profilesPerFile?: number | undefined
  /** Profile roots read per SQL page (default 500; 100 with events). */
  readonly pageSize?: number | undefined
  /** Runs before each page is read: a hook for tests that need a job to stay `PROCESSING`. */
  readonly beforePage?: ((job: { readonly sandbox: string; readonly id: number; readonly page: number }) => Effect.Effect<void>) | undefined
}

/**
 * The options `layer` reads when it is built; provide a value around the
 * store's layer (or the service's) to tune it or hook into it.
 */
export class Config extends Context.Reference<Config>()("@rtcp/profile-store/ExportJobs/Config", {
  defaultValue: (): Options => ({})
}) {}

/** Who created the job (from the request's Platform headers). */
export interface Caller {
  readonly imsOrgId: string
  readonly requestId?: string | undefined
}

export interface ListQuery {
  readonly limit?: number | undefined
  /** `"<creationTime>_<id>"` of the last job of the previous page. */
  readonly offset?: string | undefined
  /** One status, or several comma-separated. */
  readonly status?: string | undefined
}

export interface ListPage {
  readonly records: ReadonlyArray<Job>
  readonly limit: number
  /** Cursor of the last record on this page, if any. */
  readonly pageOffset: string | undefined
  /** Offset of the next page; undefined on the last page. */
  readonly next: string | undefined
}

export interface CancelResult {
  readonly status: boolean
  readonly message: string
}

export class ExportJobs extends Context.Tag("@rtcp/profile-store/ExportJobs")<
  ExportJobs,
  {
    /**
     * Creates a job (nothing is created when its policy or dataset is refused),
     * then runs it in the background.
     */
    readonly create: (
      sandbox: string,
      job: NewJob,
      caller: Caller
    ) => Effect.Effect<Job, StoreError.Refused | StoreError.NoDefaultPolicy>
    readonly get: (sandbox: string, id: number) => Effect.Effect<Job, StoreError.ExportJobNotFound>
    /** Newest first. */
    readonly list: (sandbox: string, query: ListQuery) => Effect.Effect<ListPage, StoreError.InvalidInput>
    /** Marks a `NEW` or `PROCESSING` job for cancelling; a finished job is left as it is. */
    readonly cancel: (sandbox: string, id: number) => Effect.Effect<CancelResult, StoreError.ExportJobNotFound>
    /** The part files a job wrote (absolute paths, in order). */
    readonly files: (sandbox: string, id: number) => Effect.Effect<ReadonlyArray<string>, StoreError.ExportJobNotFound>
  }
>() {}

// ---------------------------------------------------------------------------
// jobs
// ---------------------------------------------------------------------------

/** A span of a job's run, in epoch ms (0 while it has not started or ended). */
export interface Timing {
  readonly startTimeInMs: number
  readonly endTimeInMs: number
  readonly totalTimeInMs: number
}

/**
 * What a job has done so far. Kept in AEP's metric names, since the store
 * writes them as they are into the job's `metrics` column.
 */
export interface Metrics {
  readonly totalTime: Timing
  readonly profileExportTime: Timing
  readonly aCPDatasetWriteTime: Timing
  readonly totalExportedProfileCounter: number
  /** Profiles per namespace code of their identities (lower case). */
  readonly exportedProfileByNamespaceCounter: Readonly<Record<string, number>>
}

/** Why a job failed (`code`, `msg` and `callStack` as AEP's error entries name them). */
export interface JobError {
  readonly code: string
  readonly msg: string
  readonly callStack: string
}

/** What the caller sent, kept as sent and echoed back in every answer. */
export interface Echo {
  readonly fields?: string
  readonly filter?: unknown
  readonly additionalFields?: unknown
  readonly evaluationInfo?: unknown
}

/** What a job does: read from AEP's request body at the HTTP edge. */
export type Request = ExportRequest.ExportRequest
export type SegmentFilter = ExportRequest.SegmentFilter
export type EventSelection = ExportRequest.EventSelection
export const { PROFILE_SCHEMA, SEGMENT_STATUSES } = ExportRequest

/** A job to create: what it does, and the request's fields its answers echo. */
export interface NewJob {
  readonly request: Request
  readonly echo: Echo
}

/** An export job as the store keeps it. */
export interface Job {
  readonly id: number
  readonly sandbox: string
  readonly status: Status
  /** The merge policy the job runs with: pinned when it was created. */
  readonly mergePolicyId: string
  readonly mergePolicyVersion: number
  /** The destination dataset, and the batch the job writes into it. */
  readonly datasetId: string
  readonly batchId: string
  readonly segmentPerBatch: boolean
  /** The request's fields, as sent. */
  readonly echo: Echo
  readonly requestId: string
  readonly imsOrgId: string
  /** Ids of the run (`exportJob`, `pushJob`); empty until the job starts. */
  readonly computeGateway: Readonly<Record<string, string>>
  readonly metrics: Metrics
  /** Empty unless the job failed. */
  readonly errors: ReadonlyArray<JobError>
  /** Epoch ms. */
  readonly createdAt: number
  readonly updatedAt: number
}

// ---------------------------------------------------------------------------
// rows
// ---------------------------------------------------------------------------

interface Plan {
  readonly request: ExportRequest.ExportRequest
  readonly policy: PolicySnapshot
}

interface Row {
  readonly id: number
  readonly sandbox: string
  readonly status: Status
  readonly echo: Echo
  readonly plan: Plan
  readonly datasetId: string
  readonly batchId: string
  readonly requestId: string
  readonly imsOrgId: string
  readonly computeGateway: Record<string, string>
  readonly metrics: Metrics
  readonly errors: ReadonlyArray<JobError>
  readonly cancelRequested: boolean
  readonly createdAt: number
  readonly updatedAt: number
}

const timing = (start = 0, end = 0): Timing => ({ startTimeInMs: start, endTimeInMs: end, totalTimeInMs: start > 0 && end >= start ? end - start : 0 })

// The JSON columns hold what this module wrote: parsed, not decoded again.
const toRow = (row: typeof Rows.ExportJob.Type): Row => ({
  id: row.id,
  sandbox: row.sandbox,
  status: row.status,
  echo: JSON.parse(row.request) as Echo,
  plan: JSON.parse(row.plan) as Plan,
  datasetId: row.dataset_id,
  batchId: row.batch_id,
  requestId: row.request_id,
  imsOrgId: row.ims_org_id,
  computeGateway: JSON.parse(row.compute_gateway) as Record<string, string>,
  metrics: JSON.parse(row.metrics) as Metrics,
  errors: JSON.parse(row.errors) as ReadonlyArray<JobError>,
  cancelRequested: row.cancel_requested,
  createdAt: row.created_at,
  updatedAt: row.updated_at
})

const decodeRows = Schema.decodeUnknown(Schema.Array(Rows.ExportJob))

const toJob = (row: Row): Job => ({
  id: row.id,
  sandbox: row.sandbox,
  status: row.status,
  mergePolicyId: row.plan.policy.id,
  mergePolicyVersion: row.plan.policy.version,
  datasetId: row.datasetId,
  batchId: row.batchId,
  segmentPerBatch: row.plan.request.segmentPerBatch,
  echo: row.echo,
  requestId: row.requestId,
  imsOrgId: row.imsOrgId,
  computeGateway: row.computeGateway,
  metrics: row.metrics,
  errors: row.errors,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt
})

const cursorOf = (row: Row) => `${row.createdAt}_${row.id}`
const CURSOR = /^(\d+)_(\d+)$/

const jobNotFound = (id: number) => new StoreError.ExportJobNotFound({ id })

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

const isTerminal = (status: Status) => status === "SUCCEEDED" || status === "FAILED" || status === "CANCELLED"

// ---------------------------------------------------------------------------

export const layerWith = (options: Options = {}) =>
  Layer.scoped(
    ExportJobs,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const catalog = yield* Catalog
      const policies = yield* MergePolicies
      const dataDirectory = yield* DataDirectory
      const leases = yield* JobLeases
      const background = yield* FiberSet.make()
      const turn = yield* Effect.makeSemaphore(1)
      const profilesPerFile = Math.max(1, options.profilesPerFile ?? DEFAULT_PROFILES_PER_FILE)

      const selectOne = SqlSchema.findOne({
        Request: Schema.Struct({ sandbox: Schema.String, id: Schema.Number }),
        Result: Rows.ExportJob,
        execute: ({ sandbox, id }) => sql`SELECT * FROM export_jobs WHERE sandbox = ${sandbox} AND id = ${id}`
      })

      const find = (sandbox: string, id: number) =>
        (Number.isSafeInteger(id)
          ? selectOne({ sandbox, id }).pipe(Effect.map(Option.map(toRow)), Effect.orDie)
          : Effect.succeed(Option.none<Row>()))

      const load = (sandbox: string, id: number) =>
        Effect.flatMap(find(sandbox, id), Option.match({ onNone: () => Effect.fail(jobNotFound(id)), onSome: Effect.succeed }))

      const directoryOf = (row: Row) => batchDirectory(dataDirectory, row.sandbox, row.datasetId, row.batchId)

      // -----------------------------------------------------------------------
      // running a job
      // -----------------------------------------------------------------------

      /** Ends a job that did not succeed: its batch is marked and its partial files removed. */
      const end = (row: Row, status: "FAILED" | "CANCELLED", metrics: Metrics, errors: ReadonlyArray<JobError>) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const final: Metrics = { ...metrics, totalTime: timing(row.createdAt, now) }
          // Files first, so a job seen ended has no partial output left.
          yield* removeDirectory(directoryOf(row))
          yield* Effect.gen(function* () {
            yield* sql`UPDATE export_jobs SET status = ${status}, metrics = ${JSON.stringify(final)}, errors = ${JSON.stringify(errors)},
              updated_at = ${now} WHERE id = ${row.id}`
            yield* sql`UPDATE batches SET status = ${status === "FAILED" ? "failed" : "aborted"},
              errors = ${JSON.stringify(errors.map((error) => ({ file: "", index: 0, code: error.code, message: error.msg })))},
              completed_at = ${now} WHERE sandbox = ${row.sandbox} AND id = ${row.batchId}`
          }).pipe(sql.withTransaction, Effect.orDie)
        })

      const failure = (code: string, msg: string, callStack = ""): JobError => ({ code, msg, callStack })

      const execute = (row: Row, metrics: Metrics) =>
        Effect.gen(function* () {
          const { policy, request } = row.plan
          if (request.segments !== undefined) {
            const ids = request.segments.map((segment) => `${segment.segmentNs}:${segment.segmentId}`).join(", ")
            yield* end(row, "FAILED", metrics, [
              failure(
                "0090000009",
                `Segment filter cannot be evaluated: no segment store here knows ${ids} (the local profile service has no segmentation engine)`,
                "ExportJobs.execute: filter.segments"
              )
            ])
            return
          }
          const pageSize = Math.max(1, options.pageSize ?? (request.events ? DEFAULT_EVENT_PAGE_SIZE : DEFAULT_PAGE_SIZE))
          const counter: Record<string, number> = {}
          let written = 0
          const writeStart = yield* Clock.currentTimeMillis
          const outcome = yield* Effect.scoped(
            Effect.gen(function* () {
              const writer = yield* partWriter(directoryOf(row), profilesPerFile)
              let cursor: number | undefined = 0
              let pageIndex = 0
              while (cursor !== undefined) {
                if (options.beforePage) yield* options.beforePage({ sandbox: row.sandbox, id: row.id, page: pageIndex++ })
                const page: ProfilePage = yield* readPage(sql, row.sandbox, request, policy, cursor, pageSize).pipe(Effect.orDie)
                if (page.profiles.length > 0) {
                  yield* writer.write(page.profiles.map((profile) => profile.line))
                  written = writer.count()
                  for (const profile of page.profiles) {
                    for (const ns of profile.namespaces) counter[ns] = (counter[ns] ?? 0) + 1
                  }
                }
                cursor = page.next
                // Progress, and the cancel flag, once per page.
                const now = yield* Clock.currentTimeMillis
                const progress: Metrics = { ...metrics, totalExportedProfileCounter: written, exportedProfileByNamespaceCounter: counter }
                const [flag] = yield* sql<Pick<typeof Rows.ExportJob.Encoded, "cancel_requested">>`UPDATE export_jobs SET metrics = ${JSON.stringify(progress)}, updated_at = ${now}
                  WHERE id = ${row.id} RETURNING cancel_requested`.pipe(Effect.orDie)
                if (flag !== undefined && Number(flag.cancel_requested) !== 0) return { cancelled: true, readEnd: now } as const
              }
              const readEnd = yield* Clock.currentTimeMillis
              yield* writer.close
              return { cancelled: false, readEnd } as const
            })
          )
          const now = yield* Clock.currentTimeMillis
          const final: Metrics = {
            totalTime: timing(row.createdAt, now),
            profileExportTime: timing(metrics.profileExportTime.startTimeInMs, outcome.readEnd),
            aCPDatasetWriteTime: timing(writeStart, now),
            totalExportedProfileCounter: written,
            exportedProfileByNamespaceCounter: counter
          }
          if (outcome.cancelled) {
            yield* end(row, "CANCELLED", final, [])
            return
          }
          yield* Effect.gen(function* () {
            yield* sql`UPDATE batches SET status = 'success', records_total = ${written}, records_failed = 0,
              completed_at = ${now} WHERE sandbox = ${row.sandbox} AND id = ${row.batchId}`
            yield* sql`UPDATE export_jobs SET status = 'SUCCEEDED', metrics = ${JSON.stringify(final)}, updated_at = ${now}
              WHERE id = ${row.id}`
          }).pipe(sql.withTransaction, Effect.orDie)
        })

      const leaseOf = (id: number) => `export-job:${id}`

      /**
       * Waits for its turn, then runs the job unless it was cancelled
       * meanwhile, or another process holds it. A job PROCESSING here was
       * left by a process that died (its lease ran out): it runs again from
       * the start, its partial files removed first.
       */
      const run = (sandbox: string, id: number) =>
        turn.withPermits(1)(
          Effect.gen(function* () {
            const now = yield* Clock.currentTimeMillis
            const gateway = { exportJob: randomUUID(), pushJob: randomUUID() }
            const [before] = yield* sql`SELECT * FROM export_jobs WHERE id = ${id} AND status IN ('NEW', 'PROCESSING')`.pipe(
              Effect.flatMap(decodeRows),
              Effect.orDie
            )
            if (before === undefined) return
            if (before.status === "PROCESSING") yield* removeDirectory(directoryOf(toRow(before)))
            const [started] = yield* sql`UPDATE export_jobs SET status = 'PROCESSING', compute_gateway = ${JSON.stringify(gateway)},
              updated_at = ${now} WHERE id = ${id} AND status IN ('NEW', 'PROCESSING') RETURNING *`.pipe(Effect.flatMap(decodeRows), Effect.orDie)
            if (started === undefined) return
            const row = toRow(started)
            const metrics: Metrics = { ...row.metrics, profileExportTime: timing(now) }
            yield* execute(row, metrics).pipe(
              Effect.catchAllCause((cause) =>
                Cause.isInterruptedOnly(cause)
                  ? Effect.failCause(cause)
                  : end(row, "FAILED", metrics, [
                      failure("0100000003", `Error in Export Job: ${messageOf(Cause.squash(cause))}`, Cause.pretty(cause).slice(0, 4000))
                    ])
              ),
              // A stop fails the job; a lease lost to another process (which now runs it) leaves it alone.
              Effect.onInterrupt(() =>
                Effect.flatMap(leases.holds(leaseOf(id)), (held) =>
                  held
                    ? end(row, "FAILED", metrics, [failure("0100000003", "Error in Export Job: the service stopped while the job was running")])
                    : Effect.void
                )
              )
            )
          }).pipe((work) => leases.withLease(leaseOf(id), work))
        ).pipe(
          Effect.annotateLogs({ sandbox, exportJob: id }),
          Effect.withSpan("ExportJobs.run", { attributes: { sandbox, exportJob: id } }),
          Effect.catchAllCause((cause) => (Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("export job failed", cause)))
        )

      /** Jobs this process has queued or runs, so a poll does not queue them twice. */
      const queued = new Set<number>()
      const start = (sandbox: string, id: number) =>
        Effect.suspend(() => {
          if (queued.has(id)) return Effect.void
          queued.add(id)
          return FiberSet.run(background, run(sandbox, id).pipe(Effect.ensuring(Effect.sync(() => queued.delete(id)))))
        })

      /**
       * Jobs no process runs: those left by a previous run of the store, or
       * by another process that died, or created by another process that has
       * not started them yet. Whoever claims a job's lease first runs it.
       */
      const adopt = Effect.gen(function* () {
        const left = yield* sql`SELECT * FROM export_jobs WHERE status IN ('NEW', 'PROCESSING') ORDER BY created_at, id`.pipe(
          Effect.flatMap(decodeRows),
          Effect.orDie
        )
        for (const raw of left) {
          const row = toRow(raw)
          if (row.status === "NEW" && row.cancelRequested) yield* end(row, "CANCELLED", row.metrics, [])
          else yield* start(row.sandbox, row.id)
        }
      })
      yield* adopt
      if (leases.shared) {
        yield* Effect.zipRight(leases.pause, adopt).pipe(Effect.forever, Effect.forkScoped)
      }

      // -----------------------------------------------------------------------
      // the API
      // -----------------------------------------------------------------------

      const create = (sandbox: string, { echo, request }: NewJob, caller: Caller) =>
        Effect.gen(function* () {
          const policy = yield* (request.mergePolicyId === undefined
            ? policies.resolve(sandbox, undefined, ExportRequest.PROFILE_SCHEMA)
            : policies.get(sandbox, request.mergePolicyId)
          ).pipe(
            Effect.catchTag("PolicyNotFound", () =>
              Effect.fail(refused(`Merge policy "${request.mergePolicyId}" does not exist in sandbox "${sandbox}"`, "Invalid export job payload"))
            )
          )
          if (policy.schemaName !== ExportRequest.PROFILE_SCHEMA) {
            return yield* refused(
              `Merge policy "${policy.id}" is for ${policy.schemaName}; an export needs a ${ExportRequest.PROFILE_SCHEMA} policy`,
              "Invalid export job payload"
            )
          }
          if (request.mergePolicyVersion !== undefined && request.mergePolicyVersion > policy.version) {
            return yield* refused(
              `Merge policy "${policy.id}" is at version ${policy.version}; version ${request.mergePolicyVersion} does not exist yet (omit version for the latest)`,
              "Invalid export job payload"
            )
          }
          const dataset = yield* catalog.find(sandbox, request.datasetId)
          if (Option.isNone(dataset)) {
            return yield* refused(
              `Destination dataset "${request.datasetId}" does not exist in sandbox "${sandbox}"`,
              "Invalid export job payload"
            )
          }
          if (dataset.value.xdmClass !== "profile") {
            return yield* refused(
              `Destination dataset "${request.datasetId}" holds ${dataset.value.xdmClass} data; profiles export into a profile-class dataset (e.g. on the profile union schema)`,
              "Invalid export job payload"
            )
          }

          const plan: Plan = {
            request,
            policy: { id: policy.id, version: policy.version, identityGraph: policy.identityGraph, attributeMerge: policy.attributeMerge }
          }
          const now = yield* Clock.currentTimeMillis
          const batchId = randomBytes(16).toString("hex")
          const metrics: Metrics = {
            totalTime: timing(now),
            profileExportTime: timing(),
            aCPDatasetWriteTime: timing(),
            totalExportedProfileCounter: 0,
            exportedProfileByNamespaceCounter: {}
          }
          const id = yield* Effect.gen(function* () {
            // Job ids are global: processes sharing a database allocate them in turn.
            yield* lockFor(sql, "rtcp:export_jobs")
            const [allocated] = yield* sql<{ readonly next: Rows.Int }>`SELECT COALESCE(MAX(id), 0) + 1 AS next FROM export_jobs`
            const id = Number(allocated!.next)
            yield* sql`INSERT INTO export_jobs ${sql.insert({
              id,
              sandbox,
              status: "NEW",
              request: JSON.stringify(echo),
              plan: JSON.stringify(plan),
              merge_policy_id: policy.id,
              merge_policy_version: policy.version,
              dataset_id: request.datasetId,
              batch_id: batchId,
              request_id: caller.requestId || randomBytes(16).toString("base64url").slice(0, 32),
              ims_org_id: caller.imsOrgId,
              compute_gateway: "{}",
              metrics: JSON.stringify(metrics),
              errors: "[]",
              cancel_requested: 0,
              created_at: now,
              updated_at: now
            })}`
            // The batch exists from the start (AEP assigns it at creation); it
            // is "processing" so nobody can upload files into it.
            yield* sql`INSERT INTO batches ${sql.insert({
              sandbox,
              id: batchId,
              dataset_id: request.datasetId,
              status: "processing",
              partial: 0,
              records_total: 0,
              records_failed: 0,
              errors: "[]",
              created_at: now,
              completed_at: null
            })}`
            return id
          }).pipe(sql.withTransaction, Effect.orDie)
          const created = yield* load(sandbox, id).pipe(Effect.orDie)
          yield* start(sandbox, id)
          return toJob(created)
        })

      const list = (sandbox: string, query: ListQuery) =>
        Effect.gen(function* () {
          const requested = query.limit ?? DEFAULT_LIST_LIMIT
          if (!Number.isInteger(requested) || requested < 1) return yield* invalid(`limit must be a positive integer (at most ${MAX_LIST_LIMIT})`)
          const limit = Math.min(requested, MAX_LIST_LIMIT)
          let statuses: Array<string> | undefined
          if (query.status !== undefined && query.status.trim() !== "") {
            statuses = query.status.split(",").map((s) => s.trim().toUpperCase()).filter((s) => s !== "")
            const wrong = statuses.find((s) => !STATUSES.includes(s as Status))
            if (wrong !== undefined) return yield* invalid(`status "${wrong}" is not one of ${STATUSES.join(", ")}`)
          }
          let after: { createdAt: number; id: number } | undefined
          if (query.offset !== undefined && query.offset !== "") {
            const match = CURSOR.exec(query.offset)
            if (!match) return yield* invalid(`offset "${query.offset}" is not a cursor "<creationTime>_<id>" from a previous page`)
            after = { createdAt: Number(match[1]), id: Number(match[2]) }
          }
          const byStatus = statuses === undefined ? sql`` : sql`AND ${sql.in("status", statuses)}`
          const continuation =
            after === undefined ? sql`` : sql`AND (created_at < ${after.createdAt} OR (created_at = ${after.createdAt} AND id < ${after.id}))`
          const rows = (yield* sql`SELECT * FROM export_jobs WHERE sandbox = ${sandbox} ${byStatus} ${continuation}
            ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`.pipe(Effect.flatMap(decodeRows), Effect.orDie)).map(toRow)
          const page = rows.slice(0, limit)
          const last = page[page.length - 1]
          return {
            records: page.map(toJob),
            limit,
            pageOffset: last === undefined ? undefined : cursorOf(last),
            next: rows.length > limit && last !== undefined ? cursorOf(last) : undefined
          } satisfies ListPage
        })

      const cancel = (sandbox: string, id: number) =>
        Effect.gen(function* () {
          const row = yield* load(sandbox, id)
          if (isTerminal(row.status)) {
            return { status: false, message: `Export job ${id} has already ended (${row.status}); there is nothing to cancel` }
          }
          const now = yield* Clock.currentTimeMillis
          if (row.status === "NEW") {
            const cancelled = yield* sql`UPDATE export_jobs SET status = 'CANCELLED', cancel_requested = 1, updated_at = ${now}
              WHERE id = ${id} AND status = 'NEW' RETURNING id`.pipe(Effect.orDie)
            if (cancelled.length > 0) {
              yield* end({ ...row, status: "CANCELLED" }, "CANCELLED", row.metrics, [])
              return { status: true, message: CANCEL_MESSAGE }
            }
          }
          // Running: the job sees the flag before its next page.
          yield* sql`UPDATE export_jobs SET cancel_requested = 1, updated_at = ${now} WHERE id = ${id}`.pipe(Effect.orDie)
          return { status: true, message: CANCEL_MESSAGE }
        })

      return ExportJobs.of({
        create,
        get: (sandbox, id) => Effect.map(load(sandbox, id), toJob),
        list,
        cancel,
        files: (sandbox, id) => Effect.flatMap(load(sandbox, id), (row) => listParts(directoryOf(row)))
      })
    })
  )

/** The export jobs service, with the options of `Config` (defaults unless provided). */
export const layer = Layer.unwrapEffect(Effect.map(Config, layerWith))
