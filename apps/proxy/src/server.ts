/**
 * Serving the proxy: the main app and the ops app on their own listeners,
 * and a graceful close: stop accepting, let in-flight requests finish,
 * close idle keep-alive connections (and, past the grace period, all of
 * them), then release the upstream runtime and the key watcher.
 */
import { getRequestListener } from "@hono/node-server"
import { createServer, type RequestListener, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { type AppServices, createApp, createOpsApp } from "./app.js"
import { cacheHitLane } from "./cacheHit.js"

export type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>

export interface Listener {
  readonly server: Server
  readonly port: number
  readonly url: string
}

export const listen = (
  fetch: FetchHandler,
  options: { readonly port: number; readonly host: string; readonly before?: ((app: RequestListener) => RequestListener) | undefined }
): Promise<Listener> => {
  const app = getRequestListener(fetch, { hostname: options.host })
  const server = createServer({ keepAliveTimeout: 5_000 }, options.before === undefined ? app : options.before(app))
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port, options.host, () => {
      server.off("error", reject)
      const { port } = server.address() as AddressInfo
      const host = options.host.includes(":") ? `[${options.host}]` : options.host
      resolve({ server, port, url: `http://${host}:${port}` })
    })
  })
}

/**
 * Stops accepting, waits for in-flight requests, closes idle connections as
 * they become idle; after `graceMs` closes whatever is left.
 */
export const closeGracefully = (server: Server, graceMs = 10_000): Promise<void> =>
  new Promise((resolve) => {
    if (!server.listening) return resolve()
    const sweep = setInterval(() => server.closeIdleConnections(), 50)
    const deadline = setTimeout(() => server.closeAllConnections(), graceMs)
    server.close(() => {
      clearInterval(sweep)
      clearTimeout(deadline)
      resolve()
    })
    server.closeIdleConnections()
  })

// ---------------------------------------------------------------------------
// The whole proxy
// ---------------------------------------------------------------------------


export interface ProxyServerOptions extends AppServices {
  readonly port: number
  readonly host: string
  /** The ops listener (/healthz, /readyz, /metrics); none when undefined. */
  readonly opsPort?: number | undefined
  readonly opsHost?: string | undefined
  /** How long close() waits for in-flight requests before cutting connections (default 10 s). */
  readonly graceMs?: number | undefined
  /** Answer cache hits in the lane before the Hono app (cacheHit.ts; default true). */
  readonly cacheHitLane?: boolean | undefined
}

export interface RunningProxy {
  readonly url: string
  readonly opsUrl: string | undefined
  readonly port: number
  /** Graceful: stop accepting, drain, close idle connections, dispose the runtime, stop watching keys. */
  readonly close: () => Promise<void>
}

export const startProxy = async (options: ProxyServerOptions): Promise<RunningProxy> => {
  let accepting = true
  const app = createApp(options)
  const ops = createOpsApp({ upstream: options.upstream, metrics: options.metrics, accepting: () => accepting })
  const before = options.cacheHitLane === false ? undefined : await cacheHitLane(options)
  const main = await listen(app.fetch, { port: options.port, host: options.host, before })
  const opsListener =
    options.opsPort === undefined
      ? undefined
      : await listen(ops.fetch, { port: options.opsPort, host: options.opsHost ?? "127.0.0.1" }).catch((error: unknown) => {
          // Leave nothing listening when the proxy does not start.
          main.server.close()
          throw error
        })
  let closing: Promise<void> | undefined
  return {
    url: main.url,
    port: main.port,
    opsUrl: opsListener?.url,
    close: () =>
      (closing ??= (async () => {
        accepting = false
        await closeGracefully(main.server, options.graceMs ?? 10_000)
        if (opsListener !== undefined) await closeGracefully(opsListener.server, 1_000)
        options.keys.close()
        await options.upstream.dispose()
      })())
  }
}
