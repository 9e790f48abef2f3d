/**
 * Every core in use: the service as one writer and N reader processes
 * (node:cluster) that share the public port.
 *
 * The primary process is the writer: the whole service (ingestion, jobs,
 * admin, snapshots) on a loopback port of its own. Each worker is a reader
 * (ReaderWorker.ts): it answers the hot reads from the store and forwards
 * everything else to the writer. Workers exit with the primary: they leave
 * when its IPC channel closes, which a `kill -9` of the primary closes too,
 * so none is left holding the port.
 *
 * @since 0.1.0
 */
import { HttpServer } from "@effect/platform"
import { Effect, FiberRef, Layer, Logger, LogLevel } from "effect"
import cluster, { type Worker } from "node:cluster"
import { availableParallelism } from "node:os"
import * as ReaderWorker from "./ReaderWorker.js"

/** Where workers find their orders (JSON of `ReaderWorker.ReaderOptions` plus the log level). */
export const ENV = "RTCP_READER_WORKER"
/** Set to 1 to add `x-rtcp-worker: <pid>` to every answer of a reader (tests, diagnosis). */
export const WORKER_HEADER_ENV = "RTCP_WORKER_HEADER"

export interface WorkerChoice {
  /** What `--workers` said, if anything. */
  readonly requested?: number | undefined
  readonly directory: string
  readonly admin?: boolean | undefined
  readonly faults?: boolean | undefined
}

/**
 * How many processes accept on the public port. One for a `:memory:` store
 * (it lives in one process) and with admin or faults (the request
 * inspector, fault rules and resets are state of one process); otherwise
 * what `--workers` says, by default one per core but one: the writer and the
 * callers (often on the same machine) need a core too. Measured on 2 cores
 * with the load generator beside the service, two readers answered fewer
 * lookups than one process, so there the default is one process.
 */
export const count = (choice: WorkerChoice): number => {
  if (choice.directory === ":memory:" || choice.admin === true || choice.faults === true) return 1
  if (choice.requested !== undefined) return choice.requested
  const readers = availableParallelism() - 1
  return readers >= 2 ? readers : 1
}

export interface ReadersOptions extends Omit<ReaderWorker.ReaderOptions, "writer" | "headers" | "onListening"> {
  readonly workers: number
}

type Message = { readonly listening: { readonly port: number } }

/**
 * Forks the readers once the writer listens (its address is the
 * `HttpServer` this layer needs), says where they listen, and stops them
 * with the scope. A reader that dies is replaced.
 */
export const layerReaders = (options: ReadersOptions) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const writer = yield* HttpServer.HttpServer
      if (writer.address._tag !== "TcpAddress") return yield* Effect.dieMessage("the writer must listen on TCP")
      const logLevel = (yield* FiberRef.get(FiberRef.currentMinimumLogLevel)).label
      const orders = JSON.stringify({
        ...options,
        writer: { host: "127.0.0.1", port: writer.address.port },
        logLevel
      })
      let stopping = false
      const workers = new Set<Worker>()
      const fork = () => {
        const worker = cluster.fork({ [ENV]: orders })
        workers.add(worker)
        worker.once("exit", () => {
          workers.delete(worker)
          if (!stopping) fork()
        })
        return worker
      }
      const listening = yield* Effect.forEach(
        Array.from({ length: options.workers }, fork),
        (worker) =>
          Effect.async<number, Error>((resume) => {
            const onMessage = (message: Message) => {
              if (typeof message === "object" && message !== null && "listening" in message) {
                worker.off("message", onMessage)
                resume(Effect.succeed(message.listening.port))
              }
            }
            worker.on("message", onMessage)
            worker.once("exit", (code) => resume(Effect.fail(new Error(`a reader worker exited (${code}) before listening`))))
          }),
        { concurrency: "unbounded" }
      )
      yield* Effect.addFinalizer(() =>
        Effect.async<void>((resume) => {
          stopping = true
          if (workers.size === 0) return resume(Effect.void)
          let left = workers.size
          for (const worker of workers) {
            worker.once("exit", () => {
              if (--left === 0) resume(Effect.void)
            })
            worker.process.kill("SIGTERM")
          }
        })
      )
      yield* Effect.logInfo(`Listening on ${HttpServer.formatAddress({ _tag: "TcpAddress", hostname: options.host, port: listening[0]! })}`)
    })
  )

/**
 * The reader of this worker process, from the orders its primary left in
 * the environment; it leaves when the primary does.
 */
export const runReader = (): Promise<void> => {
  const orders = JSON.parse(process.env[ENV] ?? "{}") as ReaderWorker.ReaderOptions & { readonly logLevel: string }
  process.on("disconnect", () => process.exit(0))
  const level = LogLevel.allLevels.find((l) => l.label === orders.logLevel) ?? LogLevel.Info
  const reader = ReaderWorker.layer({
    ...orders,
    headers: process.env[WORKER_HEADER_ENV] === "1" ? { "x-rtcp-worker": String(process.pid) } : undefined,
    onListening: (port) => process.send?.({ listening: { port } })
  })
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        yield* Layer.build(reader)
        yield* Effect.never
      })
    ).pipe(Logger.withMinimumLogLevel(level))
  )
}
