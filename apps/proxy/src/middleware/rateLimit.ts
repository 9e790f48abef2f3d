/**
 * Per-caller rate limit (rate-limiter-flexible, in memory: each proxy
 * instance limits on its own). Every answer carries the limit headers of
 * the IETF draft (`RateLimit-Limit`, `RateLimit-Remaining`,
 * `RateLimit-Reset`, `RateLimit-Policy`); a caller over its limit gets 429
 * with `Retry-After`. The limit comes from the caller's key entry, so a key
 * file reload changes it on the next request.
 */
import type { MiddlewareHandler } from "hono"
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible"
import type { ProxyEnv } from "../env.js"
import { ProxyError } from "../errors.js"
import type { RateLimit } from "../keys.js"
import type { ProxyMetrics } from "../metrics.js"

export interface RateLimitOptions {
  readonly metrics?: ProxyMetrics | undefined
}

const headersFor = (limit: RateLimit, result: RateLimiterRes) => ({
  "ratelimit-limit": String(limit.points),
  "ratelimit-remaining": String(Math.max(0, result.remainingPoints)),
  "ratelimit-reset": String(Math.max(0, Math.ceil(result.msBeforeNext / 1000))),
  "ratelimit-policy": `${limit.points};w=${limit.duration}`
})

export const rateLimit = ({ metrics }: RateLimitOptions = {}): MiddlewareHandler<ProxyEnv> => {
  // One limiter per (points, duration); callers are keys inside it.
  const limiters = new Map<string, RateLimiterMemory>()
  const limiterFor = (limit: RateLimit) => {
    const id = `${limit.points}/${limit.duration}`
    let limiter = limiters.get(id)
    if (limiter === undefined) {
      limiter = new RateLimiterMemory({ points: limit.points, duration: limit.duration })
      limiters.set(id, limiter)
    }
    return limiter
  }
  return async function rateLimit(c, next) {
    const caller = c.get("caller")
    if (caller === undefined) return next()
    let result: RateLimiterRes
    try {
      result = await limiterFor(caller.rateLimit).consume(caller.name)
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
