/**
 * The few places where SQLite and PostgreSQL must be spoken differently.
 * Everything else in the store is one SQL text for both.
 */
import type { SqlClient } from "@effect/sql"
import { Context, Effect } from "effect"

/**
 * Serialises a section across every process on the database until the
 * caller's transaction ends. SQLite has one writer at a time already (and
 * one process per data folder), so only Postgres needs the lock: an
 * advisory transaction lock on the key's hash.
 */
export const lockFor = (sql: SqlClient.SqlClient, key: string) =>
  sql.onDialectOrElse({
    pg: () => sql`SELECT pg_advisory_xact_lock(hashtext(${key}))`.pipe(Effect.asVoid),
    orElse: () => Effect.void
  })

/** `FOR UPDATE SKIP LOCKED` on Postgres: a row another process is claiming is passed over. SQLite needs none. */
export const skipLocked = (sql: SqlClient.SqlClient) =>
  sql.onDialectOrElse({ pg: () => sql`FOR UPDATE SKIP LOCKED`, orElse: () => sql`` })

/** Whether several processes may share this database (so nothing may be cached in one of them). */
export const isShared = (sql: SqlClient.SqlClient) => sql.onDialectOrElse({ pg: () => true, orElse: () => false })

/**
 * Set in a process that reads a SQLite file another process writes (the
 * profile service's reader workers): like Postgres, nothing it reads may be
 * cached, since the writer's changes never reach its memory.
 */
export class SharedFile extends Context.Reference<SharedFile>()("@rtcp/profile-store/SharedFile", { defaultValue: () => false }) {}
