/**
 * Sandboxes: every stored object belongs to one. `prod` always exists; others
 * are created on demand (Sandbox Management's `POST /sandboxes`).
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { randomUUID } from "node:crypto"
import { Clock, Context, Effect, Layer, Option } from "effect"
import { lockFor } from "./internal/dialect.js"
import type * as StoreError from "./StoreError.js"
import { invalid } from "./StoreError.js"
import { insertDefaultPolicy } from "./internal/defaultPolicy.js"
import type * as Rows from "./migrations/rows.js"

export interface Sandbox {
  readonly name: string
  readonly id: string
  readonly title: string
  readonly type: "production" | "development"
  readonly createdAt: number
}

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/

export class Sandboxes extends Context.Tag("@rtcp/profile-store/Sandboxes")<
  Sandboxes,
  {
    readonly get: (name: string) => Effect.Effect<Option.Option<Sandbox>>
    readonly list: Effect.Effect<ReadonlyArray<Sandbox>>
    readonly create: (input: {
      readonly name: string
      readonly title?: string | undefined
      readonly type?: "production" | "development" | undefined
    }) => Effect.Effect<Sandbox, StoreError.InvalidInput>
    /** Drops what is kept in memory, after the tables were replaced underneath (reset, snapshot import). */
    readonly forget: Effect.Effect<void>
  }
>() {}

const toSandbox = (row: Rows.Sandbox): Sandbox => ({
  name: row.name,
  id: row.id,
  title: row.title,
  type: row.type,
  createdAt: Number(row.created_at)
})

export const layer = Layer.effect(
  Sandboxes,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // Processes sharing a Postgres database may create the same sandbox at
    // once (every one creates `prod` on its first start): they take turns,
    // and the later one finds it there.
    const insert = (name: string, title: string, type: string) =>
      Effect.gen(function* () {
        yield* lockFor(sql, `rtcp:sandbox:${name}`)
        const existing = yield* sql<Rows.Sandbox>`SELECT * FROM sandboxes WHERE name = ${name}`
        if (existing[0] !== undefined) return toSandbox(existing[0])
        const now = yield* Clock.currentTimeMillis
        const sandbox: Sandbox = { name, id: randomUUID(), title, type: type as Sandbox["type"], createdAt: now }
        yield* sql`INSERT INTO sandboxes ${sql.insert({ name, id: sandbox.id, title, type, created_at: now })}`
        yield* insertDefaultPolicy(sql, name, now)
        return sandbox
      }).pipe(sql.withTransaction, Effect.orDie)

    // Every Platform request checks its sandbox; sandboxes are never deleted
    // or renamed, so one found stays found (in every process sharing the
    // database: only misses are asked again).
    const known = new Map<string, Sandbox>()
    const get = (name: string) =>
      Effect.suspend(() => {
        const hit = known.get(name)
        if (hit !== undefined) return Effect.succeed(Option.some(hit))
        return sql<Rows.Sandbox>`SELECT * FROM sandboxes WHERE name = ${name}`.pipe(
          Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toSandbox)),
          Effect.tap((found) =>
            Effect.sync(() => {
              if (Option.isSome(found)) known.set(name, found.value)
            })
          ),
          Effect.orDie
        )
      })

    const existing = yield* get("prod")
    if (Option.isNone(existing)) yield* insert("prod", "Production", "production")

    return Sandboxes.of({
      get,
      forget: Effect.sync(() => known.clear()),
      list: sql<Rows.Sandbox>`SELECT * FROM sandboxes ORDER BY created_at, name`.pipe(Effect.map((rows) => rows.map(toSandbox)), Effect.orDie),
      create: (input) =>
        Effect.gen(function* () {
          if (!NAME.test(input.name)) {
            return yield* invalid(
              `Sandbox name "${input.name}" is invalid: use lower-case letters, digits and dashes (at most 64)`
            )
          }
          if (Option.isSome(yield* get(input.name))) {
            return yield* invalid(`Sandbox "${input.name}" already exists`)
          }
          return yield* insert(input.name, input.title ?? input.name, input.type ?? "development")
        })
    })
  })
)
