/**
 * Pass-through: an AEP request as it came (method, path and query, headers,
 * body) sent to Platform with the credential's headers, and the answer
 * returned as a value: status, headers and a streamed body. This is what a
 * gateway (the proxy) composes instead of re-implementing the client.
 *
 * - The token: taken from `AccessToken` per attempt; a 401 invalidates it
 *   and the attempt is made once more with a fresh one.
 * - Retries: only for requests that can be repeated (`Retry.isIdempotent`)
 *   and only on the core's transient failures (`ProfileError.isTransient`),
 *   spaced by the policy and never sooner than `Retry-After`; with a caller
 *   deadline (`Retry.CurrentDeadline`) for as long as it allows.
 * - Non-2xx answers are not errors here: when retries stop, the last answer
 *   is returned as Adobe sent it. Only "no answer at all" fails (with a
 *   `TransportError`), or a token that cannot be had.
 * - Request bodies are bytes (kept for the retries); answer bodies stream.
 *
 * Platform-neutral: the `HttpClient` is the application's.
 *
 * @since 0.1.0
 */
import { Headers, HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Clock, Effect, Option, Redacted, Stream } from "effect"
import * as AccessToken from "./AccessToken.js"
import { Platform, sandboxNow } from "./Platform.js"
import * as ProfileError from "./ProfileError.js"
import * as Retry from "./Retry.js"

export interface ForwardRequest {
  readonly method: string
  /** Path and query string as sent to Platform: `/data/core/ups/…?…`. */
  readonly pathAndQuery: string
  /** Headers to send besides the credential's (which always win). */
  readonly headers: Readonly<Record<string, string>>
  readonly body?: Uint8Array | undefined
}

export interface ForwardResponse {
  readonly status: number
  readonly headers: Headers.Headers
  /** Read it once; an answer nobody reads should be drained with `discard`. */
  readonly body: Stream.Stream<Uint8Array, ProfileError.ProfileError>
  /** The `x-request-id` sent on the attempt that got this answer. */
  readonly requestId: string
  /** Attempts made, this one included. */
  readonly attempts: number
}

/** The error a non-2xx answer stands for (body not read): what decides a retry. */
export const errorOf = (
  response: { readonly status: number; readonly headers: Headers.Headers },
  now: number,
  context?: string
): ProfileError.ProfileError =>
  ProfileError.fromResponse({
    status: response.status,
    body: undefined,
    context,
    retryAfter: ProfileError.retryAfterFromHeader(Option.getOrUndefined(Headers.get(response.headers, "retry-after")), now)
  })

const drain = (response: HttpClientResponse.HttpClientResponse) =>
  Stream.runDrain(response.stream).pipe(Effect.ignore)

/** Sends `request` through `client` as `token` on `settings`, as described above. */
export const forward = (
  request: ForwardRequest
): Effect.Effect<ForwardResponse, ProfileError.ProfileError, HttpClient.HttpClient | AccessToken.AccessToken | Platform> =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const token = yield* AccessToken.AccessToken
    const settings = yield* Platform
    const sandbox = yield* sandboxNow
    const policy = yield* Retry.CurrentRetryPolicy
    const url = settings.platformUrl + request.pathAndQuery
    const route = `${request.method} ${request.pathAndQuery.split("?", 1)[0]}`
    const repeatable = Retry.isIdempotent(request.method, url)

    const send = (bearer: Redacted.Redacted<string>) => {
      const requestId = crypto.randomUUID()
      let outgoing = HttpClientRequest.make(request.method as "GET")(url).pipe(
        HttpClientRequest.setHeaders({
          ...request.headers,
          authorization: `Bearer ${Redacted.value(bearer)}`,
          "x-api-key": settings.apiKey,
          "x-gw-ims-org-id": settings.orgId,
          "x-sandbox-name": sandbox,
          "x-request-id": requestId
        })
      )
      if (request.body !== undefined) {
        outgoing = HttpClientRequest.bodyUint8Array(outgoing, request.body, request.headers["content-type"])
      }
      return client.execute(outgoing).pipe(
        Effect.map((response) => ({ response, requestId })),
        Effect.mapError(
          (error) => new ProfileError.TransportError({ status: 0, message: `${route}: no answer (${error.message})`, requestId })
        )
      )
    }

    const attempt = Effect.gen(function* () {
      const bearer = yield* token.get
      const first = yield* send(bearer)
      if (first.response.status !== 401) return first
      // The token expired early or was revoked: once more with a fresh one.
      if (!(yield* token.invalidate(bearer))) return first
      yield* drain(first.response)
      return yield* send(yield* token.get)
    })

    const loop = (n: number): Effect.Effect<ForwardResponse, ProfileError.ProfileError> =>
      Effect.gen(function* () {
        const result = yield* Effect.either(attempt)
        const failure =
          result._tag === "Left"
            ? result.left
            : result.right.response.status >= 400
              ? errorOf(result.right.response, yield* Clock.currentTimeMillis, route)
              : undefined
        const delay = failure !== undefined && repeatable ? yield* Retry.nextDelay(policy, n, failure) : undefined
        if (delay === undefined) {
          if (result._tag === "Left") return yield* Effect.fail(result.left)
          const { requestId, response } = result.right
          return {
            status: response.status,
            headers: response.headers,
            body: Stream.mapError(
              response.stream,
              (error) => new ProfileError.TransportError({ status: response.status, message: `${route}: answer cut short (${error.message})`, requestId })
            ),
            requestId,
            attempts: n
          }
        }
        if (result._tag === "Right") yield* drain(result.right.response)
        yield* Retry.pause(n, failure!.status, delay)
        return yield* loop(n + 1)
      })

    return yield* loop(1)
  }).pipe(Effect.withSpan("ProfileClient.forward"))
