/**
 * Ingestion in AEP's own shapes: batches (create, upload JSON or NDJSON
 * files, complete) and streaming (one record, visible when the call returns).
 *
 * A batch is validated whole before anything is written, and written in one
 * transaction, so a failed batch leaves nothing visible. With partial
 * ingestion the valid records are written and the others reported.
 *
 * Records reach the profile store only for datasets enabled for Profile; an
 * upsert dataset merges a record into the existing fragment, any other
 * dataset replaces the fragment of the same primary identity.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { randomBytes } from "node:crypto"
import { Clock, Context, Deferred, Effect, Either, Exit, FiberSet, Layer, Option } from "effect"
import { Catalog, type Dataset } from "./Catalog.js"
import { IdentityGraph, keyOf } from "./IdentityGraph.js"
import { JobLeases } from "./JobLeases.js"
import * as StoreError from "./StoreError.js"
import { invalid } from "./StoreError.js"
import { deepAssign } from "./Merge.js"
import { StoreEvents } from "./StoreEvents.js"
import * as XdmRecord from "./XdmRecord.js"
import type * as Rows from "./migrations/rows.js"

export type BatchStatus = "loading" | "processing" | "success" | "failed" | "aborted"

export interface RecordFailure {
  readonly file: string
  /** 0-based position of the record in its file. */
  readonly index: number
  readonly code: string
  readonly message: string
}

export interface Batch {
  readonly id: string
  readonly datasetId: string
  readonly status: BatchStatus
  readonly partial: boolean
  readonly recordsTotal: number
  readonly recordsFailed: number
  readonly errors: ReadonlyArray<RecordFailure>
  readonly createdAt: number
  readonly completedAt: number | undefined
  readonly files: ReadonlyArray<string>
}

export interface IngestSummary {
  readonly records: number
  readonly written: number
}

/** How many records share one round of identity resolution and one multi-row write. */
const CHUNK = 500
/** The failures a batch keeps in its report. */
const MAX_REPORTED_FAILURES = 1000

const toBatch = (row: Rows.Batch, files: ReadonlyArray<string>): Batch => ({
  id: row.id,
  datasetId: row.dataset_id,
  status: row.status,
  partial: Boolean(row.partial),
  recordsTotal: Number(row.records_total),
  recordsFailed: Number(row.records_failed),
  errors: JSON.parse(row.errors),
  createdAt: Number(row.created_at),
  completedAt: row.completed_at === null ? undefined : Number(row.completed_at),
  files
})

/** A file is a JSON array, one JSON object, or NDJSON (one object per line). */
export const recordsOfFile = (content: string): Array<Either.Either<unknown, string>> => [...eachRecordOfFile(content)]

/**
 * `recordsOfFile` one record at a time: an NDJSON file's lines are parsed as
 * they are asked for, so a large file is never parsed in one go and its
 * processing can pause between chunks (`pause`). A JSON array is one
 * `JSON.parse`.
 */
export function* eachRecordOfFile(content: string): Generator<Either.Either<unknown, string>> {
  const text = content.trim()
  if (text === "") return
  if (text.startsWith("[")) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      yield Either.left(`the file is not valid JSON: ${(error as Error).message}`)
      return
    }
    if (!Array.isArray(parsed)) {
      yield Either.left("expected a JSON array")
      return
    }
    for (const record of parsed) yield Either.right(record)
    return
  }
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue
    try {
      yield Either.right(JSON.parse(line) as unknown)
    } catch (error) {
      yield Either.left(`invalid JSON on this line: ${(error as Error).message}`)
    }
  }
}

/**
 * Lets Node's event loop run what waits (requests, answers) before the next
 * chunk. A batch is processed on the service's one thread with synchronous
 * SQLite calls, so without it a batch of 30,000 records held every other
 * request for about 2 s; lookups read on a connection of their own
 * (LookupRows.ts), so they are answered in these pauses even though the
 * batch's transaction holds the store's connection. A macrotask, not
 * `Effect.yieldNow` (a microtask, which I/O never gets between), and not a
 * sleep on the Clock (a test clock would never fire it).
 */
const pause: Effect.Effect<void> = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

export class Ingestion extends Context.Tag("@rtcp/profile-store/Ingestion")<
  Ingestion,
  {
    readonly createBatch: (
      sandbox: string,
      input: { readonly datasetId: unknown; readonly partialIngestion?: unknown }
    ) => Effect.Effect<Batch, StoreError.InvalidInput | StoreError.DatasetNotFound>
    readonly uploadFile: (
      sandbox: string,
      batchId: string,
      datasetId: string,
      name: string,
      content: string
    ) => Effect.Effect<void, StoreError.InvalidInput | StoreError.BatchNotFound | StoreError.DatasetNotFound>
    /** Closes the batch and processes it in the background. */
    readonly complete: (sandbox: string, batchId: string) => Effect.Effect<Batch, StoreError.InvalidInput | StoreError.BatchNotFound | StoreError.DatasetNotFound>
    /** Closes the batch and processes it before returning. */
    readonly completeAndWait: (sandbox: string, batchId: string) => Effect.Effect<Batch, StoreError.InvalidInput | StoreError.BatchNotFound | StoreError.DatasetNotFound>
    readonly abort: (sandbox: string, batchId: string) => Effect.Effect<Batch, StoreError.InvalidInput | StoreError.BatchNotFound | StoreError.DatasetNotFound>
    readonly getBatch: (sandbox: string, batchId: string) => Effect.Effect<Batch, StoreError.BatchNotFound>
    readonly listBatches: (sandbox: string, datasetId?: string) => Effect.Effect<ReadonlyArray<Batch>>
    /** Streaming ingestion of one record: validated and written before returning. */
    readonly streamRecord: (
      sandbox: string,
      datasetId: string,
      record: unknown
    ) => Effect.Effect<void, StoreError.InvalidRecord | StoreError.DatasetNotFound>
    /**
     * Takes over the batches a stopped process left `processing`: each is
     * processed again from its files, in the background, or failed with a
     * reason. The store runs it once, after all of its services are built,
     * so that a service starts (and listens) while they are processed.
     */
    readonly resumeCutOff: Effect.Effect<void>
    /**
     * Ingests an iterable of records as one successful batch (seeding and
     * benchmarks): no files are stored, records are read once.
     */
    readonly ingestRecords: (
      sandbox: string,
      datasetId: string,
      records: Iterable<unknown>
    ) => Effect.Effect<Batch, StoreError.InvalidInput | StoreError.DatasetNotFound>
  }
>() {}

export const layer = Layer.scoped(
  Ingestion,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const catalog = yield* Catalog
    const graph = yield* IdentityGraph
    const events = yield* StoreEvents
    const leases = yield* JobLeases
    const background = yield* FiberSet.make()

    // A batch is processed under a lease (see JobLeases), claimed before its
    // status turns to `processing`: a process that finds it `processing`
    // finds the lease too, and leaves it to its holder while the holder lives.
    const leaseOf = (sandbox: string, batchId: string) => `batch:${sandbox}:${batchId}`
    /** Batches this process is processing: its own lease would let it claim them again. */
    const inHand = new Set<string>()
    const underLease = <A, E, R>(sandbox: string, batchId: string, work: Effect.Effect<A, E, R>) =>
      Effect.suspend(() => {
        const job = leaseOf(sandbox, batchId)
        if (inHand.has(job)) return Effect.succeed(Option.none<A>())
        inHand.add(job)
        return leases.withLease(job, events.processing(sandbox, work)).pipe(Effect.ensuring(Effect.sync(() => inHand.delete(job))))
      })
    const alreadyProcessing = (batchId: string) => invalid(`Batch "${batchId}" is processing; only a loading batch can be completed`)

    const filesOf = (sandbox: string, batchId: string) =>
      sql<Pick<Rows.BatchFile, "name">>`SELECT name FROM batch_files WHERE sandbox = ${sandbox} AND batch_id = ${batchId} ORDER BY name`.pipe(
        Effect.map((rows) => rows.map((row) => row.name)),
        Effect.orDie
      )

    const getBatch = (sandbox: string, batchId: string) =>
      Effect.gen(function* () {
        const rows = yield* sql<Rows.Batch>`SELECT * FROM batches WHERE sandbox = ${sandbox} AND id = ${batchId}`.pipe(Effect.orDie)
        if (rows.length === 0) return yield* new StoreError.BatchNotFound({ sandbox, id: batchId })
        return toBatch(rows[0]!, yield* filesOf(sandbox, batchId))
      })

    /** Writes parsed records of one dataset: identities, links, then fragments or events. */
    const applyChunk = (sandbox: string, dataset: Dataset, batchId: string | null, records: ReadonlyArray<XdmRecord.ParsedRecord>) =>
      Effect.gen(function* () {
        if (records.length === 0) return
        const now = yield* Clock.currentTimeMillis
        const rows = yield* graph.stitch(
          sandbox,
          records.map((record) => record.identities)
        )
        // The edges each record adds: its primary identity to each other one.
        const pairs = new Map<string, readonly [number, number]>()
        for (const record of records) {
          if (record.identities.length < 2) continue
          const primary = rows.get(keyOf(record.primary))!.id
          for (const identity of record.identities) {
            const other = rows.get(keyOf(identity))!.id
            if (other === primary) continue
            const pair = primary < other ? ([primary, other] as const) : ([other, primary] as const)
            pairs.set(`${pair[0]}/${pair[1]}`, pair)
          }
        }
        if (pairs.size > 0) yield* graph.recordLinks(sandbox, dataset.id, batchId, [...pairs.values()], now)
        if (dataset.xdmClass === "experienceevent") {
          const byId = new Map<string, XdmRecord.ParsedRecord>()
          for (const record of records) byId.set(record.eventId!, record)
          for (const part of chunked([...byId.values()], 120)) {
            yield* sql`INSERT INTO events ${sql.insert(
              part.map((record) => ({
                sandbox,
                dataset_id: dataset.id,
                id: record.eventId!,
                identity_id: rows.get(keyOf(record.primary))!.id,
                batch_id: batchId,
                ts: record.timestamp!,
                data: JSON.stringify(record.data),
                ingested_at: now
              }))
            )} ON CONFLICT (sandbox, dataset_id, id) DO UPDATE SET identity_id = excluded.identity_id,
              batch_id = excluded.batch_id, ts = excluded.ts, data = excluded.data, ingested_at = excluded.ingested_at`
          }
          return
        }
        // One fragment per primary identity: the last record wins, or, for an
        // upsert dataset, every record merges into what is already stored.
        const byIdentity = new Map<number, { data: Record<string, unknown>; customTimestamp: number | undefined }>()
        if (dataset.upsert) {
          const ids = [...new Set(records.map((record) => rows.get(keyOf(record.primary))!.id))]
          for (const part of chunked(ids, 400)) {
            const existing = yield* sql<Pick<Rows.Fragment, "identity_id" | "data" | "custom_ts">>`SELECT identity_id, data, custom_ts FROM fragments
              WHERE sandbox = ${sandbox} AND dataset_id = ${dataset.id} AND ${sql.in("identity_id", part)}`
            for (const row of existing) {
              byIdentity.set(Number(row.identity_id), {
                data: JSON.parse(row.data),
                customTimestamp: row.custom_ts === null ? undefined : Number(row.custom_ts)
              })
            }
          }
        }
        for (const record of records) {
          const id = rows.get(keyOf(record.primary))!.id
          const current = byIdentity.get(id)
          if (dataset.upsert && current) {
            const identityMap = mergeIdentityMaps(current.data.identityMap, record.data.identityMap)
            const data = deepAssign(structuredClone(current.data), record.data)
            if (identityMap) data.identityMap = identityMap
            byIdentity.set(id, { data, customTimestamp: record.customTimestamp ?? current.customTimestamp })
          } else {
            byIdentity.set(id, { data: record.data, customTimestamp: record.customTimestamp })
          }
        }
        for (const part of chunked([...byIdentity], 120)) {
          yield* sql`INSERT INTO fragments ${sql.insert(
            part.map(([identityId, fragment]) => ({
              sandbox,
              dataset_id: dataset.id,
              identity_id: identityId,
              batch_id: batchId,
              data: JSON.stringify(fragment.data),
              ingested_at: now,
              custom_ts: fragment.customTimestamp ?? null
            }))
          )} ON CONFLICT (sandbox, dataset_id, identity_id) DO UPDATE SET batch_id = excluded.batch_id,
            data = excluded.data, ingested_at = excluded.ingested_at, custom_ts = excluded.custom_ts`
        }
      }).pipe(Effect.orDie)

    /** Validates then writes `records`; returns the failures (nothing is written when any fails and not partial). */
    const ingest = (
      sandbox: string,
      dataset: Dataset,
      batchId: string | null,
      sources: () => Iterable<{ readonly file: string; readonly index: number; readonly record: Either.Either<unknown, string> }>,
      partial: boolean
    ) =>
      Effect.gen(function* () {
        const failures: Array<RecordFailure> = []
        let failed = 0
        let total = 0
        // First pass: validation only, so a failing batch writes nothing.
        for (const source of sources()) {
          if (++total % CHUNK === 0) yield* pause
          const parsed = Either.flatMap(
            Either.mapLeft(source.record, (message) => ({ code: "RTCP-1000", message })),
            (record) => XdmRecord.parse(record, dataset.xdmClass)
          )
          if (Either.isLeft(parsed)) {
            failed++
            if (failures.length < MAX_REPORTED_FAILURES) failures.push({ file: source.file, index: source.index, ...parsed.left })
          }
        }
        const written = total - failed
        // Records of a dataset not enabled for Profile stay in the data lake only.
        if ((failed > 0 && !partial) || written === 0 || !dataset.profileEnabled) {
          return { total, failed, failures }
        }
        // Second pass: write the valid records in chunks, all in one transaction.
        yield* Effect.gen(function* () {
          let chunk: Array<XdmRecord.ParsedRecord> = []
          for (const source of sources()) {
            if (Either.isLeft(source.record)) continue
            const parsed = XdmRecord.parse(source.record.right, dataset.xdmClass)
            if (Either.isLeft(parsed)) continue
            chunk.push(parsed.right)
            if (chunk.length >= CHUNK) {
              yield* applyChunk(sandbox, dataset, batchId, chunk)
              chunk = []
              yield* pause
            }
          }
          yield* applyChunk(sandbox, dataset, batchId, chunk)
        }).pipe(sql.withTransaction, Effect.orDie)
        return { total, failed, failures }
      })

    const finish = (sandbox: string, batchId: string, result: { total: number; failed: number; failures: Array<RecordFailure> }, status: BatchStatus) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        yield* sql`UPDATE batches SET status = ${status}, records_total = ${result.total}, records_failed = ${result.failed},
          errors = ${JSON.stringify(result.failures)}, completed_at = ${now} WHERE sandbox = ${sandbox} AND id = ${batchId}`.pipe(Effect.orDie)
        yield* sql`DELETE FROM batch_files WHERE sandbox = ${sandbox} AND batch_id = ${batchId}`.pipe(Effect.orDie)
        if (status === "success") yield* events.publish({ _tag: "BatchSucceeded", sandbox, batchId, at: now })
      })

    const process = (sandbox: string, batchId: string) =>
      Effect.gen(function* () {
        const batch = yield* getBatch(sandbox, batchId)
        const dataset = yield* catalog.get(sandbox, batch.datasetId)
        const contents = new Map<string, string>()
        for (const row of yield* sql<Pick<Rows.BatchFile, "name" | "content">>`SELECT name, content FROM batch_files WHERE sandbox = ${sandbox} AND batch_id = ${batchId} ORDER BY name`.pipe(
          Effect.orDie
        )) {
          contents.set(row.name, row.content)
        }
        const sources = function* () {
          for (const [file, content] of contents) {
            let index = 0
            for (const record of eachRecordOfFile(content)) yield { file, index: index++, record }
          }
        }
        const result = yield* ingest(sandbox, dataset, batchId, sources, batch.partial)
        if (result.total === 0) result.failures.push({ file: "", index: 0, code: "RTCP-1002", message: "the batch has no records" })
        const status: BatchStatus =
          result.total === 0 || (result.failed > 0 && (!batch.partial || result.failed === result.total)) ? "failed" : "success"
        yield* finish(sandbox, batchId, result, status)
        return yield* getBatch(sandbox, batchId)
      })

    const close = (sandbox: string, batchId: string) =>
      Effect.gen(function* () {
        const batch = yield* getBatch(sandbox, batchId)
        if (batch.status !== "loading") {
          return yield* invalid(`Batch "${batchId}" is ${batch.status}; only a loading batch can be completed`)
        }
        if (batch.files.length === 0) return yield* invalid(`Batch "${batchId}" has no files: upload at least one before completing it`)
        yield* sql`UPDATE batches SET status = 'processing' WHERE sandbox = ${sandbox} AND id = ${batchId}`.pipe(Effect.orDie)
        return { ...batch, status: "processing" as const }
      })

    const newBatch = (sandbox: string, datasetId: string, partial: boolean) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const id = randomBytes(13).toString("hex").toUpperCase()
        yield* sql`INSERT INTO batches ${sql.insert({
          sandbox,
          id,
          dataset_id: datasetId,
          status: "loading",
          partial: partial ? 1 : 0,
          records_total: 0,
          records_failed: 0,
          errors: "[]",
          created_at: now,
          completed_at: null
        })}`.pipe(Effect.orDie)
        return id
      })

    /**
     * Processing that cannot finish (a defect) still ends the batch: a client
     * polling it learns it failed instead of seeing `processing` forever.
     */
    const processInBackground = (sandbox: string, batchId: string) =>
      process(sandbox, batchId).pipe(
        Effect.catchAllCause((cause) =>
          Effect.logError("batch processing failed", cause).pipe(
            Effect.zipRight(
              finish(
                sandbox,
                batchId,
                { total: 0, failed: 0, failures: [{ file: "", index: 0, code: "RTCP-1003", message: "the batch could not be processed; nothing of it was written" }] },
                "failed"
              )
            ),
            Effect.catchAllCause((again) => Effect.logError("batch could not be marked failed", again))
          )
        )
      )

    /**
     * A batch found `processing` with no live holder was cut off (the service
     * stopped, or its process died): its records were written in one
     * transaction, so none of them is visible. A batch its client completed
     * still has its files: process it again. One ingested from records
     * (seeding) has none to read again: it failed, and says why. Whoever
     * claims the batch's lease first does this, once; a batch whose holder
     * lives is left to it.
     */
    const takeOver = (sandbox: string, batchId: string) =>
      Effect.gen(function* () {
        const rows = yield* sql<Pick<Rows.Batch, "status">>`SELECT status FROM batches WHERE sandbox = ${sandbox} AND id = ${batchId}`.pipe(
          Effect.orDie
        )
        // Ended by its holder between the look and the claim.
        if (rows[0]?.status !== "processing") return
        const files = yield* filesOf(sandbox, batchId)
        if (files.length > 0) {
          yield* Effect.logInfo(`resuming batch ${batchId} (sandbox ${sandbox}), left processing when its service stopped`)
          yield* processInBackground(sandbox, batchId)
        } else {
          yield* finish(
            sandbox,
            batchId,
            {
              total: 0,
              failed: 0,
              failures: [{ file: "", index: 0, code: "RTCP-1004", message: "the service stopped while this batch was processing; nothing of it was written: ingest it again" }]
            },
            "failed"
          )
        }
      })

    /** Looks for cut-off batches; returns once each one's claim is decided (its processing goes on in the background). */
    const recover = Effect.gen(function* () {
      const stuck = yield* sql<{ readonly sandbox: string; readonly id: string }>`SELECT sandbox, id FROM batches
        WHERE status = 'processing' ORDER BY created_at`.pipe(Effect.orDie)
      for (const row of stuck) {
        const sandbox = String(row.sandbox)
        const batchId = String(row.id)
        const decided = yield* Deferred.make<void>()
        yield* FiberSet.run(
          background,
          underLease(sandbox, batchId, Effect.zipRight(Deferred.succeed(decided, undefined), takeOver(sandbox, batchId))).pipe(
            Effect.ensuring(Deferred.succeed(decided, undefined))
          )
        )
        yield* Deferred.await(decided)
      }
    })
    // Other processes' batches are cut off when they die: adopt them once their lease runs out.
    if (leases.shared) yield* Effect.zipRight(leases.pause, recover).pipe(Effect.forever, Effect.forkScoped)

    return Ingestion.of({
      resumeCutOff: recover,
      createBatch: (sandbox, input) =>
        Effect.gen(function* () {
          if (typeof input.datasetId !== "string" || input.datasetId === "") {
            return yield* invalid('datasetId is required: {"datasetId":"<dataset id>","inputFormat":{"format":"json"}}')
          }
          yield* catalog.get(sandbox, input.datasetId)
          const id = yield* newBatch(sandbox, input.datasetId, input.partialIngestion === true)
          // Just written: a batch missing here is a defect, not the caller's mistake.
          return yield* Effect.orDie(getBatch(sandbox, id))
        }),
      uploadFile: (sandbox, batchId, datasetId, name, content) =>
        Effect.gen(function* () {
          const batch = yield* getBatch(sandbox, batchId)
          if (batch.datasetId !== datasetId) {
            return yield* invalid(`Batch "${batchId}" belongs to dataset "${batch.datasetId}", not "${datasetId}"`)
          }
          if (batch.status !== "loading") return yield* invalid(`Batch "${batchId}" is ${batch.status}; files can only be added while it is loading`)
          if (!/^[\w.\-]{1,200}$/.test(name)) return yield* invalid(`File name "${name}" is invalid: use letters, digits, dot, dash and underscore`)
          yield* sql`INSERT INTO batch_files ${sql.insert({ sandbox, batch_id: batchId, name, content })}
            ON CONFLICT (sandbox, batch_id, name) DO UPDATE SET content = excluded.content`.pipe(Effect.orDie)
        }),
      complete: (sandbox, batchId) =>
        Effect.gen(function* () {
          // Closed and processed by one background fiber under the batch's lease; the caller waits for the close only.
          const closed = yield* Deferred.make<Batch, StoreError.InvalidInput | StoreError.BatchNotFound>()
          yield* FiberSet.run(
            background,
            underLease(
              sandbox,
              batchId,
              Effect.gen(function* () {
                const batch = yield* Effect.exit(close(sandbox, batchId))
                yield* Deferred.done(closed, batch)
                if (Exit.isSuccess(batch)) yield* processInBackground(sandbox, batchId)
              })
            ).pipe(
              Effect.tap((ran) => (Option.isNone(ran) ? Deferred.fail(closed, alreadyProcessing(batchId)) : Effect.void)),
              Effect.onExit(() => Deferred.die(closed, new Error(`batch ${batchId} could not be completed`)))
            )
          )
          return yield* Deferred.await(closed)
        }),
      completeAndWait: (sandbox, batchId) =>
        underLease(sandbox, batchId, Effect.zipRight(close(sandbox, batchId), process(sandbox, batchId))).pipe(
          Effect.flatMap(Option.match({ onNone: () => Effect.fail(alreadyProcessing(batchId)), onSome: Effect.succeed }))
        ),
      abort: (sandbox, batchId) =>
        Effect.gen(function* () {
          const batch = yield* getBatch(sandbox, batchId)
          if (batch.status !== "loading") return yield* invalid(`Batch "${batchId}" is ${batch.status}; only a loading batch can be aborted`)
          yield* finish(sandbox, batchId, { total: 0, failed: 0, failures: [] }, "aborted")
          return yield* getBatch(sandbox, batchId)
        }),
      getBatch,
      listBatches: (sandbox, datasetId) =>
        Effect.gen(function* () {
          const rows = yield* (datasetId === undefined
            ? sql<Rows.Batch>`SELECT * FROM batches WHERE sandbox = ${sandbox} ORDER BY created_at DESC`
            : sql<Rows.Batch>`SELECT * FROM batches WHERE sandbox = ${sandbox} AND dataset_id = ${datasetId} ORDER BY created_at DESC`
          ).pipe(Effect.orDie)
          return rows.map((row) => toBatch(row, []))
        }),
      streamRecord: (sandbox, datasetId, record) =>
        Effect.gen(function* () {
          const dataset = yield* catalog.get(sandbox, datasetId)
          const parsed = XdmRecord.parse(record, dataset.xdmClass)
          if (Either.isLeft(parsed)) return yield* new StoreError.InvalidRecord({ message: `${parsed.left.code}: ${parsed.left.message}` })
          if (!dataset.profileEnabled) return
          yield* applyChunk(sandbox, dataset, null, [parsed.right]).pipe(sql.withTransaction, Effect.orDie)
          const now = yield* Clock.currentTimeMillis
          yield* events.publish({ _tag: "RecordStreamed", sandbox, datasetId, at: now })
        }),
      ingestRecords: (sandbox, datasetId, records) =>
        Effect.gen(function* () {
          const dataset = yield* catalog.get(sandbox, datasetId)
          const batchId = yield* newBatch(sandbox, datasetId, false)
          const ingested = underLease(
            sandbox,
            batchId,
            Effect.gen(function* () {
              yield* sql`UPDATE batches SET status = 'processing' WHERE sandbox = ${sandbox} AND id = ${batchId}`.pipe(Effect.orDie)
              // Records are read once: validate and write chunk by chunk in one
              // transaction, rolled back whole if any record fails.
              let total = 0
              const failures: Array<RecordFailure> = []
              const written = yield* Effect.gen(function* () {
                let chunk: Array<XdmRecord.ParsedRecord> = []
                for (const record of records) {
                  const parsed = XdmRecord.parse(record, dataset.xdmClass)
                  if (Either.isLeft(parsed)) {
                    failures.push({ file: "", index: total, ...parsed.left })
                    return yield* Effect.fail(failures)
                  }
                  total++
                  if (!dataset.profileEnabled) continue
                  chunk.push(parsed.right)
                  if (chunk.length >= CHUNK) {
                    yield* applyChunk(sandbox, dataset, batchId, chunk)
                    chunk = []
                    yield* pause
                  }
                }
                yield* applyChunk(sandbox, dataset, batchId, chunk)
                return total
              }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die), Effect.either)
              yield* finish(
                sandbox,
                batchId,
                { total: total + (Either.isLeft(written) ? 1 : 0), failed: Either.isLeft(written) ? 1 : 0, failures },
                Either.isLeft(written) ? "failed" : "success"
              )
              const batch = yield* Effect.orDie(getBatch(sandbox, batchId))
              if (Either.isLeft(written)) {
                return yield* invalid(`record ${failures[0]!.index} is invalid: ${failures[0]!.code} ${failures[0]!.message}`)
              }
              return batch
            })
          )
          // A batch id of its own, just made: no other process knows it yet.
          return yield* Effect.flatMap(
            ingested,
            Option.match({ onNone: () => Effect.dieMessage(`batch ${batchId} was claimed by another process`), onSome: Effect.succeed })
          )
        }),
    })
  })
)

const chunked = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const mergeIdentityMaps = (a: unknown, b: unknown): Record<string, Array<unknown>> | undefined => {
  const out: Record<string, Array<unknown>> = {}
  const seen = new Set<string>()
  for (const map of [a, b]) {
    if (typeof map !== "object" || map === null) continue
    for (const [ns, entries] of Object.entries(map)) {
      if (!Array.isArray(entries)) continue
      for (const entry of entries) {
        const key = `${ns.toLowerCase()}\u0000${isObject(entry) ? entry.id : undefined}`
        if (seen.has(key)) continue
        seen.add(key)
        ;(out[ns] ??= []).push(entry)
      }
    }
  }
  return Object.keys(out).length > 0 ? out : undefined
}

