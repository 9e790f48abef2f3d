/**
 * The local profile service on a loopback port, over a seeded store, as
 * `npm run service` runs it (`Server.serve`). Its access log (one line per
 * request at Info level) is off unless `accessLog`: a load test would
 * otherwise measure the terminal.
 */
import { Server, Workers } from "@rtcp/local-platform"
import cluster from "node:cluster"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { freePort, serveUntilStopped, workerMain } from "../lib/worker.js"

export interface ServeArgs {
  readonly dir: string
  /** A `postgres://` URL: the store lives there (the folder keeps the other files). */
  readonly database?: string | undefined
  readonly accessLog?: boolean
  /** Serves `/rtcp/admin/faults` (fault injection for storm scenarios). */
  readonly admin?: boolean
  /**
   * Processes accepting on the port, as `rtcp-service --workers`: a number,
   * or "default" for the CLI's default (one per core for a data folder).
   * Unset: 1, one process, as every benchmark measured it before workers.
   */
  readonly workers?: number | "default" | undefined
  /** `--lookup-cache-mb`: 0 makes every lookup read the store; the service's default when unset. */
  readonly lookupCacheMb?: number | undefined
}

export interface ServeInfo {
  readonly url: string
  readonly token: string
}

const main = async ({ accessLog, admin, database, dir, lookupCacheMb, workers }: ServeArgs) => {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const processes = Workers.count({ requested: workers === "default" ? undefined : (workers ?? 1), directory: dir, admin })
  // As the CLI does it (apps/profile-service): with readers, this process is the writer behind them.
  const writer = Server.serve({
    directory: dir,
    database,
    port: processes > 1 ? 0 : port,
    host: "127.0.0.1",
    logAddress: processes === 1,
    lookupCacheMb,
    ...(admin === true ? { admin: true } : {})
  })
  const server =
    processes > 1
      ? Layer.merge(writer, Layer.provide(Workers.layerReaders({ workers: processes, port, host: "127.0.0.1", directory: dir, database, lookupCacheMb }), writer))
      : writer
  const launched = Layer.launch(accessLog === true ? server : server.pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))))
  Effect.runFork(launched)
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      // Each attempt gives up after a while and asks again: a service that
      // is still starting refuses the connection, but a stalled one must not
      // hold the benchmark.
      const response = await fetch(`${url}/ims/token/v3`, {
        signal: AbortSignal.timeout(2_000),
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials&client_id=rtcp-local&client_secret=rtcp-local-secret"
      })
      if (response.ok) {
        const { access_token } = (await response.json()) as { access_token: string }
        await serveUntilStopped({ url, token: access_token } satisfies ServeInfo)
        return
      }
    } catch {
      // not listening yet, or not answering yet
    }
    if (Date.now() > deadline) throw new Error("the service did not answer within 60 s")
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

// A reader forked by Workers.layerReaders runs this file again.
if (cluster.isWorker) void Workers.runReader()
else workerMain<ServeArgs, void>((args) => main(args).then(() => new Promise<void>(() => {})))
