import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Column types that differ by database: JSON is `jsonb` on Postgres (TEXT on
 * SQLite), ids that may outgrow 32 bits are BIGINT, and an id the database
 * allocates is SQLite's `INTEGER PRIMARY KEY` or a Postgres `BIGSERIAL`.
 * Flags stay INTEGER 0/1 on both, so the same queries compare them.
 */
export interface Types {
  readonly json: string
  readonly id: string
  readonly serial: string
}

const typesOf = (dialect: "sqlite" | "pg"): Types =>
  dialect === "pg"
    ? { json: "JSONB", id: "BIGINT", serial: "BIGSERIAL PRIMARY KEY" }
    : { json: "TEXT", id: "INTEGER", serial: "INTEGER PRIMARY KEY" }

/** A statement: plain SQL for both databases, or SQL written with the dialect's column types. */
export type Statement = string | ((types: Types) => string)

/** A migration made of statements, run in order. */
export const statements = (...sql: ReadonlyArray<Statement>) =>
  Effect.flatMap(SqlClient.SqlClient, (client) => {
    const types = typesOf(client.onDialectOrElse({ pg: () => "pg" as const, orElse: () => "sqlite" as const }))
    return Effect.forEach(sql, (s) => client.unsafe(typeof s === "string" ? s : s(types)), { discard: true })
  })
