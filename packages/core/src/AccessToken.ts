/**
 * The access token sent as `Authorization: Bearer …`.
 *
 * Two layers: a static token (for scripts and tests), and OAuth
 * server-to-server (client credentials against IMS `/ims/token/v3`). The
 * OAuth token is cached until shortly before it expires; concurrent callers
 * wait for the one request in flight instead of each asking IMS; a 401 from
 * Platform invalidates the token it was sent with, so the next attempt
 * fetches a new one. Tokens and secrets are `Redacted` everywhere.
 *
 * @since 0.1.0
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, Context, Duration, Effect, Layer, Metric, Option, Redacted, SynchronizedRef } from "effect"
import { mapErrorResponses, normalizeError, withAttempts } from "./internal/http.js"
import { ProfileApi } from "./ProfileApi.js"
import type { Credentials } from "./AepConfig.js"
import type { ProfileError } from "./ProfileError.js"

export interface AccessTokenService {
  /** The current token, fetching one if none is cached or it is about to expire. */
  readonly get: Effect.Effect<Redacted.Redacted<string>, ProfileError>
  /**
   * Forget `token` (if it is still the cached one): Platform rejected it.
   * Answers whether another attempt can get a different token.
   */
  readonly invalidate: (token: Redacted.Redacted<string>) => Effect.Effect<boolean>
}

export class AccessToken extends Context.Tag("@rtcp/core/AccessToken")<AccessToken, AccessTokenService>() {}

export const refreshes = Metric.counter("rtcp_token_refreshes_total", {
  description: "Access tokens fetched from IMS"
})

/** A fixed token (`AEP_ACCESS_TOKEN`): never refreshed; a 401 goes to the caller. */
export const layerStatic = (token: Redacted.Redacted<string>): Layer.Layer<AccessToken> =>
  Layer.succeed(AccessToken, { get: Effect.succeed(token), invalidate: () => Effect.succeed(false) })

export interface OAuthOptions {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** Comma-separated scopes, as the Developer Console lists them. */
  readonly scopes?: string | undefined
  /** e.g. `https://ims-na1.adobelogin.com`. */
  readonly imsUrl: string
  /**
   * How long before `expires_in` a token is replaced. IMS tokens live 24 h
   * and Adobe's samples refresh 500 s early; short-lived tokens (local
   * services, tests) get a tenth of their life instead.
   */
  readonly refreshBefore?: Duration.DurationInput | undefined
}

interface Cached {
  readonly token: Redacted.Redacted<string>
  readonly refreshAt: number
}

/** OAuth server-to-server: `grant_type=client_credentials` against IMS. */
export const layerOAuth = (options: OAuthOptions): Layer.Layer<AccessToken, never, HttpClient.HttpClient> =>
  Layer.effect(
    AccessToken,
    Effect.gen(function* () {
      const base = yield* HttpClient.HttpClient
      const ims = withAttempts(
        mapErrorResponses(base.pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl(options.imsUrl))))
      )
      const client = yield* HttpApiClient.makeWith(ProfileApi, { httpClient: ims })
      const skewFor = (expiresIn: Duration.Duration) =>
        options.refreshBefore === undefined
          ? Duration.min(Duration.seconds(500), Duration.times(expiresIn, 0.1))
          : Duration.decode(options.refreshBefore)

      const fetchToken = Effect.gen(function* () {
        const answer = yield* client.ims.token({
          payload: {
            grant_type: "client_credentials",
            client_id: options.clientId,
            client_secret: options.clientSecret,
            ...(options.scopes ? { scope: options.scopes } : {})
          }
        })
        const now = yield* Clock.currentTimeMillis
        const expiresIn = Duration.seconds(answer.expires_in)
        yield* Metric.increment(refreshes)
        return {
          token: answer.access_token,
          refreshAt: now + Duration.toMillis(expiresIn) - Duration.toMillis(skewFor(expiresIn))
        } satisfies Cached
      }).pipe(
        Effect.mapError(normalizeError),
        Effect.withSpan("AccessToken.fetch")
      )

      const cache = yield* SynchronizedRef.make(Option.none<Cached>())
      // The SynchronizedRef serialises callers: while one fetch is in flight the
      // others wait on it and then read the token it stored.
      const get = SynchronizedRef.modifyEffect(cache, (current) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Option.isSome(current) && now < current.value.refreshAt
            ? Effect.succeed([current.value.token, current] as const)
            : Effect.map(fetchToken, (fresh) => [fresh.token, Option.some(fresh)] as const)
        )
      )
      const invalidate = (token: Redacted.Redacted<string>) =>
        SynchronizedRef.update(cache, (current) =>
          Option.isSome(current) && Redacted.value(current.value.token) === Redacted.value(token) ? Option.none() : current
        ).pipe(Effect.as(true))
      return AccessToken.of({ get, invalidate })
    })
  )

/** The auth layer of an `AEP_*` credential: a static token as is, an OAuth pair against `imsUrl`. */
export const layerCredentials = (
  credentials: Credentials,
  imsUrl: string
): Layer.Layer<AccessToken, never, HttpClient.HttpClient> =>
  credentials._tag === "Static"
    ? layerStatic(credentials.token)
    : layerOAuth({ clientId: credentials.clientId, clientSecret: credentials.clientSecret, scopes: credentials.scopes, imsUrl })
