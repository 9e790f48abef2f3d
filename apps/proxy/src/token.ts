/**
 * The proxy's hold on its Adobe access token, over the core's `AccessToken`.
 *
 * - Keeps serving while the token it has is still good: when a refresh
 *   fails (IMS down), the last token is used until Platform rejects it (a
 *   401 invalidates it); the core alone would fail every call from the
 *   moment it decides to refresh, while the token still has minutes to live.
 * - Says clearly when it has no usable token: a 503 whose problem body has
 *   type `…/token-unavailable` and the reason, instead of an opaque 5xx.
 * - Asks IMS once per attempt (the call's own retry policy spaces the
 *   attempts) and, after a failure, not again for `retryAfterFailure`, so
 *   an IMS outage does not turn every proxied request into an IMS call.
 */
import { AccessToken, ProfileError, Retry } from "@rtcp/core"
import { Clock, Context, Duration, Effect, Layer, Redacted } from "effect"
import { TOKEN_UNAVAILABLE } from "./errors.js"
import { scrubber } from "./scrub.js"

export type TokenState = "unknown" | "ok" | "stale" | "unavailable"

export interface TokenStatus {
  readonly state: TokenState
  /** Why the last refresh failed (no secret in it). */
  readonly lastError: string | undefined
}

export interface TokenGuardService {
  readonly status: () => TokenStatus
}

export class TokenGuard extends Context.Tag("@rtcp/proxy/TokenGuard")<TokenGuard, TokenGuardService>() {}

export interface GuardOptions {
  /** After a failed refresh, IMS is not asked again for this long (default 2 s). */
  readonly retryAfterFailure?: Duration.DurationInput | undefined
}

const describe = (error: ProfileError.ProfileError) =>
  error._tag === "TransportError"
    ? `IMS did not answer (${error.message})`
    : `IMS answered ${error.status}${ProfileError.detailOf(error.body) ? `: ${ProfileError.detailOf(error.body)}` : ""}`

/** Wraps the `AccessToken` it is given; provides the guarded `AccessToken` and its `TokenGuard`. */
export const layer = (
  options: GuardOptions = {}
): Layer.Layer<AccessToken.AccessToken | TokenGuard, never, AccessToken.AccessToken> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const inner = yield* AccessToken.AccessToken
      const pause = Duration.toMillis(Duration.decode(options.retryAfterFailure ?? "2 seconds"))
      let last: Redacted.Redacted<string> | undefined
      let quietUntil = 0
      let state: TokenState = "unknown"
      let lastError: string | undefined

      const unavailable = (reason: string, retryAfterMs: number) =>
        new ProfileError.ServerError({
          status: 503,
          message: `no Adobe access token: ${reason}`,
          retryAfter: Duration.millis(retryAfterMs),
          body: {
            type: TOKEN_UNAVAILABLE,
            title: "Adobe access token unavailable",
            status: 503,
            detail:
              `The proxy holds no valid Adobe access token and could not get one: ${reason}. ` +
              "Requests to Adobe fail until IMS answers again."
          }
        })

      const get: Effect.Effect<Redacted.Redacted<string>, ProfileError.ProfileError> = Effect.flatMap(
        Clock.currentTimeMillis,
        (now) => {
          if (now < quietUntil) {
            return last !== undefined
              ? Effect.succeed(last)
              : Effect.fail(unavailable(lastError ?? "IMS failed", quietUntil - now))
          }
          return inner.get.pipe(
            // One IMS call per attempt: the retry policy of the call that needs the token spaces attempts.
            Effect.provideService(Retry.CurrentRetryPolicy, Retry.none),
            Effect.tap((token) =>
              Effect.sync(() => {
                // Nothing the proxy sends or logs may carry it.
                scrubber.add(Redacted.value(token))
                last = token
                state = "ok"
                lastError = undefined
                quietUntil = 0
              })
            ),
            Effect.catchAll((error) =>
              Effect.suspend(() => {
                lastError = describe(error)
                quietUntil = now + pause
                if (last !== undefined) {
                  state = "stale"
                  return Effect.logWarning("token refresh failed; using the current token while Platform accepts it").pipe(
                    Effect.annotateLogs({ reason: lastError }),
                    Effect.as(last)
                  )
                }
                state = "unavailable"
                return Effect.fail(unavailable(lastError, pause))
              })
            )
          )
        }
      )

      const invalidate = (token: Redacted.Redacted<string>) =>
        Effect.suspend(() => {
          if (last !== undefined && Redacted.value(last) === Redacted.value(token)) {
            last = undefined
            quietUntil = 0
          }
          return inner.invalidate(token)
        })

      return Context.make(AccessToken.AccessToken, AccessToken.AccessToken.of({ get, invalidate })).pipe(
        Context.add(TokenGuard, { status: () => ({ state, lastError }) })
      )
    })
  )
