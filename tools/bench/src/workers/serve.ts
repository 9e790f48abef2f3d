/**
 * The local profile service on a loopback port, over a seeded store, as
 * `npm run service` runs it (`Server.serve`). Its access log (one line per
 * request at Info level) is off unless `accessLog`: a load test would
 * otherwise measure the terminal.
 */
import { Server } from "@rtcp/local-platform"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { freePort, serveUntilStopped, workerMain } from "../lib/worker.js"

export interface ServeArgs {
  readonly dir: string
  /** A `postgres://` URL: the store lives there (the folder keeps the other files). */
  readonly database?: string | undefined
  readonly accessLog?: boolean
  /** Serves `/rtcp/admin/faults` (fault injection for storm scenarios). */
  readonly admin?: boolean
}

export interface ServeInfo {
  readonly url: string
  readonly token: string
}

const main = async ({ accessLog, admin, database, dir }: ServeArgs) => {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const server = Server.serve({ directory: dir, database, port, host: "127.0.0.1", ...(admin === true ? { admin: true } : {}) })
  const launched = Layer.launch(accessLog === true ? server : server.pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))))
  Effect.runFork(launched)
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      const response = await fetch(`${url}/ims/token/v3`, {
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
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the service did not answer within 60 s")
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

workerMain<ServeArgs, void>((args) => main(args).then(() => new Promise<void>(() => {})))
