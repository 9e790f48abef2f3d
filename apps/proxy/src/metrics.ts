/**
 * Prometheus metrics: the proxy's own (prom-client, one registry per proxy
 * instance) and the core's (Effect `Metric`s: retries, token refreshes,
 * batch sizes), rendered together on `GET /metrics`.
 *
 * Labels are bounded: routes are route patterns, never raw paths; callers
 * are key names from the key file; upstream endpoints are the contract's
 * path templates.
 */
import { AccessToken, ProfileLookup, Retry } from "@rtcp/core"
import { Effect, Metric, MetricKeyType, MetricState, Option } from "effect"
import * as Prom from "prom-client"
import { scrubber } from "./scrub.js"

export interface ProxyMetrics {
  readonly registry: Prom.Registry
  readonly requests: Prom.Counter<"route" | "method" | "status" | "caller">
  readonly requestDuration: Prom.Histogram<"route" | "method">
  readonly inFlight: Prom.Gauge
  readonly upstreamRequests: Prom.Counter<"endpoint" | "method" | "status">
  readonly upstreamDuration: Prom.Histogram<"endpoint" | "method">
  readonly lookupCache: Prom.Counter<"result">
  readonly rateLimited: Prom.Counter<"caller">
  readonly authFailures: Prom.Counter<"reason">
  readonly upstreamHeld: Prom.Counter<"reason">
  /** 0 closed, 1 half-open, 2 open. */
  readonly circuitState: Prom.Gauge
  /** 1 when the shared state (Redis) answers, 0 when degraded; absent without Redis. */
  readonly sharedStateUp: Prom.Gauge
  /** Prometheus text of both registries. */
  readonly render: () => Promise<string>
}

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export const makeMetrics = (options: { readonly defaultMetrics?: boolean } = {}): ProxyMetrics => {
  registerCoreMetrics()
  const registry = new Prom.Registry()
  if (options.defaultMetrics === true) Prom.collectDefaultMetrics({ register: registry, prefix: "rtcp_proxy_" })
  const registers = [registry]
  const metrics = {
    registry,
    requests: new Prom.Counter({
      name: "rtcp_proxy_requests_total",
      help: "Requests answered, by matched route, method, status and caller",
      labelNames: ["route", "method", "status", "caller"] as const,
      registers
    }),
    requestDuration: new Prom.Histogram({
      name: "rtcp_proxy_request_duration_seconds",
      help: "Time from the request to the answer, by matched route",
      labelNames: ["route", "method"] as const,
      buckets: latencyBuckets,
      registers
    }),
    inFlight: new Prom.Gauge({ name: "rtcp_proxy_requests_in_flight", help: "Requests being answered", registers }),
    upstreamRequests: new Prom.Counter({
      name: "rtcp_proxy_upstream_requests_total",
      help: "HTTP calls to Platform and IMS (every attempt), by contract endpoint and status (0: no answer)",
      labelNames: ["endpoint", "method", "status"] as const,
      registers
    }),
    upstreamDuration: new Prom.Histogram({
      name: "rtcp_proxy_upstream_duration_seconds",
      help: "Latency of one upstream attempt, by contract endpoint",
      labelNames: ["endpoint", "method"] as const,
      buckets: latencyBuckets,
      registers
    }),
    lookupCache: new Prom.Counter({
      name: "rtcp_proxy_lookup_cache_total",
      help: "Profile lookups by cache result: hit (cached), shared (joined an identical lookup in flight), miss, stale (served stale while upstream failed)",
      labelNames: ["result"] as const,
      registers
    }),
    rateLimited: new Prom.Counter({
      name: "rtcp_proxy_rate_limited_total",
      help: "Requests refused with 429 by the per-caller rate limit",
      labelNames: ["caller"] as const,
      registers
    }),
    authFailures: new Prom.Counter({
      name: "rtcp_proxy_auth_failures_total",
      help: "Requests refused with 401, by reason (missing, invalid)",
      labelNames: ["reason"] as const,
      registers
    }),
    upstreamHeld: new Prom.Counter({
      name: "rtcp_proxy_upstream_held_total",
      help: "Upstream calls held or answered by the proxy: gate (Platform's Retry-After, shared), budget (upstream budget), circuit-open",
      labelNames: ["reason"] as const,
      registers
    }),
    circuitState: new Prom.Gauge({
      name: "rtcp_proxy_upstream_circuit_state",
      help: "The upstream circuit breaker: 0 closed, 1 half-open, 2 open",
      registers
    }),
    sharedStateUp: new Prom.Gauge({
      name: "rtcp_proxy_redis_up",
      help: "1 while Redis (the replicas' shared state) answers; 0 while degraded to per-replica state",
      registers
    })
  }
  return {
    ...metrics,
    // Labels are bounded names, but nothing leaves the proxy unscrubbed.
    render: async () => scrubber.text((await registry.metrics()) + renderEffectMetrics())
  }
}

/** Registers the core's metrics so they are exported (as 0) before their first update. */
export const registerCoreMetrics = (): void => {
  Effect.runSync(
    Effect.all([Metric.value(Retry.retries), Metric.value(AccessToken.refreshes), Metric.value(ProfileLookup.batchSizes)], { discard: true })
  )
}

// ---------------------------------------------------------------------------
// Effect metrics (the core's) in Prometheus' text format
// ---------------------------------------------------------------------------

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')

const labels = (pairs: ReadonlyArray<readonly [string, string]>) =>
  pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`

const number = (n: number) => (n === Infinity ? "+Inf" : n === -Infinity ? "-Inf" : String(n))

/** The core's Effect metrics (global registry), as Prometheus text. */
export const renderEffectMetrics = (): string => {
  const byName = new Map<string, { type: string; help: string | undefined; lines: Array<string> }>()
  for (const pair of Metric.unsafeSnapshot()) {
    const key = pair.metricKey
    const name = key.name.replace(/[^a-zA-Z0-9_:]/g, "_")
    const tags = key.tags.map((tag) => [tag.key.replace(/[^a-zA-Z0-9_]/g, "_"), tag.value] as const)
    const state = pair.metricState
    const help = Option.getOrUndefined(key.description)
    if (MetricState.isCounterState(state)) {
      const entry = byName.get(name) ?? { type: "counter", help, lines: [] }
      entry.lines.push(`${name}${labels(tags)} ${number(Number(state.count))}`)
      byName.set(name, entry)
    } else if (MetricState.isGaugeState(state)) {
      const entry = byName.get(name) ?? { type: "gauge", help, lines: [] }
      entry.lines.push(`${name}${labels(tags)} ${number(Number(state.value))}`)
      byName.set(name, entry)
    } else if (MetricState.isHistogramState(state) && MetricKeyType.isHistogramKey(key.keyType)) {
      const entry = byName.get(name) ?? { type: "histogram", help, lines: [] }
      let sawInf = false
      for (const [le, count] of state.buckets) {
        if (le === Infinity) sawInf = true
        entry.lines.push(`${name}_bucket${labels([...tags, ["le", number(le)]])} ${count}`)
      }
      if (!sawInf) entry.lines.push(`${name}_bucket${labels([...tags, ["le", "+Inf"]])} ${state.count}`)
      entry.lines.push(`${name}_sum${labels(tags)} ${state.sum}`)
      entry.lines.push(`${name}_count${labels(tags)} ${state.count}`)
      byName.set(name, entry)
    }
  }
  let text = ""
  for (const [name, entry] of byName) {
    if (entry.help !== undefined) text += `# HELP ${name} ${entry.help.replace(/\n/g, " ")}\n`
    text += `# TYPE ${name} ${entry.type}\n${entry.lines.join("\n")}\n`
  }
  return text
}
