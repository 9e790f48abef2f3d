/**
 * WAL checkpoints of a store in a SQLite file, made on a thread of their own.
 *
 * By default SQLite checkpoints on the commit that takes the log past 1,000
 * pages, in the committing connection: on the service's one thread, where
 * copying a large batch's pages into the database held every request (about
 * 175 ms after a batch of 30,000 records, on top of the commit's own 170).
 * Here the store's connection never checkpoints (`wal_autocheckpoint = 0`)
 * and a worker thread with a connection of its own makes a PASSIVE
 * checkpoint every `intervalMs`: it copies what no reader still needs, never
 * waits for a lock and never blocks the writer, so the log stays about as
 * long as one interval's writes.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Runtime } from "effect"
import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"

/** The worker, as CommonJS source: no file to find next to this module, whether it runs from `src` or `dist`. */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads")
const Database = require(workerData.module)
const db = new Database(workerData.filename, { fileMustExist: true })
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)")
const timer = setInterval(() => {
  try {
    checkpoint.get()
  } catch {
    // A busy database is checkpointed at the next tick.
  }
}, workerData.intervalMs)
parentPort.on("message", () => {
  clearInterval(timer)
  db.close()
  parentPort.close()
})
`

export interface Options {
  /** Between checkpoints; 1 s by default. */
  readonly intervalMs?: number | undefined
}

/**
 * For the store in `filename`, whose connection is the provided `SqlClient`
 * (asked for first, so the file exists and is in WAL mode).
 */
export const layer = (filename: string, options: Options = {}) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const runFork = Runtime.runFork(yield* Effect.runtime<never>())
      yield* sql.unsafe("PRAGMA wal_autocheckpoint = 0").pipe(Effect.orDie)
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          const worker = new Worker(WORKER, {
            eval: true,
            workerData: {
              module: createRequire(import.meta.url).resolve("better-sqlite3"),
              filename,
              intervalMs: options.intervalMs ?? 1000
            }
          })
          let exited = false
          worker.once("exit", () => (exited = true))
          // Without checkpoints the log only grows until the store closes: said, not fatal.
          worker.on("error", (error) => runFork(Effect.logWarning(`WAL checkpoints stopped: ${error.message}`)))
          // A process that ends without closing its store is not kept alive by it.
          worker.unref()
          return { worker, exited: () => exited }
        }),
        ({ exited, worker }) =>
          Effect.async<void>((resume) => {
            if (exited()) return resume(Effect.void)
            worker.once("exit", () => resume(Effect.void))
            // Referenced again while it stops: nothing else may keep the process alive until it has.
            worker.ref()
            worker.postMessage("stop")
          })
      )
    })
  )
