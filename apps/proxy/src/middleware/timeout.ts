/**
 * Request timeout with cancellation. Unlike `hono/timeout`, which only
 * stops waiting, this aborts the signal routes run their upstream work
 * with, so the fiber (and its HTTP call) is interrupted. The same signal
 * aborts when the client disconnects.
 */
import type { MiddlewareHandler } from "hono"
import type { ProxyEnv } from "../env.js"
import { ProxyError } from "../errors.js"

export interface TimeoutOptions {
  /** Milliseconds (default 30 s). */
  readonly ms?: number
}

export const timeout = ({ ms = 30_000 }: TimeoutOptions = {}): MiddlewareHandler<ProxyEnv> =>
  async function timeout(c, next) {
    const controller = new AbortController()
    const client = c.req.raw.signal
    const onClientGone = () => controller.abort(client.reason)
    if (client.aborted) controller.abort(client.reason)
    else client.addEventListener("abort", onClientGone, { once: true })
    c.set("signal", controller.signal)
    let timer: ReturnType<typeof setTimeout> | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new ProxyError(504, "timeout", "Gateway Timeout", `no answer within ${ms} ms; the upstream call was cancelled`)
        // The reason tells app.onError that the route was cut short by the timeout, not by the client.
        controller.abort(error)
        reject(error)
      }, ms)
    })
    try {
      await Promise.race([next(), expired])
    } finally {
      clearTimeout(timer)
      client.removeEventListener("abort", onClientGone)
    }
  }
