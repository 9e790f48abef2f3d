/**
 * Operations endpoints, served on their own listener (`--ops-port`) so
 * they can stay internal: liveness, readiness (token and upstream), Prometheus
 * metrics and the OpenAPI document. They take no key.
 */
import { Hono } from "hono"
import type { ProxyMetrics } from "../metrics.js"
import { openApiDocument } from "../openapi.js"
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
    return c.json(readiness, readiness.ready ? 200 : 503)
  })
  app.get("/metrics", async (c) =>
    c.body(await metrics.render(), 200, { "content-type": metrics.registry.contentType })
  )
  app.get("/openapi.json", (c) => c.body(document, 200, { "content-type": "application/json" }))
  return app
}
