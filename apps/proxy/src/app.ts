/**
 * The proxy as a Hono app, built from injected services (upstream, keys,
 * metrics, audit sink), so tests run it in-process with `app.request` and
 * main.ts serves the same app on a socket.
 *
 * Middleware order: request id → audit → secure headers → caller auth →
 * per-caller rate limit → metrics → timeout → body limit → routes. The
 * audit line sits before auth so that refused requests are on record.
 */
import { Hono } from "hono"
import { bodyLimit } from "hono/body-limit"
import { secureHeaders } from "hono/secure-headers"
import { type ProxyEnv, routeLabel } from "./env.js"
import { ProxyError, render, RequestAborted, respond } from "./errors.js"
import type { KeyStore } from "./keys.js"
import * as Log from "./log.js"
import { audit, type AuditSink } from "./middleware/audit.js"
import { callerAuth } from "./middleware/callerAuth.js"
import { metrics as metricsMiddleware } from "./middleware/metrics.js"
import { rateLimit } from "./middleware/rateLimit.js"
import { requestId } from "./middleware/requestId.js"
import { timeout } from "./middleware/timeout.js"
import type { ProxyMetrics } from "./metrics.js"
import { aepRoutes } from "./routes/aep.js"
import { internalRoutes } from "./routes/internal.js"
import { opsRoutes } from "./routes/ops.js"
import { TOKEN_PATH, tokenRoutes } from "./routes/token.js"
import type { Upstream } from "./upstream.js"

export interface AppServices {
  readonly upstream: Upstream
  readonly keys: KeyStore
  readonly metrics: ProxyMetrics
  readonly auditSink?: AuditSink | undefined
  /** Per request, ms (default 30 s). */
  readonly timeoutMs?: number | undefined
  /** Request body limit, bytes (default 1 MiB). */
  readonly maxBodyBytes?: number | undefined
  /** Unexpected errors (500s) go here with the request id; default: a JSON log line. */
  readonly logError?: ((entry: { readonly requestId: string; readonly error: unknown }) => void) | undefined
}

const defaultLogError = ({ error, requestId }: { readonly requestId: string; readonly error: unknown }) =>
  Log.write({ level: "error", msg: "unexpected error", requestId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })

export const createApp = (services: AppServices): Hono<ProxyEnv> => {
  const { keys, metrics, upstream } = services
  const logError = services.logError ?? defaultLogError
  const maxBodyBytes = services.maxBodyBytes ?? 1024 * 1024
  const app = new Hono<ProxyEnv>()

  app.use(requestId())
  app.use(audit(services.auditSink === undefined ? {} : { sink: services.auditSink }))
  app.use(secureHeaders())
  app.use(callerAuth({ keys, metrics, skip: (c) => c.req.method === "POST" && c.req.path === TOKEN_PATH }))
  app.use(rateLimit({ metrics, shared: upstream.shared }))
  app.use(metricsMiddleware({ metrics }))
  app.use(timeout(services.timeoutMs === undefined ? {} : { ms: services.timeoutMs }))
  // The caller's request as a span (only when tracing is on): parent of the cache, batch and upstream spans.
  if (upstream.tracing) app.use(async (c, next) => {
    const span = await upstream.startSpan("proxy.request", undefined, { "http.request.method": c.req.method })
    if (span === undefined) return next()
    c.set("span", span.span)
    try {
      await next()
    } finally {
      span.end({ "http.route": routeLabel(c), "http.response.status_code": c.res.status, "rtcp.caller": c.get("caller")?.name ?? "anonymous" })
    }
  })
  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: () => {
      // The rest of the body is not read: close the connection rather than leave the client mid-upload.
      throw new ProxyError(413, "payload-too-large", "Payload too large", `request bodies are limited to ${maxBodyBytes} bytes`, {
        connection: "close"
      })
    }
  })
  // GET and HEAD bodies are never read (nor forwarded), so they need no limit. Skipping them matters: hono's bodyLimit
  // reads `c.req.raw.body`, which makes @hono/node-server build a full WHATWG Request, a seventh of a cached lookup's CPU.
  app.use((c, next) => (c.req.method === "GET" || c.req.method === "HEAD" ? next() : limitBody(c, next)))

  app.route("/", tokenRoutes({ keys, metrics }))
  app.route("/", internalRoutes({ upstream }))
  app.route("/", aepRoutes({ upstream }))

  app.notFound((c) => respond(c, render(new ProxyError(404, "not-found", "Not found", "no such route on this proxy"), c.req.path, c.get("requestId"))))
  app.onError((error, c) => {
    const id = c.get("requestId") ?? ""
    const reason: unknown = c.get("signal")?.reason
    const cause = error instanceof RequestAborted && reason instanceof ProxyError ? reason : error
    const rendered = render(cause, c.req.path, id)
    if (rendered.status === 500) logError({ requestId: id, error })
    return respond(c, rendered)
  })
  return app
}

export interface OpsServices {
  readonly upstream: Upstream
  readonly metrics: ProxyMetrics
  readonly accepting?: () => boolean
}

/** The internal listener's app: /healthz, /readyz, /metrics, /openapi.json. */
export const createOpsApp = (services: OpsServices) => opsRoutes(services)
