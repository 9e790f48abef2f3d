/**
 * One structured JSON line per request: who (key name), what (method and
 * route pattern), where (sandbox), the outcome (status, upstream request
 * id, cache result) and how long it took. Never a key, a token, a raw path,
 * a query string or a body: identities and profiles stay out of logs.
 *
 * It runs right after the request id, before caller auth and rate
 * limiting, so refused requests (401, 403, 429) are on record too.
 */
import type { MiddlewareHandler } from "hono"
import { type AuditFields, type ProxyEnv, routeLabel } from "../env.js"
import { writeLine } from "../stdout.js"

export interface AuditLine {
  readonly time: string
  readonly level: "info" | "warn" | "error"
  readonly msg: "request"
  readonly requestId: string
  readonly caller: string | null
  readonly method: string
  readonly route: string
  readonly sandbox: string | null
  readonly status: number
  readonly upstreamRequestId: string | null
  readonly cache?: string
  readonly latencyMs: number
}

export type AuditSink = (line: AuditLine) => void

export const stdoutSink: AuditSink = (line) => {
  writeLine(JSON.stringify(line))
}

export interface AuditOptions {
  readonly sink?: AuditSink
  readonly now?: () => number
}

export const audit = ({ sink = stdoutSink, now = () => performance.now() }: AuditOptions = {}): MiddlewareHandler<ProxyEnv> =>
  async function audit(c, next) {
    const started = now()
    const fields: AuditFields = {}
    c.set("audit", fields)
    try {
      await next()
    } finally {
      const status = c.res.status
      sink({
        time: new Date().toISOString(),
        level: status >= 500 ? "error" : status >= 400 ? "warn" : "info",
        msg: "request",
        requestId: c.get("requestId"),
        caller: c.get("caller")?.name ?? null,
        method: c.req.method,
        route: routeLabel(c),
        sandbox: fields.sandbox ?? null,
        status,
        upstreamRequestId: fields.upstreamRequestId ?? null,
        ...(fields.cache === undefined ? {} : { cache: fields.cache }),
        latencyMs: Math.round((now() - started) * 100) / 100
      })
    }
  }
