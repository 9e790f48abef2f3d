/**
 * The retry policy: which failures are tried again, how often, and how long
 * to wait. It is a value the caller replaces with `Effect.provideService` or
 * a layer; the default suits AEP's documented quotas.
 *
 * Backoff is exponential with full jitter (a uniform wait between zero and
 * the capped exponential), which spreads a burst of clients instead of
 * synchronising them. A server hint (`Retry-After`, or `retryAfterMs` in
 * AEP's 429 body) is a floor: we never come back sooner than asked.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Metric, Random } from "effect"
import { isTransient, type ProfileError } from "./ProfileError.js"

export interface RetryPolicy {
  /** Attempts in all, the first included; 1 disables retries. */
  readonly maxAttempts: number
  /** Upper bound of the first backoff window. */
  readonly baseDelay: Duration.DurationInput
  /** Cap of any backoff window. */
  readonly maxDelay: Duration.DurationInput
  /** A server asking for a longer wait than this is not retried: the error goes to the caller. */
  readonly maxRetryAfter: Duration.DurationInput
}

export const defaultPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelay: "200 millis",
  maxDelay: "20 seconds",
  maxRetryAfter: "60 seconds"
}

/** No retries at all, for callers that retry on their own. */
export const none: RetryPolicy = { ...defaultPolicy, maxAttempts: 1 }

export class CurrentRetryPolicy extends Context.Reference<CurrentRetryPolicy>()("@rtcp/core/RetryPolicy", {
  defaultValue: () => defaultPolicy
}) {}

export const retries = Metric.counter("rtcp_upstream_retries_total", {
  description: "Upstream requests attempted again after a transient failure"
})

/**
 * Only calls that can be repeated without a second effect are retried:
 * reads, PUT and DELETE, and the POSTs that only read (`/access/entities`,
 * merge policy `bulk-get`) or mint a token.
 */
export const isIdempotent = (method: string, url: string): boolean => {
  switch (method.toUpperCase()) {
    case "GET":
    case "HEAD":
    case "OPTIONS":
    case "PUT":
    case "DELETE":
      return true
    case "POST": {
      const path = url.replace(/^[a-z]+:\/\/[^/]+/i, "").split("?")[0]!.replace(/\/+$/, "")
      return (
        path.endsWith("/data/core/ups/access/entities") ||
        path.endsWith("/config/mergePolicies/bulk-get") ||
        path.endsWith("/ims/token/v3")
      )
    }
    default:
      return false
  }
}

/** The wait before attempt `attempt + 1`, given the failure of attempt `attempt` (1-based). */
export const delayFor = (policy: RetryPolicy, attempt: number, error: ProfileError): Effect.Effect<Duration.Duration> =>
  Effect.map(Random.next, (random) => {
    const window = Math.min(
      Duration.toMillis(policy.maxDelay),
      Duration.toMillis(policy.baseDelay) * Math.pow(2, attempt - 1)
    )
    const jittered = Duration.millis(Math.floor(random * window))
    const hint = "retryAfter" in error ? error.retryAfter : undefined
    return hint === undefined ? jittered : Duration.max(hint, jittered)
  })

/**
 * Runs `attempt` again while it fails transiently, within the policy.
 * `attempt` must be a fresh request each time (new token, new request id).
 */
export const retrying = <A, R>(
  attempt: Effect.Effect<A, ProfileError, R>,
  policy: RetryPolicy
): Effect.Effect<A, ProfileError, R> => {
  const loop = (n: number): Effect.Effect<A, ProfileError, R> =>
    Effect.catchAll(attempt, (error) => {
      if (n >= policy.maxAttempts || !isTransient(error)) return Effect.fail(error)
      const hint = "retryAfter" in error ? error.retryAfter : undefined
      if (hint !== undefined && Duration.greaterThan(hint, Duration.decode(policy.maxRetryAfter))) {
        return Effect.fail(error)
      }
      return delayFor(policy, n, error).pipe(
        Effect.tap((delay) =>
          Effect.logDebug("retrying upstream call").pipe(
            Effect.annotateLogs({ attempt: n + 1, status: error.status, delayMs: Duration.toMillis(delay) })
          )
        ),
        Effect.flatMap(Effect.sleep),
        Effect.zipRight(Metric.increment(retries)),
        Effect.zipRight(loop(n + 1))
      )
    })
  return loop(1)
}
