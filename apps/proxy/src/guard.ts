/**
 * The one place every call to Platform passes (an `HttpClient` around the
 * platform's): per attempt, in this order,
 *
 * 1. the upstream gate: while an endpoint is held (a 429 with `Retry-After`
 *    seen by any replica), the call waits until then, or, when the caller's
 *    deadline comes first, is answered by the proxy with that 429 at once;
 * 2. the circuit breaker: while open, the proxy answers 503 itself;
 * 3. the upstream budget: the caller's fair share of calls per second (or
 *    a wait for the next window, within the deadline);
 * 4. the call itself; its outcome feeds the breaker, and a 429 closes the
 *    gate for every replica.
 *
 * The proxy's own answers (marked `x-rtcp-proxy-hold`) are transient
 * statuses, so the core's retry treats them as it treats Adobe's, and they
 * never count as the upstream's failures. IMS calls go straight through.
 */
import { Headers, HttpClient, type HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Retry } from "@rtcp/core"
import { Clock, Effect, Exit, FiberRef, Layer, Option } from "effect"
import type { CircuitBreaker } from "./breaker.js"
import type { ProxyMetrics } from "./metrics.js"
import type { SharedState } from "./shared.js"

/** Who the current upstream call is for (the budget's fairness); lookups shared between callers have their own name. */
export const currentCaller: FiberRef.FiberRef<string> = FiberRef.unsafeMake("shared-lookups")

export const HOLD_HEADER = "x-rtcp-proxy-hold"

export interface GuardOptions {
  readonly shared: SharedState
  readonly breaker: CircuitBreaker
  readonly metrics: ProxyMetrics
  /** The contract endpoint of a URL (metric labels and gate classes). */
  readonly endpointOf: (url: string) => string
  readonly platformUrl: string
}

const held = (request: HttpClientRequest.HttpClientRequest, status: number, reason: string, retryAfterMs: number, detail: string) =>
  HttpClientResponse.fromWeb(
    request,
    new Response(JSON.stringify({ type: `/rtcp/proxy/errors/${reason}`, title: detail, status, retryAfterMs: String(retryAfterMs) }), {
      status,
      headers: {
        "content-type": "application/problem+json",
        "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
        [HOLD_HEADER]: reason
      }
    })
  )

const retryAfterMsOf = (response: HttpClientResponse.HttpClientResponse, now: number): number => {
  const value = Option.getOrUndefined(Headers.get(response.headers, "retry-after"))
  if (value === undefined) return 1000
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? 1000 : Math.max(0, date - now)
}

export const guarded = (options: GuardOptions) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      HttpClient.transform(client, (effect, request) => {
        if (!request.url.startsWith(options.platformUrl) || request.url.startsWith(`${options.platformUrl}/ims/`)) return effect
        const endpoint = options.endpointOf(request.url)
        const { breaker, metrics, shared } = options
        return Effect.gen(function* () {
          const deadline = yield* Retry.CurrentDeadline
          // 1. the gate
          const until = shared.gateOf(endpoint)
          let now = yield* Clock.currentTimeMillis
          if (until > now) {
            metrics.upstreamHeld.inc({ reason: "gate" })
            if (deadline !== undefined && until >= deadline) {
              return held(request, 429, "upstream-gate", until - now, "Platform asked every replica to wait (429 with Retry-After)")
            }
            yield* Effect.sleep(until - now)
          }
          // 2. the breaker
          const admitted = breaker.admit()
          if (!admitted.ok) {
            metrics.upstreamHeld.inc({ reason: "circuit-open" })
            return held(request, 503, "circuit-open", admitted.retryAfterMs, "the upstream is failing; the proxy's circuit breaker is open")
          }
          // 3. the budget
          const caller = yield* FiberRef.get(currentCaller)
          for (;;) {
            const grant = yield* Effect.promise(() => shared.takeBudget(caller))
            if (grant.ok) break
            now = yield* Clock.currentTimeMillis
            metrics.upstreamHeld.inc({ reason: "budget" })
            if (deadline !== undefined && now + grant.waitMs >= deadline) {
              if (admitted.probe) breaker.record(false, true)
              return held(request, 429, "upstream-budget", grant.waitMs, `caller "${caller}" used its share of the upstream budget`)
            }
            yield* Effect.sleep(grant.waitMs)
          }
          // 4. the call
          const exit = yield* Effect.exit(effect)
          const failed = Exit.isFailure(exit) ? !Exit.isInterrupted(exit) : exit.value.status >= 500
          if (Exit.isFailure(exit) && Exit.isInterrupted(exit)) {
            if (admitted.probe) breaker.record(false, true)
          } else {
            breaker.record(failed, admitted.probe)
          }
          if (Exit.isSuccess(exit) && exit.value.status === 429) {
            const at = yield* Clock.currentTimeMillis
            shared.closeGate(endpoint, at + retryAfterMsOf(exit.value, at))
          }
          return yield* exit
        })
      })
    )
  )
