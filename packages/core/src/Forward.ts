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
import { Headers, HttpClient, HttpClientRequest } from "@effect/platform"
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
  /**
   * The first attempt, already made by the caller with a cheaper client of
   * its own (the proxy's undici pool) and the token it got from
   * `AccessToken`: the 401 refresh and the retry decision start from it as
   * if this function had made it. Only worth handing over when that answer
   * may need one of them; any other answer the caller keeps.
   */
  readonly first?: FirstAttempt | undefined
}

/** What the caller's own first attempt got: an answer (its body read) or none. */
export type FirstAttempt =
  | {
    readonly _tag: "Answer"
    readonly status: number
    readonly headers: Headers.Headers
    readonly body: Uint8Array
    readonly requestId: string
    readonly bearer: Redacted.Redacted<string>
  }
  | { readonly _tag: "NoAnswer"; readonly message: string; readonly requestId: string }

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

/** What an attempt got: the platform client's response, or the caller's first answer. */
interface Answer {
  readonly status: number
  readonly headers: Headers.Headers
  readonly stream: Stream.Stream<Uint8Array, { readonly message: string }>
}

const drain = (response: Answer) =>
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
        Effect.map((response): { readonly response: Answer; readonly requestId: string } => ({ response, requestId })),
        Effect.mapError(
          (error) => new ProfileError.TransportError({ status: 0, message: `${route}: no answer (${error.message})`, requestId })
        )
      )
    }

    const given = (first: FirstAttempt): Effect.Effect<{ readonly bearer: Redacted.Redacted<string>; readonly first: { readonly response: Answer; readonly requestId: string } }, ProfileError.ProfileError> =>
      first._tag === "NoAnswer"
        ? Effect.fail(new ProfileError.TransportError({ status: 0, message: `${route}: no answer (${first.message})`, requestId: first.requestId }))
        : Effect.succeed({
          bearer: first.bearer,
          first: { response: { status: first.status, headers: first.headers, stream: Stream.make(first.body) }, requestId: first.requestId }
        })

    const attempt = (n: number) => Effect.gen(function* () {
      const { bearer, first } = n === 1 && request.first !== undefined
        ? yield* given(request.first)
        : yield* Effect.flatMap(token.get, (bearer) => Effect.map(send(bearer), (first) => ({ bearer, first })))
      if (first.response.status !== 401) return first
      // The token expired early or was revoked: once more with a fresh one.
      if (!(yield* token.invalidate(bearer))) return first
      yield* drain(first.response)
      return yield* send(yield* token.get)
    })

    const loop = (n: number): Effect.Effect<ForwardResponse, ProfileError.ProfileError> =>
      Effect.gen(function* () {
        const result = yield* Effect.either(attempt(n))
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
