import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ProfileStore, Sandboxes } from "../src/index.js"

const opened = (directory: string) => Layer.build(ProfileStore.layerSqlite({ directory }))

describe("one process per SQLite data folder", () => {
  it.scoped("a second store on a folder in use is refused with a message that says what to do; once closed, the folder opens again", () =>
    Effect.gen(function* () {
      const directory = mkdtempSync(join(tmpdir(), "rtcp-lock-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(directory, { recursive: true, force: true })))
      const first = yield* Effect.scoped(
        Effect.gen(function* () {
          const store = yield* opened(directory)
          const second = yield* Effect.exit(Effect.scoped(opened(directory)))
          expect(Exit.isFailure(second)).toBe(true)
          const error = Exit.isFailure(second) ? (second.cause as any).error : undefined
          expect(error?._tag).toBe("DataFolderInUse")
          expect(error?.message).toContain(`in use by another rtcp process (pid ${process.pid}`)
          expect(error?.message).toContain("--database")
          const sandboxes = yield* Effect.provide(Sandboxes.Sandboxes, Layer.succeedContext(store))
          return yield* sandboxes.list
        })
      )
      expect(first.map((s) => s.name)).toContain("prod")
      yield* Effect.scoped(opened(directory))
    })
  )

  it.scoped("a lock left by a process that is gone is taken over", () =>
    Effect.gen(function* () {
      const directory = mkdtempSync(join(tmpdir(), "rtcp-lock-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(directory, { recursive: true, force: true })))
      // A pid far above any live one stands for a process that crashed.
      writeFileSync(join(directory, "rtcp.lock"), "2147483000\n")
      yield* Effect.scoped(opened(directory))
    })
  )
})
