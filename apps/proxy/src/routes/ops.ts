/**
 * Operations endpoints, served on their own listener (`--ops-port`) so
 * they can stay internal: liveness, readiness (token and upstream), Prometheus
 * metrics and the OpenAPI document. They take no key.
 */
import { Hono } from "hono"
import type { ProxyMetrics } from "../metrics.js"
import { openApiDocument } from "../openapi.js"
import { scrubber } from "../scrub.js"
import type { Upstream } from "../upstream.js"

export interface OpsRoutesOptions {
  readonly upstream: Upstream
  readonly metrics: ProxyMetrics
  /** False while shutting down: readiness then fails so load balancers stop sending. */
  readonly accepting?: () => boolean
}

export const opsRoutes = ({ accepting = () => true, metrics, upstream }: OpsRoutesOptions) => {
  const app = new Hono()
  const document = JSON.stringify(openApiDocument())
  app.get("/healthz", (c) => c.json({ status: "ok" }))
  app.get("/readyz", async (c) => {
    if (!accepting()) return c.json({ ready: false, detail: "shutting down" }, 503)
    const readiness = await upstream.readiness()
    // Degraded (Redis away, circuit open) is still ready: requests are answered.
    return c.body(scrubber.text(JSON.stringify(readiness)), readiness.ready ? 200 : 503, { "content-type": "application/json" })
  })
  app.get("/metrics", async (c) => {
    const health = upstream.shared.health()
    if (health.kind === "redis") metrics.sharedStateUp.set(health.ok ? 1 : 0)
    return c.body(await metrics.render(), 200, { "content-type": metrics.registry.contentType })
  }
  )
  app.get("/openapi.json", (c) => c.body(document, 200, { "content-type": "application/json" }))
  return app
}
