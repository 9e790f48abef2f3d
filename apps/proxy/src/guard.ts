/**
 * The one place every call to Platform passes (an `HttpClient` around the
 * platform's): per attempt, in this order,
 *
 * 1. the upstream gate: while an endpoint is held (a 429 with `Retry-After`
 *    seen by any replica), the call waits until then, or, when the caller's
 *    deadline comes first, is answered by the proxy with that 429 at once.
 *    One call at a time goes as a probe (at most one per 100 ms): the first
 *    answer that is not a 429 opens the gate everywhere. Waiting out each
 *    429's `Retry-After` in turn, a storm of N consecutive 429s lasted N
 *    seconds when few calls were held (a batch holds many callers), longer
 *    than callers' deadlines;
 * 2. the circuit breaker: while open, the proxy answers 503 itself;
 * 3. the upstream budget: the caller's fair share of calls per second (or
 *    a wait for the next window, within the deadline);
 * 4. the call itself; its outcome feeds the breaker, and a 429 closes the
 *    gate for every replica. A read that gets a 429 goes back to the gate
 *    and is sent again (a fresh request id) while its deadline allows.
 *
 * The proxy's own answers (marked `x-rtcp-proxy-hold`) are transient
 * statuses, so the core's retry treats them as it treats Adobe's, and they
 * never count as the upstream's failures. IMS calls go straight through.
 */
import { Headers, HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Retry } from "@rtcp/core"
import { Clock, Effect, Exit, FiberRef, Layer, Option, Stream } from "effect"
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

export const retryAfterMsOf = (response: { readonly headers: Headers.Headers }, now: number): number => {
  const value = Option.getOrUndefined(Headers.get(response.headers, "retry-after"))
  if (value === undefined) return 1000
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? 1000 : Math.max(0, date - now)
}

/** While a gate is closed, how often (at most, per replica and endpoint) one call may go as a probe. */
export const PROBE_SPACING_MS = 100
/** How often a call held at a closed gate looks again (a probe may have opened it). */
const HOLD_POLL_MS = 25

export const guarded = (options: GuardOptions) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) => {
      // Per endpoint: whether a probe is out, and when the last one went.
      const probes = new Map<string, { out: boolean; at: number }>()
      return HttpClient.transform(client, (effect, request) => {
        if (!request.url.startsWith(options.platformUrl) || request.url.startsWith(`${options.platformUrl}/ims/`)) return effect
        const endpoint = options.endpointOf(request.url)
        const { breaker, metrics, shared } = options
        // A 429 is waited out here, at the gate, for the requests the core would send again anyway.
        const repeatable = Retry.isIdempotent(request.method, request.url)
        return Effect.gen(function* () {
          const deadline = yield* Retry.CurrentDeadline
          let send = effect
          let counted = false
          for (;;) {
            // 1. the gate: held until Retry-After, or until a probe (one at a time) finds the limit lifted
            let probing = false
            let now = yield* Clock.currentTimeMillis
            for (;;) {
              const until = shared.gateOf(endpoint)
              if (until <= now) break
              const probe = probes.get(endpoint) ?? { out: false, at: 0 }
              // Only a call with a deadline probes (in the proxy, every call: --timeout sets one); one without can wait.
              if (deadline !== undefined && !probe.out && now - probe.at >= PROBE_SPACING_MS) {
                probes.set(endpoint, { out: true, at: now })
                probing = true
                break
              }
              if (!counted) metrics.upstreamHeld.inc({ reason: "gate" })
              counted = true
              if (deadline !== undefined && until >= deadline) {
                return held(request, 429, "upstream-gate", until - now, "Platform asked every replica to wait (429 with Retry-After)")
              }
              yield* Effect.sleep(Math.min(until - now, HOLD_POLL_MS))
              now = yield* Clock.currentTimeMillis
            }
            const releaseProbe = () => {
              if (probing) probes.set(endpoint, { out: false, at: probes.get(endpoint)?.at ?? 0 })
            }
            // 2. the breaker
            const admitted = breaker.admit()
            if (!admitted.ok) {
              releaseProbe()
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
                releaseProbe()
                if (admitted.probe) breaker.record(false, true)
                return held(request, 429, "upstream-budget", grant.waitMs, `caller "${caller}" used its share of the upstream budget`)
              }
              yield* Effect.sleep(grant.waitMs)
            }
            // 4. the call
            const exit = yield* Effect.exit(send).pipe(Effect.ensuring(Effect.sync(releaseProbe)))
            const failed = Exit.isFailure(exit) ? !Exit.isInterrupted(exit) : exit.value.status >= 500
            if (Exit.isFailure(exit) && Exit.isInterrupted(exit)) {
              if (admitted.probe) breaker.record(false, true)
            } else {
              breaker.record(failed, admitted.probe)
            }
            if (Exit.isSuccess(exit) && exit.value.status === 429) {
              const at = yield* Clock.currentTimeMillis
              const until = at + retryAfterMsOf(exit.value, at)
              shared.closeGate(endpoint, until)
              // Waited out at the gate while the caller's deadline allows (a probe may open it sooner);
              // else the 429 goes back to the core, whose retry decides as before.
              if (repeatable && deadline !== undefined && until < deadline) {
                yield* Stream.runDrain(exit.value.stream).pipe(Effect.ignore)
                send = client.execute(HttpClientRequest.setHeader(request, "x-request-id", crypto.randomUUID()))
                continue
              }
            } else if (Exit.isSuccess(exit) && shared.gateOf(endpoint) > 0) {
              // Anything but a 429 means the limit has lifted: nobody needs to wait any more.
              shared.openGate(endpoint)
            }
            return yield* exit
          }
        })
      })
    })
  )
