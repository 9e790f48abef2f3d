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
import { Clock, Context, Duration, Effect, Metric, Random } from "effect"
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

/**
 * The wait before attempt `attempt + 1`, given the failure of attempt
 * `attempt` (1-based): the server's `Retry-After` when it sent one, else a
 * jittered exponential backoff.
 */
export const delayFor = (policy: RetryPolicy, attempt: number, error: ProfileError): Effect.Effect<Duration.Duration> =>
  Effect.map(Random.next, (random) => {
    const window = Math.min(
      Duration.toMillis(policy.maxDelay),
      Duration.toMillis(policy.baseDelay) * Math.pow(2, attempt - 1)
    )
    const jittered = Duration.millis(Math.floor(random * window))
    const hint = "retryAfter" in error ? error.retryAfter : undefined
    // The server's own wait when it gives one. Backoff on top of it only delayed the retries of a storm
    // of 429s with `Retry-After: 1` (the sixth wait could be 6.4 s) until callers' deadlines had passed.
    return hint === undefined ? jittered : hint
  })

/**
 * The moment (epoch ms) by which the caller needs an answer, if it has one.
 * With a deadline, retries are not counted: a transient failure is tried
 * again (never sooner than the server's `Retry-After`) for as long as the
 * wait still ends before the deadline. Without one, `maxAttempts` rules.
 */
export class CurrentDeadline extends Context.Reference<CurrentDeadline>()("@rtcp/core/Deadline", {
  defaultValue: (): number | undefined => undefined
}) {}

/** Runs `effect` with a deadline `within` from now. */
export const withDeadline =
  (within: Duration.DurationInput) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.provideService(effect, CurrentDeadline, now + Duration.toMillis(Duration.decode(within)))
    )

/**
 * The wait before attempt `attempt + 1` after `error`, or none when the
 * failure is not transient or the policy (attempts, or the deadline) says stop.
 */
export const nextDelay = (
  policy: RetryPolicy,
  attempt: number,
  error: ProfileError
): Effect.Effect<Duration.Duration | undefined> =>
  Effect.gen(function* () {
    if (!isTransient(error)) return undefined
    const deadline = yield* CurrentDeadline
    const hint = "retryAfter" in error ? error.retryAfter : undefined
    if (deadline === undefined) {
      if (attempt >= policy.maxAttempts) return undefined
      if (hint !== undefined && Duration.greaterThan(hint, Duration.decode(policy.maxRetryAfter))) return undefined
      return yield* delayFor(policy, attempt, error)
    }
    const delay = yield* delayFor(policy, attempt, error)
    const now = yield* Clock.currentTimeMillis
    return now + Duration.toMillis(delay) < deadline ? delay : undefined
  })

/**
 * Runs `attempt` again while it fails transiently, within the policy (or the
 * caller's deadline, see `CurrentDeadline`).
 * `attempt` must be a fresh request each time (new token, new request id).
 */
export const retrying = <A, R>(
  attempt: Effect.Effect<A, ProfileError, R>,
  policy: RetryPolicy
): Effect.Effect<A, ProfileError, R> => {
  const loop = (n: number): Effect.Effect<A, ProfileError, R> =>
    Effect.catchAll(attempt, (error) =>
      Effect.flatMap(nextDelay(policy, n, error), (delay) =>
        delay === undefined ? Effect.fail(error) : Effect.zipRight(pause(n, error.status, delay), loop(n + 1))
      )
    )
  return loop(1)
}

/** Logs, sleeps and counts one retry. */
export const pause = (attempt: number, status: number, delay: Duration.Duration): Effect.Effect<void> =>
  Effect.logDebug("retrying upstream call").pipe(
    Effect.annotateLogs({ attempt: attempt + 1, status, delayMs: Duration.toMillis(delay) }),
    Effect.zipRight(Effect.sleep(delay)),
    Effect.zipRight(Metric.increment(retries))
  )
