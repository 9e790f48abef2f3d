/**
 * Per-caller rate limit (rate-limiter-flexible): in Redis when the proxy
 * has one, so a caller's limit holds across all replicas (while Redis is
 * unreachable, an in-memory insurance limiter per replica stands in); else
 * in memory. Every answer carries the limit headers of
 * the IETF draft (`RateLimit-Limit`, `RateLimit-Remaining`,
 * `RateLimit-Reset`, `RateLimit-Policy`); a caller over its limit gets 429
 * with `Retry-After`. The limit comes from the caller's key entry, so a key
 * file reload changes it on the next request.
 */
import type { MiddlewareHandler } from "hono"
import { RateLimiterRes } from "rate-limiter-flexible"
import type { ProxyEnv } from "../env.js"
import { ProxyError } from "../errors.js"
import type { RateLimit } from "../keys.js"
import type { ProxyMetrics } from "../metrics.js"
import type { SharedState } from "../shared.js"

export interface RateLimitOptions {
  readonly metrics?: ProxyMetrics | undefined
  readonly shared: SharedState
}

const headersFor = (limit: RateLimit, result: RateLimiterRes) => ({
  "ratelimit-limit": String(limit.points),
  "ratelimit-remaining": String(Math.max(0, result.remainingPoints)),
  "ratelimit-reset": String(Math.max(0, Math.ceil(result.msBeforeNext / 1000))),
  "ratelimit-policy": `${limit.points};w=${limit.duration}`
})

/**
 * Where the cache-hit lane (cacheHit.ts), which consumes a point before it
 * knows whether it can answer, leaves the limiter's verdict on the Node
 * request it hands on, so that a request is counted once.
 */
export const CONSUMED = Symbol.for("@rtcp/proxy/rateLimit/consumed")

export type Consumed = { readonly ok: true; readonly result: RateLimiterRes } | { readonly ok: false; readonly error: unknown }

const consumedOf = (env: unknown): Consumed | undefined =>
  (env as { incoming?: { [CONSUMED]?: Consumed } } | undefined)?.incoming?.[CONSUMED]

export const rateLimit = ({ metrics, shared }: RateLimitOptions): MiddlewareHandler<ProxyEnv> => {
  // One limiter per (points, duration), shared by the replicas through Redis when there is one; callers are keys inside it.
  const limiterFor = (limit: RateLimit) => shared.limiterFor(limit)
  return async function rateLimit(c, next) {
    const caller = c.get("caller")
    if (caller === undefined) return next()
    let result: RateLimiterRes
    try {
      const consumed = consumedOf(c.env)
      if (consumed === undefined) result = await limiterFor(caller.rateLimit).consume(caller.name)
      else if (consumed.ok) result = consumed.result
      else throw consumed.error
    } catch (rejected) {
      if (!(rejected instanceof RateLimiterRes)) throw rejected
      metrics?.rateLimited.inc({ caller: caller.name })
      const retryAfter = Math.max(1, Math.ceil(rejected.msBeforeNext / 1000))
      throw new ProxyError(
        429,
        "rate-limited",
        "Too many requests",
        `caller "${caller.name}" is over its limit of ${caller.rateLimit.points} requests per ${caller.rateLimit.duration} s`,
        { ...headersFor(caller.rateLimit, rejected), "retry-after": String(retryAfter) }
      )
    }
    for (const [name, value] of Object.entries(headersFor(caller.rateLimit, result))) c.header(name, value)
    await next()
  }
}
