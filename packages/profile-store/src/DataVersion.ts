/**
 * A value that changes whenever anything in the store may have changed: what
 * a cache of answers built from the store compares before it trusts one.
 *
 * On SQLite it is read from the connection in one statement: `data_version`
 * (SQLite's own counter of commits made by other connections, such as a
 * writer process's, seen by a reader) and `total_changes()` (rows this
 * connection changed itself). Neither ever goes back, so an answer kept with
 * the version it was read at is current exactly while the version is equal.
 * Nothing has to name the writes that invalidate: every write does.
 *
 * On a database several processes share (Postgres) there is no such counter
 * to read cheaply, and `current` is `None`: nothing may be cached there.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import { isShared } from "./internal/dialect.js"

export class DataVersion extends Context.Tag("@rtcp/profile-store/DataVersion")<
  DataVersion,
  {
    /** The store's version now; `None` where it cannot be told (nothing may be cached). */
    readonly current: Effect.Effect<Option.Option<string>>
  }
>() {}

export const layer = Layer.effect(
  DataVersion,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    if (isShared(sql)) return DataVersion.of({ current: Effect.succeedNone })
    const read = sql<{ readonly v: number; readonly c: number }>`SELECT (SELECT data_version FROM pragma_data_version) AS v, total_changes() AS c`
    return DataVersion.of({
      current: read.pipe(
        Effect.map((rows) => Option.some(`${rows[0]!.v}:${rows[0]!.c}`)),
        Effect.orDie
      )
    })
  })
)
