/**
 * A value that changes whenever anything in the store may have changed: what
 * a cache of answers built from the store compares before it trusts one.
 *
 * Two ways to read it on SQLite, both from SQLite's own counters, which
 * never go back, so an answer kept with the version it was read at is
 * current exactly while the version is equal (nothing has to name the writes
 * that invalidate: every write does):
 *
 * - a store in a file (`layerFile`): a connection of its own that only asks
 *   `PRAGMA data_version`, which changes with every commit of every other
 *   connection, this process's store and a writer process's alike. It is
 *   read synchronously (`peek`), for a cache hit answered without an Effect;
 * - a store in memory (`layer`): the store's one connection, asking
 *   `data_version` and `total_changes()` (the rows it changed itself).
 *
 * On a database several processes share (Postgres) there is no such counter
 * to read cheaply, and `current` is `None`: nothing may be cached there.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import Database from "better-sqlite3"
import { Context, Effect, Layer, Option } from "effect"
import { isShared } from "./internal/dialect.js"

export class DataVersion extends Context.Tag("@rtcp/profile-store/DataVersion")<
  DataVersion,
  {
    /** The store's version now; `None` where it cannot be told (nothing may be cached). */
    readonly current: Effect.Effect<Option.Option<string>>
    /** The version read synchronously, where it can be (a store in a file); undefined elsewhere. */
    readonly peek: (() => string) | undefined
  }
>() {}

/** On the store's own connection (a store in memory), or `None` on a shared database. */
export const layer = Layer.effect(
  DataVersion,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    if (isShared(sql)) return DataVersion.of({ current: Effect.succeedNone, peek: undefined })
    const read = sql<{ readonly v: number; readonly c: number }>`SELECT (SELECT data_version FROM pragma_data_version) AS v, total_changes() AS c`
    return DataVersion.of({
      current: read.pipe(
        Effect.map((rows) => Option.some(`${rows[0]!.v}:${rows[0]!.c}`)),
        Effect.orDie
      ),
      peek: undefined
    })
  })
)

/**
 * On a connection of its own to the SQLite file `filename`, opened read-only
 * once the store's connection has made the file (hence the `SqlClient` it
 * asks for), and closed with the layer.
 */
export const layerFile = (filename: string) =>
  Layer.scoped(
    DataVersion,
    Effect.gen(function* () {
      yield* SqlClient.SqlClient
      const db = yield* Effect.acquireRelease(
        Effect.sync(() => new Database(filename, { readonly: true, fileMustExist: true })),
        (db) => Effect.sync(() => db.close())
      )
      const statement = db.prepare("PRAGMA data_version").pluck()
      const peek = () => String(statement.get())
      return DataVersion.of({ current: Effect.sync(() => Option.some(peek())), peek })
    })
  )
