/**
 * The database the tests run on: SQLite unless `RTCP_TEST_DIALECT=postgres`
 * (the `postgres` vitest project sets it), then the server at
 * `RTCP_TEST_DATABASE_URL`, each store in a schema of its own.
 */
import { Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { ProfileStore } from "../../src/index.js"

export const dialect: "sqlite" | "postgres" = process.env.RTCP_TEST_DIALECT === "postgres" ? "postgres" : "sqlite"

export const databaseUrl = process.env.RTCP_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const kept = new Set<string>()
afterAll(async () => {
  for (const schema of kept) await Effect.runPromise(ProfileStore.dropSchema(databaseUrl, schema))
  kept.clear()
})

/**
 * The store of `directory`: a fresh one for `":memory:"`; for a folder, the
 * same data every time the layer is built in this test file (on Postgres, a
 * schema named after the folder, dropped after the file's tests).
 */
export const storeAt = (directory = ":memory:"): ProfileStore.StoreLayer => {
  if (dialect === "sqlite") return ProfileStore.layerSqlite({ directory })
  if (directory === ":memory:") return ProfileStore.layerPostgresScratch({ url: databaseUrl, directory })
  const schema = `rtcp_test_${createHash("sha256").update(directory).digest("hex").slice(0, 16)}`
  kept.add(schema)
  return Layer.unwrapEffect(
    Effect.as(Effect.orDie(ProfileStore.ensureSchema(databaseUrl, schema)), ProfileStore.layerPostgres({ url: databaseUrl, directory, schema }))
  )
}

/** `use` with a new temporary folder, removed afterwards whatever happens. */
export const inFolder = <A, E, R>(prefix: string, use: (directory: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    use,
    (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
  )
