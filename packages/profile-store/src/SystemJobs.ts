/**
 * Profile system jobs: delete requests that remove a dataset
 * (`TRUNCATE_DATASET`, record or experience event datasets), or one batch of
 * an experience event dataset (`DELETE_EE_BATCH`), from the profile store.
 *
 * Lifecycle: a job is created `NEW` and runs in the background, one job at a
 * time in creation order: `NEW` → `IN-PROGRESS` → `SUCCESS`, or `FAILED`
 * (with its error) when the store itself fails. `ERROR` is never produced
 * here: every mistake a caller can make is refused when the job is created.
 *
 * What is deleted: the fragments (record datasets) and events (experience
 * event datasets) of the dataset, or the events of the batch, that were
 * ingested up to the job's creation; data ingested later is kept. Identities
 * and their links are Identity Service data and stay. A merged profile left
 * with no fragment and no event answers 404 afterwards.
 *
 * Deletion runs in chunks of {@link Settings} `chunkSize` rows (5,000), each
 * in its own transaction together with the job's counters, so lookups wait
 * at most one chunk and the counters always match what is gone.
 *
 * Restarts: the `system_jobs` table is the only state. When the layer starts
 * it resumes every job left `NEW` or `IN-PROGRESS` (deletion is idempotent:
 * a resumed job deletes what is left and its counters keep adding up), so a
 * job is never left half-applied without saying so. A job interrupted by
 * shutdown stays `IN-PROGRESS` until then.
 *
 * Removing a job record (`remove`): a `NEW` job is cancelled; a running job
 * disappears from `get`/`list` at once but finishes its deletion (stopping
 * half-way would leave a dataset partly deleted with no record of it) and
 * its row is dropped when it ends; a finished job's record is simply
 * dropped. Deleted data is never restored.
 *
 * Progress and counts (`metrics` on the wire): `fragmentsToDelete` and
 * `eventsToDelete` are counted when the job starts; `fragmentsDeleted` and
 * `eventsDeleted` grow with every chunk; `profilesAffected` is the number of
 * merged profiles (identity graphs) that held data of the dataset or batch
 * when the job started; `recordsProcessed` (the legacy name) is the sum of
 * the deleted counts. `progress` is 0–100.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { randomUUID } from "node:crypto"
import { Cause, Clock, Context, Effect, Layer, Option, PubSub, Queue } from "effect"
import { Catalog } from "./Catalog.js"
import { Ingestion } from "./Ingestion.js"
import type * as Rows from "./migrations/rows.js"
import { JobLeases } from "./JobLeases.js"
import * as StoreError from "./StoreError.js"
import { invalid, refused } from "./StoreError.js"
import { StoreEvents } from "./StoreEvents.js"

export type RequestType = "TRUNCATE_DATASET" | "DELETE_EE_BATCH"
export type Status = "NEW" | "IN-PROGRESS" | "SUCCESS" | "FAILED"

export interface Job {
  readonly id: string
  readonly requestType: RequestType
  readonly sandbox: string
  readonly sandboxId: string
  readonly imsOrgId: string
  readonly datasetId: string
  readonly batchId: string | undefined
  readonly status: Status
  /** Counted when the job starts; undefined while `NEW`. */
  readonly fragmentsTotal: number | undefined
  readonly eventsTotal: number | undefined
  readonly profilesAffected: number | undefined
  readonly fragmentsDeleted: number
  readonly eventsDeleted: number
  readonly error: string | undefined
  /** Epoch ms. */
  readonly createdAt: number
  readonly updatedAt: number
  readonly startedAt: number | undefined
  readonly completedAt: number | undefined
}

/** Who asks: the job record keeps the org and the sandbox it was created in. */
export interface Owner {
  readonly sandbox: string
  readonly sandboxId: string
  readonly imsOrgId: string
}

/**
 * What a delete request names: a whole dataset, or one batch of an
 * experience event dataset (whose dataset may be left out: the batch knows it).
 */
export type CreateInput =
  | { readonly datasetId: string; readonly batchId?: undefined }
  | { readonly datasetId?: string | undefined; readonly batchId: string }

export interface ListOptions {
  /** 0-based page number. */
  readonly start?: number | undefined
  /** Page size, 1–100. */
  readonly limit?: number | undefined
  /** `<field>:asc|desc` with field `createdAt` or `updatedAt` (legacy `createEpoch`, `updateEpoch`). */
  readonly sort?: string | undefined
}

export interface JobPage {
  readonly jobs: ReadonlyArray<Job>
  readonly start: number
  readonly limit: number
  /** Jobs listable: at most {@link MAX_LISTED}. */
  readonly totalCount: number
  /** The next page number, when there is one. */
  readonly next: number | undefined
}

/** Only the newest 100 jobs are ever listed, as AEP does. */
export const MAX_LISTED = 100
export const DEFAULT_LIMIT = 100
export const terminal: ReadonlySet<Status> = new Set<Status>(["SUCCESS", "FAILED"])

/**
 * How jobs run. A `Context.Reference`, so the defaults apply unless a caller
 * provides other values to the store layer (tests use small chunks and the
 * hook to stop a job half-way).
 */
export class Settings extends Context.Reference<Settings>()("@rtcp/profile-store/SystemJobs/Settings", {
  defaultValue: (): {
    readonly chunkSize: number
    /** Runs after each committed chunk with the job as it now is. */
    readonly afterChunk: (job: Job) => Effect.Effect<void>
  } => ({ chunkSize: 5000, afterChunk: () => Effect.void })
}) {}

export class SystemJobs extends Context.Tag("@rtcp/profile-store/SystemJobs")<
  SystemJobs,
  {
    /** Checks what the request names and records a `NEW` job; it runs in the background. */
    readonly create: (
      owner: Owner,
      input: CreateInput
    ) => Effect.Effect<Job, StoreError.DeletionRefused | StoreError.Refused>
    /** Newest first (unless `sort` says otherwise), among the newest 100. */
    readonly list: (sandbox: string, options?: ListOptions) => Effect.Effect<JobPage, StoreError.InvalidInput>
    readonly get: (sandbox: string, id: string) => Effect.Effect<Job, StoreError.SystemJobNotFound>
    /** Removes the job record: cancels a `NEW` job, lets a running one finish unseen. */
    readonly remove: (sandbox: string, id: string) => Effect.Effect<void, StoreError.SystemJobNotFound>
    /** Waits until the job is `SUCCESS` or `FAILED` (fails with NotFound if its record goes first). */
    readonly await: (sandbox: string, id: string) => Effect.Effect<Job, StoreError.SystemJobNotFound>
  }
>() {}

// ---------------------------------------------------------------------------
// rows and wire
// ---------------------------------------------------------------------------

const optionalNumber = (u: unknown) => (u === null || u === undefined ? undefined : Number(u))

const toJob = (row: Rows.SystemJob): Job => ({
  id: row.id,
  requestType: row.request_type,
  sandbox: row.sandbox,
  sandboxId: row.sandbox_id,
  imsOrgId: row.ims_org_id,
  datasetId: row.dataset_id,
  batchId: row.batch_id ?? undefined,
  status: row.status,
  fragmentsTotal: optionalNumber(row.fragments_total),
  eventsTotal: optionalNumber(row.events_total),
  profilesAffected: optionalNumber(row.profiles_affected),
  fragmentsDeleted: Number(row.fragments_deleted),
  eventsDeleted: Number(row.events_deleted),
  error: row.error ?? undefined,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  startedAt: optionalNumber(row.started_at),
  completedAt: optionalNumber(row.completed_at)
})

/** ISO-8601 with microseconds and `Z`, as AEP writes job times. */
export const isoMicros = (ms: number) => new Date(ms).toISOString().replace(/Z$/, "000Z")

/** 0–100: deleted rows over the rows counted when the job started. */
export const progressOf = (job: Job) => {
  if (job.status === "SUCCESS") return 100
  const total = (job.fragmentsTotal ?? 0) + (job.eventsTotal ?? 0)
  if (job.fragmentsTotal === undefined || total === 0) return 0
  return Math.min(99, Math.floor(((job.fragmentsDeleted + job.eventsDeleted) * 100) / total))
}

const SORTS: Record<string, "created_at" | "updated_at"> = {
  createdat: "created_at",
  createepoch: "created_at",
  updatedat: "updated_at",
  updateepoch: "updated_at"
}

const parseSort = (raw: string | undefined) => {
  if (raw === undefined || raw.trim() === "") return { field: "created_at" as const, desc: true }
  const [name, direction = "desc", ...rest] = raw.trim().split(":")
  const field = SORTS[(name ?? "").toLowerCase()]
  const dir = direction.toLowerCase()
  if (field === undefined || rest.length > 0 || (dir !== "asc" && dir !== "desc")) return undefined
  return { field, desc: dir === "desc" }
}

/** One turn of the event loop, whatever the Clock (tests run jobs under TestClock). */
const nextTurn = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

const messageOf = (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error.message : Cause.pretty(cause)
}

// ---------------------------------------------------------------------------

export const layer = Layer.scoped(
  SystemJobs,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const catalog = yield* Catalog
    const ingestion = yield* Ingestion
    const storeEvents = yield* StoreEvents
    const settings = yield* Settings
    const leases = yield* JobLeases
    const chunkSize = Math.max(1, Math.floor(settings.chunkSize))
    /** Counting reads more rows per statement than deleting writes. */
    const SURVEY_CHUNK = chunkSize * 4
    /** Rings when a job is created; the worker reads the table, not the bell. */
    const doorbell = yield* Queue.sliding<void>(1)
    /** `sandbox/id` of every job that ended or whose record was removed. */
    const settled = yield* PubSub.unbounded<string>()
    const keyOf = (sandbox: string, id: string) => `${sandbox}\u0000${id}`

    const row = (sandbox: string, id: string) =>
      sql<Rows.SystemJob>`SELECT * FROM system_jobs WHERE sandbox = ${sandbox} AND id = ${id}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toJob)),
        Effect.orDie
      )

    const get = (sandbox: string, id: string) =>
      sql<Rows.SystemJob>`SELECT * FROM system_jobs WHERE sandbox = ${sandbox} AND id = ${id} AND removed = 0`.pipe(
        Effect.orDie,
        Effect.flatMap((rows) =>
          rows.length === 0
            ? Effect.fail(new StoreError.SystemJobNotFound({ sandbox, id }))
            : Effect.succeed(toJob(rows[0]!))
        )
      )

    // -----------------------------------------------------------------------
    // create
    // -----------------------------------------------------------------------

    const invalidPayload = (message: string) => new StoreError.DeletionRefused({ reason: "NotAsStored", message })

    const create = (owner: Owner, input: CreateInput) =>
      Effect.gen(function* () {
        const { sandbox } = owner
        const { batchId } = input
        let dataset = input.datasetId
        if (batchId !== undefined) {
          // Older guides send the batch alone: its dataset is known.
          const batch = yield* ingestion.getBatch(sandbox, batchId).pipe(
            Effect.catchTag("BatchNotFound", () => Effect.fail(invalidPayload(`Batch "${batchId}" does not exist in sandbox "${sandbox}"`)))
          )
          if (dataset !== undefined && batch.datasetId !== dataset) {
            return yield* invalidPayload(`Batch "${batchId}" belongs to dataset "${batch.datasetId}", not to dataset "${dataset}"`)
          }
          dataset = batch.datasetId
        }
        const found = yield* catalog.find(sandbox, dataset!)
        if (Option.isNone(found)) return yield* invalidPayload(`Dataset "${dataset}" does not exist in sandbox "${sandbox}"`)
        if (batchId !== undefined && found.value.xdmClass !== "experienceevent") {
          return yield* new StoreError.DeletionRefused({
            reason: "RecordBatch",
            datasetId: dataset,
            message:
              `dataset "${dataset}" holds profile records, which replace each other, so one batch cannot be undone: ` +
              "delete the whole dataset or re-ingest corrected records"
          })
        }
        const requestType: RequestType = batchId === undefined ? "TRUNCATE_DATASET" : "DELETE_EE_BATCH"
        const id = randomUUID()
        yield* Effect.gen(function* () {
          const active = yield* sql<Pick<Rows.SystemJob, "id" | "status">>`SELECT id, status FROM system_jobs WHERE sandbox = ${sandbox} AND request_type = ${requestType}
            AND dataset_id = ${dataset!} AND ${batchId === undefined ? sql`batch_id IS NULL` : sql`batch_id = ${batchId}`}
            AND status IN ('NEW', 'IN-PROGRESS') AND removed = 0`
          if (active.length > 0) {
            const what = batchId === undefined ? `dataset "${dataset}"` : `batch "${batchId}" of dataset "${dataset}"`
            return yield* refused(
              `A ${requestType} request already exists for ${what}: "${active[0]!.id}" is ${active[0]!.status}`,
              "Request already exists"
            )
          }
          const now = yield* Clock.currentTimeMillis
          yield* sql`INSERT INTO system_jobs ${sql.insert({
            sandbox,
            id,
            request_type: requestType,
            dataset_id: dataset!,
            batch_id: batchId ?? null,
            status: "NEW",
            ims_org_id: owner.imsOrgId,
            sandbox_id: owner.sandboxId,
            fragments_total: null,
            events_total: null,
            profiles_affected: null,
            fragments_deleted: 0,
            events_deleted: 0,
            error: null,
            removed: 0,
            created_at: now,
            updated_at: now,
            started_at: null,
            completed_at: null
          })}`
        }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die))
        yield* Queue.offer(doorbell, undefined)
        return yield* get(sandbox, id).pipe(Effect.orDie)
      })

    // -----------------------------------------------------------------------
    // running
    // -----------------------------------------------------------------------

    /**
     * The rows a job deletes: everything of the dataset, or the events of the
     * batch, ingested up to the job's creation. Conditions on `fragments f`
     * and `events e`.
     */
    const scopeOf = (job: Job) => ({
      fragments:
        job.requestType === "TRUNCATE_DATASET"
          ? sql`f.sandbox = ${job.sandbox} AND f.dataset_id = ${job.datasetId} AND f.ingested_at <= ${job.createdAt}`
          : undefined,
      events:
        job.requestType === "TRUNCATE_DATASET"
          ? sql`e.sandbox = ${job.sandbox} AND e.dataset_id = ${job.datasetId} AND e.ingested_at <= ${job.createdAt}`
          : sql`e.sandbox = ${job.sandbox} AND e.dataset_id = ${job.datasetId} AND e.batch_id = ${job.batchId ?? ""}
              AND e.ingested_at <= ${job.createdAt}`
    })

    /**
     * Counts what the job will delete and the merged profiles it touches,
     * reading in key order a chunk at a time (and stepping aside between
     * chunks) so a large dataset does not hold the store for one long read.
     */
    const survey = (job: Job) =>
      Effect.gen(function* () {
        const { events, fragments } = scopeOf(job)
        const graphs = new Set<number>()
        let fragmentCount = 0
        let eventCount = 0
        if (fragments) {
          let after = Number.MIN_SAFE_INTEGER
          while (true) {
            const rows = yield* sql<{ readonly identity_id: Rows.Int; readonly graph_id: Rows.Int }>`SELECT f.identity_id AS identity_id, i.graph_id AS graph_id FROM fragments f
              JOIN identities i ON i.id = f.identity_id WHERE ${fragments} AND f.identity_id > ${after}
              ORDER BY f.identity_id LIMIT ${SURVEY_CHUNK}`
            for (const row of rows) graphs.add(Number(row.graph_id))
            fragmentCount += rows.length
            if (rows.length < SURVEY_CHUNK) break
            after = Number(rows[rows.length - 1]!.identity_id)
            yield* nextTurn
          }
        }
        let afterId: string | undefined
        while (true) {
          const rows = yield* sql<{ readonly id: string; readonly graph_id: Rows.Int }>`SELECT e.id AS id, i.graph_id AS graph_id FROM events e
            JOIN identities i ON i.id = e.identity_id WHERE ${events} ${afterId === undefined ? sql`` : sql`AND e.id > ${afterId}`}
            ORDER BY e.id LIMIT ${SURVEY_CHUNK}`
          for (const row of rows) graphs.add(Number(row.graph_id))
          eventCount += rows.length
          if (rows.length < SURVEY_CHUNK) break
          afterId = rows[rows.length - 1]!.id
          yield* nextTurn
        }
        yield* sql`UPDATE system_jobs SET fragments_total = ${fragmentCount}, events_total = ${eventCount},
          profiles_affected = ${graphs.size} WHERE sandbox = ${job.sandbox} AND id = ${job.id}`
      }).pipe(Effect.orDie)

    /** NEW → IN-PROGRESS (or IN-PROGRESS again when resuming); none when the job is gone. */
    const claim = (job: Job) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const claimed = yield* sql`UPDATE system_jobs SET status = 'IN-PROGRESS', started_at = COALESCE(started_at, ${now}),
          updated_at = ${now} WHERE sandbox = ${job.sandbox} AND id = ${job.id} AND status IN ('NEW', 'IN-PROGRESS') RETURNING id`.pipe(
          Effect.orDie
        )
        if (claimed.length === 0) return Option.none<Job>()
        const current = yield* row(job.sandbox, job.id)
        // Counted once, before the first deletion: a resumed job keeps its totals.
        if (Option.isSome(current) && current.value.fragmentsTotal === undefined) {
          yield* survey(current.value)
          return yield* row(job.sandbox, job.id)
        }
        return current
      })

    /** Deletes one chunk and adds it to the job's counter, in one transaction; the rows deleted. */
    const deleteChunk = (job: Job, table: "fragments" | "events") =>
      Effect.gen(function* () {
        const { events, fragments } = scopeOf(job)
        // Postgres plans `key IN (SELECT … LIMIT n)` on a freshly loaded
        // table (no statistics yet) as a rescan per row: it reads the chunk's
        // keys first, then deletes them by primary key.
        const deleted = yield* sql.onDialectOrElse({
          pg: () =>
            Effect.gen(function* () {
              if (table === "fragments") {
                const keys = yield* sql<{ readonly identity_id: Rows.Int }>`SELECT f.identity_id FROM fragments f WHERE ${fragments!} LIMIT ${chunkSize}`
                if (keys.length === 0) return keys
                return yield* sql`DELETE FROM fragments WHERE sandbox = ${job.sandbox} AND dataset_id = ${job.datasetId}
                  AND ${sql.in("identity_id", keys.map((row) => row.identity_id))} RETURNING identity_id`
              }
              const keys = yield* sql<{ readonly id: string }>`SELECT e.id FROM events e WHERE ${events} LIMIT ${chunkSize}`
              if (keys.length === 0) return keys
              return yield* sql`DELETE FROM events WHERE sandbox = ${job.sandbox} AND dataset_id = ${job.datasetId}
                AND ${sql.in("id", keys.map((row) => row.id))} RETURNING id`
            }),
          orElse: () =>
            table === "fragments"
              ? sql`DELETE FROM fragments WHERE sandbox = ${job.sandbox} AND dataset_id = ${job.datasetId}
                  AND identity_id IN (SELECT f.identity_id FROM fragments f WHERE ${fragments!} LIMIT ${chunkSize}) RETURNING identity_id`
              : sql`DELETE FROM events WHERE sandbox = ${job.sandbox} AND dataset_id = ${job.datasetId}
                  AND id IN (SELECT e.id FROM events e WHERE ${events} LIMIT ${chunkSize}) RETURNING id`
        })
        const now = yield* Clock.currentTimeMillis
        yield* table === "fragments"
          ? sql`UPDATE system_jobs SET fragments_deleted = fragments_deleted + ${deleted.length}, updated_at = ${now}
              WHERE sandbox = ${job.sandbox} AND id = ${job.id}`
          : sql`UPDATE system_jobs SET events_deleted = events_deleted + ${deleted.length}, updated_at = ${now}
              WHERE sandbox = ${job.sandbox} AND id = ${job.id}`
        return deleted.length
      }).pipe(sql.withTransaction, Effect.orDie)

    const drain = (job: Job, table: "fragments" | "events") =>
      Effect.gen(function* () {
        while (true) {
          const deleted = yield* deleteChunk(job, table)
          if (deleted > 0) yield* Effect.flatMap(row(job.sandbox, job.id), Option.match({ onNone: () => Effect.void, onSome: settings.afterChunk }))
          if (deleted < chunkSize) return
          // SQLite statements run synchronously: without a turn of the event
          // loop between chunks, the job would hold the whole process (HTTP
          // included) until it ends, and a waiting lookup would get one
          // statement per chunk.
          yield* nextTurn
        }
      })

    /** Ends a job: its status, then its row if its record was removed while it ran. */
    const finish = (job: Job, status: Status, error: string | undefined) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        yield* Effect.gen(function* () {
          yield* sql`UPDATE system_jobs SET status = ${status}, error = ${error ?? null}, updated_at = ${now}, completed_at = ${now}
            WHERE sandbox = ${job.sandbox} AND id = ${job.id}`
          yield* sql`DELETE FROM system_jobs WHERE sandbox = ${job.sandbox} AND id = ${job.id} AND removed = 1`
        }).pipe(sql.withTransaction, Effect.orDie)
        const after = yield* row(job.sandbox, job.id)
        const deleted = Option.match(after, { onNone: () => true, onSome: (j) => j.fragmentsDeleted + j.eventsDeleted > 0 })
        if (status === "SUCCESS" || deleted) yield* storeEvents.publish({ _tag: "DataDeleted", sandbox: job.sandbox, at: now })
        yield* PubSub.publish(settled, keyOf(job.sandbox, job.id))
      })

    /**
     * The graph edges the deleted records brought, as their data goes: links
     * seen again after the request (by a newer record) stay. Components are
     * not split (the store never unstitches a graph), so an identity whose
     * links all went is still a member, explained without a link.
     */
    const forgetLinks = (job: Job) =>
      sql`DELETE FROM identity_links WHERE sandbox = ${job.sandbox} AND dataset_id = ${job.datasetId}
        ${job.requestType === "TRUNCATE_DATASET" ? sql`` : sql`AND batch_id = ${job.batchId ?? ""}`}
        AND last_seen <= ${job.createdAt}`.pipe(Effect.orDie)

    const run = (pending: Job) =>
      Effect.gen(function* () {
        const claimed = yield* claim(pending)
        if (Option.isNone(claimed)) return
        const job = claimed.value
        // Info, not debug: with several processes on one database, the log says which one ran (or resumed) a job.
        yield* Effect.logInfo(
          `system job ${job.id} ${pending.status === "NEW" ? "started" : "resumed"}: ${job.requestType} of ${job.datasetId}${job.batchId ? `/${job.batchId}` : ""}`
        )
        if (job.requestType === "TRUNCATE_DATASET") yield* drain(job, "fragments")
        yield* drain(job, "events")
        yield* forgetLinks(job)
        yield* finish(job, "SUCCESS", undefined)
      }).pipe(
        // Interruption (shutdown) is not a failure: the job stays IN-PROGRESS and resumes on the next start.
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause)
            ? Effect.failCause(cause)
            : Effect.zipRight(
                Effect.logError(`system job ${pending.id} failed`, cause),
                finish(pending, "FAILED", messageOf(cause))
              )
        )
      )

    const pending = sql<Rows.SystemJob>`SELECT * FROM system_jobs WHERE status IN ('NEW', 'IN-PROGRESS') ORDER BY seq LIMIT 20`.pipe(
      Effect.map((rows) => rows.map(toJob)),
      Effect.orDie
    )

    /**
     * Runs the oldest pending job no other process holds; false when there
     * is none. A job left NEW or IN-PROGRESS by a process that died is
     * pending with an expired lease, and resumes here.
     */
    const runNext = Effect.gen(function* () {
      for (const job of yield* pending) {
        const outcome = yield* Effect.exit(leases.withLease(`system-job:${job.sandbox}:${job.id}`, run(job)))
        if (outcome._tag === "Success" && Option.isNone(outcome.value)) continue
        // The store itself is failing (finishing the job failed too): wait for
        // the next request instead of spinning on the same job.
        return outcome._tag === "Success" || Cause.isInterruptedOnly(outcome.cause)
      }
      return false
    })

    // One worker, started with the layer: it first resumes whatever a previous
    // run left NEW or IN-PROGRESS, then waits for the doorbell (or, on a
    // shared database, looks again now and then for jobs other processes
    // created or left).
    const worker = Effect.gen(function* () {
      while (true) {
        if (!(yield* runNext)) yield* leases.wait(doorbell)
      }
    })
    yield* Effect.forkScoped(worker)

    // -----------------------------------------------------------------------
    // list, remove, await
    // -----------------------------------------------------------------------

    const list = (sandbox: string, options: ListOptions = {}) =>
      Effect.gen(function* () {
        const start = options.start ?? 0
        const limit = options.limit ?? DEFAULT_LIMIT
        if (!Number.isInteger(start) || start < 0) return yield* invalid(`start is a 0-based page number; got ${start}`)
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LISTED) {
          return yield* invalid(`limit is the page size, an integer from 1 to ${MAX_LISTED}; got ${limit}`)
        }
        const sort = parseSort(options.sort)
        if (sort === undefined) {
          return yield* invalid(`sort "${options.sort}" is not supported: use createdAt:desc, createdAt:asc, updatedAt:desc or updatedAt:asc`)
        }
        const rows = yield* sql<Rows.SystemJob>`SELECT * FROM system_jobs WHERE sandbox = ${sandbox} AND removed = 0
          ORDER BY created_at DESC, seq DESC LIMIT ${MAX_LISTED}`.pipe(Effect.orDie)
        const jobs = rows.map(toJob)
        if (sort.field === "updated_at") jobs.sort((a, b) => a.updatedAt - b.updatedAt)
        else jobs.reverse()
        if (sort.desc) jobs.reverse()
        const page = jobs.slice(start * limit, (start + 1) * limit)
        return {
          jobs: page,
          start,
          limit,
          totalCount: jobs.length,
          next: (start + 1) * limit < jobs.length ? start + 1 : undefined
        } satisfies JobPage
      })

    const remove = (sandbox: string, id: string) =>
      Effect.gen(function* () {
        const job = yield* get(sandbox, id)
        const gone = yield* Effect.gen(function* () {
          // A NEW job is cancelled; the worker's claim and this delete cannot both win.
          const cancelled = yield* sql`DELETE FROM system_jobs WHERE sandbox = ${sandbox} AND id = ${id} AND status IN ('NEW', 'SUCCESS', 'FAILED') RETURNING id`
          if (cancelled.length > 0) return true
          yield* sql`UPDATE system_jobs SET removed = 1 WHERE sandbox = ${sandbox} AND id = ${id}`
          return false
        }).pipe(sql.withTransaction, Effect.orDie)
        if (gone) yield* PubSub.publish(settled, keyOf(sandbox, job.id))
      })

    const awaitJob = (sandbox: string, id: string) =>
      Effect.scoped(
        Effect.gen(function* () {
          const updates = yield* PubSub.subscribe(settled)
          const key = keyOf(sandbox, id)
          while (true) {
            const job = yield* get(sandbox, id)
            if (terminal.has(job.status)) return job
            while ((yield* Queue.take(updates)) !== key) {
              // another job
            }
          }
        })
      )

    return SystemJobs.of({ create, list, get, remove, await: awaitJob })
  })
)
