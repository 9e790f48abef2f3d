/**
 * What middleware and routes share through Hono's typed `Variables`.
 */
import type { Tracer } from "effect"
import type { Context } from "hono"
import { matchedRoutes } from "hono/route"
import type { CacheResult } from "./cache.js"
import type { Caller } from "./keys.js"

/** Filled by routes, written by the audit middleware: never secrets, never profile contents. */
export interface AuditFields {
  sandbox?: string
  upstreamRequestId?: string
  cache?: CacheResult
}

export interface ProxyVariables {
  requestId: string
  /** Set by callerAuth (or the token route) once the key checks out. */
  caller: Caller | undefined
  /** Aborts when the client goes away or the request times out. */
  signal: AbortSignal
  audit: AuditFields
  /** The caller request's span, when tracing is on (tracing.ts). */
  span: Tracer.AnySpan | undefined
  /** A finer route label than Hono's pattern (the AEP contract template), set by routes. */
  route: string | undefined
}

export type ProxyEnv = { Variables: ProxyVariables }

/**
 * The route label for metrics and audit lines: what a route set, else the
 * pattern Hono matched; never the raw path (ids and e-mail addresses live
 * there).
 */
export const routeLabel = (c: Context<ProxyEnv>): string => {
  const set = c.get("route")
  if (set !== undefined) return set
  const routes = matchedRoutes(c)
  for (let i = routes.length - 1; i >= 0; i--) {
    const path = routes[i]!.path
    if (path !== "*" && path !== "/*") return path
  }
  return "unmatched"
}

/** The client's signal, or the timeout's when that middleware ran. */
export const signalOf = (c: Context<ProxyEnv>): AbortSignal => c.get("signal") ?? c.req.raw.signal
