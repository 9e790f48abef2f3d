import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { execFile } from "node:child_process"
import { statSync } from "node:fs"
import { join } from "node:path"
import { Entities } from "../src/index.js"
import { dialect, inFolder, storeAt } from "./support/database.js"
import { dataset, ingest, person } from "./support/store.js"

describe("WAL checkpoints", () => {
  it.live.skipIf(dialect !== "sqlite")("are made off the store's connection: commits never checkpoint, yet the log reaches the database file", () =>
    inFolder("rtcp-wal-", (directory) =>
      Effect.gen(function* () {
        const file = join(directory, "profile.db")
        yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const [setting] = yield* sql<{ readonly wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`
          expect(setting?.wal_autocheckpoint).toBe(0)
          const crm = yield* dataset("CRM", "profile")
          const before = statSync(file).size
          // Several MB of log: far past the 1,000 pages at which a commit would have checkpointed.
          yield* ingest(
            crm.id,
            Array.from({ length: 3000 }, (_, i) => person([["CRMID", `c${i}`], ["Email", `p${i}@example.com`]], { notes: "x".repeat(2000) }))
          )
          // Until a checkpoint copies them, new pages live in the log only.
          yield* Effect.sync(() => statSync(file).size).pipe(
            Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: (size) => size > before + 3000 * 2000 }),
            Effect.timeout("10 seconds")
          )
        }).pipe(Effect.provide(storeAt(directory)))
        // Closed and opened again: everything written is there.
        const profile = yield* Effect.flatMap(Entities.Entities, (entities) =>
          entities.getProfile("prod", { identity: { namespace: "crmid", id: "c2999" }, schemaName: "_xdm.context.profile" })
        ).pipe(Effect.provide(storeAt(directory)))
        expect(profile.body.entity).toMatchObject({ notes: "x".repeat(2000) })
      })
    )
  )

  it.live.skipIf(dialect !== "sqlite")("stop with the store: a process whose last work is closing it finishes that work", () =>
    inFolder("rtcp-wal-", (directory) =>
      Effect.async<string>((resume) => {
        execFile(
          process.execPath,
          ["--conditions=@rtcp/source", "--import", "tsx", join(import.meta.dirname, "fixtures", "ingestAndClose.ts"), directory],
          { timeout: 60_000 },
          (error, stdout, stderr) => resume(error ? Effect.die(new Error(`${error.message}\n${stderr}`)) : Effect.succeed(stdout))
        )
      }).pipe(Effect.map((stdout) => expect(stdout.trim()).toBe("closed")))
    )
  )
})
