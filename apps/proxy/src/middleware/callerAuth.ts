/**
 * Caller authentication: the caller's own proxy key, sent as `x-api-key`
 * or `Authorization: Bearer <key>` (what an AEP client sends as its token).
 * The key is checked against the key file's hashes; the caller it belongs
 * to (name, sandboxes, access, rate limit) is set for what follows.
 * Neither header ever goes upstream (see routes/aep.ts).
 */
import type { Context, MiddlewareHandler } from "hono"
import type { ProxyEnv } from "../env.js"
import { ProxyError } from "../errors.js"
import type { KeyStore } from "../keys.js"
import type { ProxyMetrics } from "../metrics.js"
import { scrubber } from "../scrub.js"

export interface CallerAuthOptions {
  readonly keys: KeyStore
  readonly metrics?: ProxyMetrics | undefined
  readonly realm?: string
  /** Requests that authenticate otherwise (the token endpoint checks the key in its body). */
  readonly skip?: (c: Context<ProxyEnv>) => boolean
}

const bearerOf = (header: string | undefined) => {
  if (header === undefined) return undefined
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  return match?.[1]
}

export const callerAuth = ({ keys, metrics, realm = "rtcp-proxy", skip }: CallerAuthOptions): MiddlewareHandler<ProxyEnv> =>
  async function callerAuth(c, next) {
    if (skip?.(c) === true) return next()
    const presented = [bearerOf(c.req.header("authorization")), c.req.header("x-api-key")].filter(
      (key): key is string => key !== undefined && key !== ""
    )
    const challenge = { "www-authenticate": `Bearer realm="${realm}"` }
    if (presented.length === 0) {
      metrics?.authFailures.inc({ reason: "missing" })
      throw new ProxyError(401, "unauthorized", "API key required", "Send your proxy key as x-api-key or Authorization: Bearer <key>.", challenge)
    }
    for (const key of presented) {
      const caller = keys.authenticate(key)
      if (caller !== undefined) {
        // A key that works is a secret: no answer or log line of the proxy may repeat it.
        scrubber.add(key)
        c.set("caller", caller)
        return next()
      }
    }
    metrics?.authFailures.inc({ reason: "invalid" })
    throw new ProxyError(401, "unauthorized", "API key not valid", "The key is unknown, disabled or rotated out.", challenge)
  }
