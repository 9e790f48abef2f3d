/**
 * Request metrics: count and latency by matched route (never the raw
 * path), method, status and caller; requests in flight.
 */
import type { MiddlewareHandler } from "hono"
import { type ProxyEnv, routeLabel } from "../env.js"
import type { ProxyMetrics } from "../metrics.js"

export interface MetricsOptions {
  readonly metrics: ProxyMetrics
}

export const metrics = ({ metrics: m }: MetricsOptions): MiddlewareHandler<ProxyEnv> =>
  async function metrics(c, next) {
    m.inFlight.inc()
    const started = performance.now()
    try {
      await next()
    } finally {
      m.inFlight.dec()
      const route = routeLabel(c)
      m.requests.inc({ route, method: c.req.method, status: String(c.res.status), caller: c.get("caller")?.name ?? "anonymous" })
      m.requestDuration.observe({ route, method: c.req.method }, (performance.now() - started) / 1000)
    }
  }
