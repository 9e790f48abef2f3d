import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** A migration made of plain statements, run in order. */
export const statements = (...sql: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (client) => Effect.forEach(sql, (s) => client.unsafe(s), { discard: true }))
