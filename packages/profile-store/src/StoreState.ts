/**
 * The store's whole state as a value an emulator user can keep: a snapshot
 * folder (export, import) and a reset, for test isolation without a restart.
 *
 * A snapshot is logical, not a copy of the database file, so it moves
 * between SQLite and PostgreSQL stores of the same migration level:
 *
 * ```
 * <folder>/manifest.json          format, formatVersion, migration, tables (row counts)
 * <folder>/tables/<table>.ndjson  one JSON object per row, columns as stored
 * <folder>/files/exports/…        export job output files
 * ```
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { Clock, Context, Data, Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { insertDefaultPolicy } from "./internal/defaultPolicy.js"
import { DataDirectory } from "./DataDirectory.js"
import { MergePolicies } from "./MergePolicies.js"
import { Sandboxes } from "./Sandboxes.js"
import { StoreEvents } from "./StoreEvents.js"

export const SNAPSHOT_FORMAT = "rtcp-profile-store-snapshot"
/** Bumped when the folder layout changes; rows follow the migration level. */
export const SNAPSHOT_FORMAT_VERSION = 1

export interface SnapshotManifest {
  readonly format: typeof SNAPSHOT_FORMAT
  readonly formatVersion: number
  /** The store's highest applied migration, e.g. `"0009_edge_projections"`: rows have that level's columns. */
  readonly migration: string
  readonly createdAt: string
  readonly sandboxes: ReadonlyArray<string>
  /** Rows per table. */
  readonly tables: Readonly<Record<string, number>>
}

/** Why a snapshot could not be written or read; `message` says what to do. */
export class SnapshotError extends Data.TaggedError("SnapshotError")<{
  readonly reason: "NotASnapshot" | "FormatVersion" | "MigrationLevel" | "Unreadable" | "Unwritable"
  readonly message: string
}> {}

export class UnknownSandbox extends Data.TaggedError("UnknownSandbox")<{ readonly sandbox: string }> {
  override get message() {
    return `sandbox "${this.sandbox}" does not exist`
  }
}

export class StoreState extends Context.Tag("@rtcp/profile-store/StoreState")<
  StoreState,
  {
    /** Writes every table of every sandbox (and export job files) to `directory`, created if missing. */
    readonly exportTo: (directory: string) => Effect.Effect<SnapshotManifest, SnapshotError>
    /** Replaces the whole state with the snapshot in `directory`; nothing changes when it cannot be read. */
    readonly importFrom: (directory: string) => Effect.Effect<SnapshotManifest, SnapshotError>
    /**
     * Empties one sandbox (it keeps its name and id and gets a fresh default
     * merge policy) or, without a name, everything: then only `prod` exists,
     * with its default merge policy, as in a new store.
     */
    readonly reset: (sandbox?: string) => Effect.Effect<void, UnknownSandbox>
  }
>() {}

/** Where the migrator records what it applied (see Migrations.ts). */
const MIGRATIONS_TABLE = "rtcp_migrations"
/**
 * Tables of the running processes, not of the profile store's state: which
 * migrations ran, and which process holds which background job now. A
 * snapshot or a reset carries neither (a restored lease would name a process
 * that is not there; a reset one would stop a job mid-way).
 */
const PROCESS_TABLES: ReadonlySet<string> = new Set([MIGRATIONS_TABLE, "job_leases"])
/**
 * Migrations that changed indexes only, no table's columns: a snapshot made
 * at the level just before one of them has the same rows, so it is imported
 * as it is.
 */
const INDEX_ONLY_MIGRATIONS: ReadonlySet<string> = new Set(["0041_narrow_indexes"])
/** Rows per multi-row INSERT on import: well under SQLite's and Postgres' bound-parameter limits. */
const INSERT_CHUNK = 100
const NAME = /^[a-z_][a-z0-9_]*$/

/** Numbers beyond 2^53 come back as bigint from some drivers: keep them exact as strings. */
const toJson = (row: Record<string, unknown>) =>
  JSON.stringify(row, (_, value) => (typeof value === "bigint" ? value.toString() : value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value))

export const layer = Layer.effect(
  StoreState,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const sandboxes = yield* Sandboxes
    const policies = yield* MergePolicies
    const events = yield* StoreEvents
    const dataDirectory = yield* DataDirectory

    /** Every table of the store but the migrator's, asked of the database so that new migrations are covered. */
    const tables = sql
      .onDialectOrElse({
        sqlite: () => sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
        orElse: () =>
          sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
            WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
      })
      .pipe(
        Effect.map((rows) => rows.map((row) => String(row.name)).filter((name) => !PROCESS_TABLES.has(name) && NAME.test(name))),
        Effect.orDie
      )

    const migrationLevel = sql<{ migration_id: number; name: string }>`SELECT migration_id, name FROM ${sql(MIGRATIONS_TABLE)}
      ORDER BY migration_id DESC LIMIT 1`.pipe(
      Effect.map((rows) => (rows[0] === undefined ? "none" : `${String(rows[0].migration_id).padStart(4, "0")}_${rows[0].name}`)),
      Effect.orDie
    )

    /** The levels whose rows this store's tables hold as they are: its own, and those before index-only migrations. */
    const readableLevels = sql<{ migration_id: number; name: string }>`SELECT migration_id, name FROM ${sql(MIGRATIONS_TABLE)}
      ORDER BY migration_id DESC`.pipe(
      Effect.map((rows) => {
        const levels: Array<string> = []
        for (const row of rows) {
          const level = `${String(row.migration_id).padStart(4, "0")}_${row.name}`
          levels.push(level)
          if (!INDEX_ONLY_MIGRATIONS.has(level)) break
        }
        return levels
      }),
      Effect.orDie
    )

    /** After rows changed underneath the services: their memories and the sample status follow. */
    const replaced = (names: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        yield* sandboxes.forget
        yield* policies.forget
        const now = yield* Clock.currentTimeMillis
        for (const sandbox of names) yield* events.publish({ _tag: "DataDeleted", sandbox, at: now })
      })

    const sandboxNames = sql<{ name: string }>`SELECT name FROM sandboxes ORDER BY name`.pipe(
      Effect.map((rows) => rows.map((row) => String(row.name))),
      Effect.orDie
    )

    const exportTo = (directory: string) =>
      Effect.gen(function* () {
        const names = yield* tables
        // One transaction: every table read at the same moment.
        const dump = yield* Effect.gen(function* () {
          const out: Array<readonly [string, ReadonlyArray<Record<string, unknown>>]> = []
          for (const name of names) out.push([name, yield* sql<Record<string, unknown>>`SELECT * FROM ${sql(name)}`.pipe(Effect.orDie)])
          return out
        }).pipe(sql.withTransaction, Effect.orDie)
        const manifest: SnapshotManifest = {
          format: SNAPSHOT_FORMAT,
          formatVersion: SNAPSHOT_FORMAT_VERSION,
          migration: yield* migrationLevel,
          createdAt: new Date(yield* Clock.currentTimeMillis).toISOString(),
          sandboxes: yield* sandboxNames,
          tables: Object.fromEntries(dump.map(([name, rows]) => [name, rows.length]))
        }
        yield* Effect.try({
          try: () => {
            mkdirSync(join(directory, "tables"), { recursive: true })
            for (const [name, rows] of dump) {
              writeFileSync(join(directory, "tables", `${name}.ndjson`), rows.map((row) => toJson(row) + "\n").join(""))
            }
            rmSync(join(directory, "files"), { recursive: true, force: true })
            const exports = join(dataDirectory, "exports")
            if (existsSync(exports)) cpSync(exports, join(directory, "files", "exports"), { recursive: true })
            // The manifest last: a folder without one is not a snapshot.
            writeFileSync(join(directory, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n")
          },
          catch: (error) =>
            new SnapshotError({ reason: "Unwritable", message: `cannot write the snapshot to ${directory}: ${(error as Error).message}` })
        })
        return manifest
      })

    const readManifest = (directory: string) =>
      Effect.gen(function* () {
        const file = join(directory, "manifest.json")
        if (!existsSync(file)) {
          return yield* new SnapshotError({ reason: "NotASnapshot", message: `${directory} is not a snapshot: it has no manifest.json` })
        }
        const manifest = yield* Effect.try({
          try: () => JSON.parse(readFileSync(file, "utf8")) as Partial<SnapshotManifest>,
          catch: (error) => new SnapshotError({ reason: "NotASnapshot", message: `${file} is not valid JSON: ${(error as Error).message}` })
        })
        if (manifest.format !== SNAPSHOT_FORMAT) {
          return yield* new SnapshotError({ reason: "NotASnapshot", message: `${file} is not an rtcp snapshot manifest (format "${String(manifest.format)}")` })
        }
        if (manifest.formatVersion !== SNAPSHOT_FORMAT_VERSION) {
          return yield* new SnapshotError({
            reason: "FormatVersion",
            message: `the snapshot has format version ${String(manifest.formatVersion)}; this rtcp reads version ${SNAPSHOT_FORMAT_VERSION}: import it with the rtcp version that wrote it`
          })
        }
        const level = yield* migrationLevel
        if (manifest.migration !== level && !(yield* readableLevels).includes(String(manifest.migration))) {
          return yield* new SnapshotError({
            reason: "MigrationLevel",
            message: `the snapshot's rows are at migration ${String(manifest.migration)}, this store is at ${level}: import it with the rtcp version that wrote it, then export it again with this one`
          })
        }
        return manifest as SnapshotManifest
      })

    const importFrom = (directory: string) =>
      Effect.gen(function* () {
        const manifest = yield* readManifest(directory)
        const names = yield* tables
        const unknown = Object.keys(manifest.tables ?? {}).filter((name) => !names.includes(name))
        if (unknown.length > 0) {
          return yield* new SnapshotError({ reason: "MigrationLevel", message: `the snapshot has tables this store does not: ${unknown.join(", ")}` })
        }
        // Everything is read and parsed before the first row is deleted.
        const rows = new Map<string, Array<Record<string, unknown>>>()
        for (const name of names) {
          const file = join(directory, "tables", `${name}.ndjson`)
          const parsed = yield* Effect.try({
            try: () =>
              existsSync(file)
                ? readFileSync(file, "utf8")
                    .split("\n")
                    .filter((line) => line !== "")
                    .map((line) => JSON.parse(line) as Record<string, unknown>)
                : [],
            catch: (error) => new SnapshotError({ reason: "Unreadable", message: `${file} cannot be read: ${(error as Error).message}` })
          })
          if (parsed.length !== (manifest.tables[name] ?? 0)) {
            return yield* new SnapshotError({
              reason: "Unreadable",
              message: `${file} has ${parsed.length} rows; the manifest says ${manifest.tables[name] ?? 0}: the snapshot is incomplete`
            })
          }
          rows.set(name, parsed)
        }
        const before = yield* sandboxNames
        yield* Effect.gen(function* () {
          for (const name of names) yield* sql`DELETE FROM ${sql(name)}`
          for (const [name, table] of rows) {
            for (let i = 0; i < table.length; i += INSERT_CHUNK) {
              yield* sql`INSERT INTO ${sql(name)} ${sql.insert(table.slice(i, i + INSERT_CHUNK))}`
            }
          }
          // Postgres hands out BIGSERIAL ids from a sequence that explicit ids
          // do not move: it starts after the highest imported id, or the next
          // new identity or graph would collide with an imported one.
          yield* sql.onDialectOrElse({
            pg: () =>
              Effect.flatMap(
                sql<{ name: string }>`SELECT table_name AS name FROM information_schema.columns
                  WHERE table_schema = current_schema() AND column_name = 'id' AND column_default LIKE 'nextval(%'`,
                (serial) =>
                  Effect.forEach(
                    serial.filter(({ name }) => names.includes(name)),
                    ({ name }) =>
                      sql`SELECT setval(pg_get_serial_sequence(${name}, 'id'), COALESCE((SELECT MAX(id) FROM ${sql(name)}), 0) + 1, false)`,
                    { discard: true }
                  )
              ),
            orElse: () => Effect.void
          })
        }).pipe(sql.withTransaction, Effect.orDie)
        yield* Effect.try({
          try: () => {
            const exports = join(dataDirectory, "exports")
            rmSync(exports, { recursive: true, force: true })
            const saved = join(directory, "files", "exports")
            if (existsSync(saved)) cpSync(saved, exports, { recursive: true })
          },
          catch: (error) => new SnapshotError({ reason: "Unreadable", message: `cannot copy the snapshot's export files: ${(error as Error).message}` })
        })
        yield* replaced([...new Set([...before, ...(yield* sandboxNames)])])
        return manifest
      })

    const reset = (sandbox?: string) =>
      Effect.gen(function* () {
        const names = yield* tables
        const now = yield* Clock.currentTimeMillis
        const before = yield* sandboxNames
        if (sandbox !== undefined && !before.includes(sandbox)) return yield* new UnknownSandbox({ sandbox })
        yield* Effect.gen(function* () {
          if (sandbox === undefined) {
            for (const name of names) yield* sql`DELETE FROM ${sql(name)}`
            yield* sql`INSERT INTO sandboxes ${sql.insert({ name: "prod", id: randomUUID(), title: "Production", type: "production", created_at: now })}`
            yield* insertDefaultPolicy(sql, "prod", now)
          } else {
            for (const name of names) if (name !== "sandboxes") yield* sql`DELETE FROM ${sql(name)} WHERE sandbox = ${sandbox}`
            yield* insertDefaultPolicy(sql, sandbox, now)
          }
        }).pipe(sql.withTransaction, Effect.orDie)
        yield* Effect.sync(() => {
          const exports = join(dataDirectory, "exports")
          rmSync(sandbox === undefined ? exports : join(exports, sandbox), { recursive: true, force: true })
        })
        yield* replaced(sandbox === undefined ? before : [sandbox])
      })

    return StoreState.of({ exportTo, importFrom, reset })
  })
)
