/**
 * Secondary indexes a large batch builds once, at its end, instead of entry
 * by entry. Their keys arrive in random order (XID prefixes, the identity of
 * each event), so once an index outgrows the page cache every entry costs a
 * page read and a page write; a build sorts the entries first and writes
 * each page once. Loading the seeded 1,000,000 profiles took 553 s this way
 * against 601 s with every index kept up to date (builds included; the two
 * runs back to back on one machine).
 *
 * A table's indexes are deferred once the batch has added at least as many
 * rows as the table held when the batch began: from there a build (one pass
 * over the whole table) costs less than the entries the rest of the batch
 * would insert one by one. The batch after pays a little: a build leaves
 * the index's pages full, so its first inserts split them. Only indexes no
 * statement of a batch reads are deferred: the unique keys its upserts
 * conflict on, and the identity key and graph indexes stitching reads, stay.
 *
 * The drops and the builds are statements of the batch's transaction: a batch
 * that rolls back leaves every index as it was, and a reader (another
 * connection, under WAL) never sees a table without them. SQLite only: on
 * Postgres, DROP INDEX would lock the table against every other process's
 * reads until the batch commits.
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"

const DEFERRABLE: ReadonlyArray<readonly [table: string, indexes: ReadonlyArray<string>]> = [
  ["identities", ["identities_xid"]],
  ["fragments", ["fragments_identity"]],
  ["events", ["events_batch", "events_identity_ts"]],
  ["identity_links", ["identity_links_linked", "identity_links_dataset"]]
]

export interface DeferredIndexes {
  /** After each chunk a batch writes: defers the indexes of every table it has at least doubled. */
  readonly grown: Effect.Effect<void>
  /** Last statement of the batch's transaction: builds every index it deferred, as it was defined. */
  readonly build: Effect.Effect<void>
}

const none: DeferredIndexes = { grown: Effect.void, build: Effect.void }

/** For one batch, inside its transaction, before its first write. */
export const begin = (sql: SqlClient.SqlClient): Effect.Effect<DeferredIndexes> =>
  sql.onDialectOrElse({
    sqlite: () =>
      Effect.gen(function* () {
        // The highest rowid stands for a table's size: exact without deletes,
        // an overestimate with them (which only defers later), and read from
        // the end of the table's B-tree instead of counting it.
        const size = (table: string) =>
          Effect.map(sql<{ readonly n: number | null }>`SELECT MAX(rowid) AS n FROM ${sql(table)}`, (rows) => Number(rows[0]?.n ?? 0))
        const waiting = new Map<string, number>()
        for (const [table] of DEFERRABLE) waiting.set(table, yield* size(table))
        /** Definitions of the indexes dropped so far, to run again. */
        const deferred: Array<string> = []
        const grown = Effect.gen(function* () {
          for (const [table, indexes] of DEFERRABLE) {
            const before = waiting.get(table)
            if (before === undefined) continue
            const now = yield* size(table)
            if (now === before || now - before < before) continue
            waiting.delete(table)
            const definitions = yield* sql<{ readonly name: string; readonly sql: string }>`SELECT name, sql FROM sqlite_master
              WHERE type = 'index' AND tbl_name = ${table} AND ${sql.in("name", indexes)}`
            for (const index of definitions) {
              deferred.push(index.sql)
              yield* sql`DROP INDEX ${sql(index.name)}`
            }
          }
        })
        const build = Effect.gen(function* () {
          if (deferred.length === 0) return
          // The build sorts every entry of a table. Spilled to a temporary
          // file rather than to memory (the store's setting), that sort stays
          // within the page cache's size however large the table is.
          yield* sql`PRAGMA temp_store = FILE`
          yield* Effect.forEach(deferred.splice(0), (definition) => sql.unsafe(definition), { discard: true }).pipe(
            Effect.ensuring(Effect.orDie(sql`PRAGMA temp_store = MEMORY`))
          )
        })
        return { grown: Effect.orDie(grown), build: Effect.orDie(build) }
      }).pipe(Effect.orDie),
    orElse: () => Effect.succeed(none)
  })
