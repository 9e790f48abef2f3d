/**
 * The rows a profile or event lookup reads: an identity and its graph, the
 * graph's fragments, and a page of its events. Lookups read them outside any
 * transaction, so they may come from any connection that sees what has been
 * committed.
 *
 * Two ways to read them:
 *
 * - `layer`: through the store's `SqlClient` (Postgres, a store in memory);
 * - `layerFile`: a read-only connection of its own to a SQLite file, with
 *   each statement prepared once and run in one `Effect.sync`, where
 *   `@effect/sql` compiles each template again and runs several effects a
 *   statement. Under WAL a statement sees every transaction committed
 *   before it started, so a write acknowledged by this process or a writer
 *   process is read at once; and a lookup never waits for the store's
 *   connection, which a batch holds for its whole transaction.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import Database from "better-sqlite3"
import { Context, Effect, Layer, Option } from "effect"
import { graphOfRows, type IdentityColumns, IdentityGraph, type IdentityRow, toRow } from "./IdentityGraph.js"
import type * as Rows from "./migrations/rows.js"

export type FragmentRow = Omit<Rows.Fragment, "sandbox" | "batch_id">
export type EventRow = Pick<Rows.Event, "dataset_id" | "id" | "ts" | "data" | "ingested_at">

/** The last (timestamp, dataset, id) a page ended on. */
export interface EventCursor {
  readonly ts: number
  readonly dataset: string
  readonly id: string
}

/** Which events of a graph a page reads, in (timestamp, dataset, id) order. */
export interface EventRange {
  /** Epoch ms, inclusive. */
  readonly startTime?: number | undefined
  /** Epoch ms, exclusive. */
  readonly endTime?: number | undefined
  readonly after?: EventCursor | undefined
  readonly descending: boolean
  readonly limit: number
}

/** A graph as a lookup reads it: every member, and the member the lookup named. */
export interface Graph {
  readonly requested: IdentityRow
  readonly members: ReadonlyArray<IdentityRow>
}

export class LookupRows extends Context.Tag("@rtcp/profile-store/LookupRows")<
  LookupRows,
  {
    /** The identity `value` in namespace `nsKey` (an XID when undefined), alone. */
    readonly identity: (sandbox: string, nsKey: string | undefined, value: string) => Effect.Effect<Option.Option<IdentityRow>>
    /** The identity and every member of its graph, by id. */
    readonly graph: (sandbox: string, nsKey: string | undefined, value: string) => Effect.Effect<Option.Option<Graph>>
    readonly root: (graphId: number) => Effect.Effect<IdentityRow>
    readonly fragments: (identityIds: ReadonlyArray<number>) => Effect.Effect<ReadonlyArray<FragmentRow>>
    readonly hasEvents: (identityIds: ReadonlyArray<number>) => Effect.Effect<boolean>
    readonly events: (identityIds: ReadonlyArray<number>, range: EventRange) => Effect.Effect<ReadonlyArray<EventRow>>
  }
>() {}

// Identity ids are unique across sandboxes and the identities were resolved
// in the caller's sandbox, so rows are read by identity id alone: a
// `sandbox = ?` term makes SQLite prefer the sandbox-first primary key and
// scan the whole sandbox.

/** Through the store's `SqlClient` and `IdentityGraph`. */
export const layer = Layer.effect(
  LookupRows,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const graph = yield* IdentityGraph
    return LookupRows.of({
      identity: graph.find,
      graph: graph.graphOf,
      root: graph.root,
      fragments: (ids) =>
        sql<FragmentRow>`SELECT dataset_id, identity_id, data, ingested_at, custom_ts FROM fragments WHERE ${sql.in("identity_id", ids)}`.pipe(
          Effect.orDie
        ),
      hasEvents: (ids) =>
        sql`SELECT 1 AS found FROM events WHERE ${sql.in("identity_id", ids)} LIMIT 1`.pipe(
          Effect.map((rows) => rows.length > 0),
          Effect.orDie
        ),
      events: (ids, range) => {
        const cursor = range.after
        const continuation = cursor
          ? range.descending
            ? sql`AND (ts < ${cursor.ts} OR (ts = ${cursor.ts} AND (dataset_id < ${cursor.dataset} OR (dataset_id = ${cursor.dataset} AND id < ${cursor.id}))))`
            : sql`AND (ts > ${cursor.ts} OR (ts = ${cursor.ts} AND (dataset_id > ${cursor.dataset} OR (dataset_id = ${cursor.dataset} AND id > ${cursor.id}))))`
          : sql``
        const from = range.startTime === undefined ? sql`` : sql`AND ts >= ${range.startTime}`
        const to = range.endTime === undefined ? sql`` : sql`AND ts < ${range.endTime}`
        const order = range.descending ? sql`ORDER BY ts DESC, dataset_id DESC, id DESC` : sql`ORDER BY ts, dataset_id, id`
        return sql<EventRow>`SELECT dataset_id, id, ts, data, ingested_at FROM events
          WHERE ${sql.in("identity_id", ids)} ${from} ${to} ${continuation} ${order} LIMIT ${range.limit}`.pipe(Effect.orDie)
      }
    })
  })
)

const IDENTITY_COLUMNS = "SELECT id, ns, value, xid, graph_id FROM identities"
const BY_KEY = "sandbox = ? AND ns = ? AND value = ?"
const BY_XID = "substr(xid, 1, 11) = ? AND xid = ? AND sandbox = ?"

const placeholders = (count: number) => (count === 1 ? "= ?" : `IN (${"?, ".repeat(count - 1)}?)`)

/** Statements differ by the number of ids and the range's terms: a few dozen shapes in practice, this many at most. */
const MAX_PREPARED = 512

export interface FileOptions {
  /** Its page cache in MiB; 64 by default. */
  readonly cacheMb?: number | undefined
  /**
   * How much of the file (MiB from its start) it reads through a memory map
   * instead of `read` calls; 1,024 by default, 0 for none. Lookups of a
   * large store touch more pages than any page cache holds, and a mapped page
   * is the operating system's cached page itself: no system call, no copy
   * (GET profile with every answer read from the store: +22 % on a store of
   * 100,000 profiles). Pages it has touched count in the process's resident
   * memory, though they are shared and the system may take them back; the
   * store's own connection maps nothing, so ingestion's memory is unchanged.
   */
  readonly mmapMb?: number | undefined
}

/**
 * On a read-only connection of its own to the SQLite file `filename`, opened
 * once the store's connection has made the file (hence the `SqlClient` it
 * asks for), and closed with the layer.
 */
export const layerFile = (filename: string, options: FileOptions = {}) =>
  Layer.scoped(
    LookupRows,
    Effect.gen(function* () {
      yield* SqlClient.SqlClient
      const db = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const db = new Database(filename, { readonly: true, fileMustExist: true })
          db.pragma(`cache_size = -${(options.cacheMb ?? 64) * 1024}`)
          db.pragma(`mmap_size = ${(options.mmapMb ?? 1024) * 1024 * 1024}`)
          return db
        }),
        (db) => Effect.sync(() => db.close())
      )
      // Prepared on first use: the store's migrations have run by then.
      const prepared = new Map<string, Database.Statement>()
      const statement = (text: string) => {
        let found = prepared.get(text)
        if (found === undefined) {
          if (prepared.size >= MAX_PREPARED) prepared.clear()
          found = db.prepare(text)
          prepared.set(text, found)
        }
        return found
      }
      const identityArgs = (sandbox: string, nsKey: string | undefined, value: string) =>
        nsKey === undefined ? [value.slice(0, 11), value, sandbox] : [sandbox, nsKey, value]
      return LookupRows.of({
        identity: (sandbox, nsKey, value) =>
          Effect.sync(() => {
            const row = statement(`${IDENTITY_COLUMNS} WHERE ${nsKey === undefined ? BY_XID : BY_KEY}`).get(
              ...identityArgs(sandbox, nsKey, value)
            ) as IdentityColumns | undefined
            return Option.map(Option.fromNullable(row), toRow)
          }),
        graph: (sandbox, nsKey, value) =>
          Effect.sync(() => {
            const where = nsKey === undefined ? `${BY_XID} LIMIT 1` : BY_KEY
            const rows = statement(`${IDENTITY_COLUMNS} WHERE graph_id = (SELECT graph_id FROM identities WHERE ${where}) ORDER BY id`).all(
              ...identityArgs(sandbox, nsKey, value)
            ) as Array<IdentityColumns>
            return graphOfRows(rows, nsKey, value)
          }),
        root: (graphId) => Effect.sync(() => toRow(statement(`${IDENTITY_COLUMNS} WHERE id = ?`).get(graphId) as IdentityColumns)),
        fragments: (ids) =>
          Effect.sync(
            () =>
              statement(`SELECT dataset_id, identity_id, data, ingested_at, custom_ts FROM fragments WHERE identity_id ${placeholders(ids.length)}`).all(
                ...ids
              ) as Array<FragmentRow>
          ),
        hasEvents: (ids) =>
          Effect.sync(() => statement(`SELECT 1 AS found FROM events WHERE identity_id ${placeholders(ids.length)} LIMIT 1`).get(...ids) !== undefined),
        events: (ids, range) =>
          Effect.sync(() => {
            const args: Array<string | number> = [...ids]
            let text = `SELECT dataset_id, id, ts, data, ingested_at FROM events WHERE identity_id ${placeholders(ids.length)}`
            if (range.startTime !== undefined) {
              text += " AND ts >= ?"
              args.push(range.startTime)
            }
            if (range.endTime !== undefined) {
              text += " AND ts < ?"
              args.push(range.endTime)
            }
            const cursor = range.after
            if (cursor !== undefined) {
              const op = range.descending ? "<" : ">"
              text += ` AND (ts ${op} ? OR (ts = ? AND (dataset_id ${op} ? OR (dataset_id = ? AND id ${op} ?))))`
              args.push(cursor.ts, cursor.ts, cursor.dataset, cursor.dataset, cursor.id)
            }
            text += range.descending ? " ORDER BY ts DESC, dataset_id DESC, id DESC LIMIT ?" : " ORDER BY ts, dataset_id, id LIMIT ?"
            args.push(range.limit)
            return statement(text).all(...args) as Array<EventRow>
          })
      })
    })
  )
