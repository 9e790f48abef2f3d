/**
 * Optional tracing: with the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, spans go out as OTLP over HTTP
 * (JSON) through `@effect/opentelemetry`; `OTEL_SERVICE_NAME` names the
 * service (default `rtcp-proxy`) and `OTEL_EXPORTER_OTLP_HEADERS`
 * (`k=v,k2=v2`) are sent with every export. Without an endpoint no span is
 * made at all (they cost CPU).
 *
 * Spans: the caller's request (`proxy.request`), the lookup cache
 * (`lookup.cache`), the shared batch (`lookup.batch`, with `ProfileLookup`'s
 * `ProfileClient.getProfiles`), the upstream calls (`upstream.forward`,
 * `upstream.events`, and each HTTP attempt).
 *
 * Our trace context never goes to Adobe: the upstream client has trace
 * propagation off (upstream.ts), so no `traceparent` or `b3` header leaves.
 */
import { OtlpSerialization, OtlpTracer } from "@effect/opentelemetry"
import type { HttpClient } from "@effect/platform"
import { Layer } from "effect"

export interface TracingOptions {
  /** The OTLP/HTTP traces URL, e.g. `http://collector:4318/v1/traces`. */
  readonly url: string
  readonly serviceName?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** How often spans are sent (default 5 s). */
  readonly exportInterval?: string | undefined
}

/** OTLP over HTTP; `httpClient` carries the exports (never the upstream's guarded client). */
export const layer = (options: TracingOptions, httpClient: Layer.Layer<HttpClient.HttpClient>): Layer.Layer<never> =>
  OtlpTracer.layer({
    url: options.url,
    resource: { serviceName: options.serviceName ?? "rtcp-proxy" },
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    exportInterval: (options.exportInterval ?? "5 seconds") as "5 seconds"
  }).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(httpClient))

/** The options from the standard OpenTelemetry variables, or undefined when no endpoint is set. */
export const optionsFromEnv = (env: Readonly<Record<string, string | undefined>> = process.env): TracingOptions | undefined => {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT
  const url = traces !== undefined && traces !== "" ? traces : base !== undefined && base !== "" ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined
  if (url === undefined) return undefined
  const headers: Record<string, string> = {}
  for (const pair of (env.OTEL_EXPORTER_OTLP_HEADERS ?? "").split(",")) {
    const at = pair.indexOf("=")
    if (at > 0) headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim())
  }
  return { url, serviceName: env.OTEL_SERVICE_NAME, headers }
}

export const layerFromEnv = (httpClient: Layer.Layer<HttpClient.HttpClient>, env?: Readonly<Record<string, string | undefined>>): Layer.Layer<never> | undefined => {
  const options = optionsFromEnv(env)
  return options === undefined ? undefined : layer(options, httpClient)
}
