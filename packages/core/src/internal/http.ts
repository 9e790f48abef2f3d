import { Headers, HttpClient, HttpClientError, type HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Clock, Effect, FiberRef, Option, ParseResult } from "effect"
import * as ProfileError from "../ProfileError.js"
import { CurrentRetryPolicy, isIdempotent, retrying } from "../Retry.js"
import { ClientRateLimiter } from "../RateLimit.js"

/**
 * The `x-request-id` of the last attempt made by this fiber, so an answer
 * that fails to decode (after the response is gone) still names its request.
 */
export const lastRequestId: FiberRef.FiberRef<string | undefined> = FiberRef.unsafeMake<string | undefined>(undefined)

const describe = (request: HttpClientRequest.HttpClientRequest) => {
  const url = request.url.replace(/^[a-z]+:\/\/[^/]+/i, "")
  return `${request.method} ${url}`
}

const readBody = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<unknown> =>
  response.text.pipe(
    Effect.map((text) => {
      if (text.trim() === "") return undefined
      try {
        return JSON.parse(text) as unknown
      } catch {
        return text
      }
    }),
    Effect.orElseSucceed(() => undefined)
  )

/**
 * Non-2xx answers become tagged errors here, where the response headers
 * (`Retry-After`, `x-request-id`) are still visible. HttpApiClient's own error
 * decoding only sees the body, and an undeclared status would surface as an
 * untyped `ResponseError`.
 */
export const mapErrorResponses = <E, R>(
  client: HttpClient.HttpClient.With<E, R>
): HttpClient.HttpClient.With<ProfileError.ProfileError, R> =>
  HttpClient.transform(client as HttpClient.HttpClient.With<unknown, R>, (effect, request) =>
    Effect.flatMap(
      Effect.mapError(effect, (error) => toTransportError(error, request)),
      (response) =>
        response.status < 400
          ? Effect.succeed(response)
          : Effect.flatMap(Effect.zip(readBody(response), Clock.currentTimeMillis), ([body, now]) =>
              Effect.fail(
                ProfileError.fromResponse({
                  status: response.status,
                  body,
                  context: describe(request),
                  requestId: Option.getOrUndefined(Headers.get(request.headers, "x-request-id")),
                  retryAfter: ProfileError.retryAfterFromHeader(
                    Option.getOrUndefined(Headers.get(response.headers, "retry-after")),
                    now
                  )
                })
              )
            )
    )
  ) as HttpClient.HttpClient.With<ProfileError.ProfileError, R>

const toTransportError = (error: unknown, request: HttpClientRequest.HttpClientRequest): ProfileError.ProfileError => {
  if (ProfileError.isProfileError(error)) return error
  const requestId = Option.getOrUndefined(Headers.get(request.headers, "x-request-id"))
  const reason = HttpClientError.isHttpClientError(error) ? error.message : String(error)
  return new ProfileError.TransportError({
    status: 0,
    message: `${describe(request)}: no answer (${reason})`,
    ...(requestId ? { requestId } : {})
  })
}

export interface PreparedRequest {
  readonly request: HttpClientRequest.HttpClientRequest
  /** Run when the answer is 401; the one attempt more is made only when it answers true (a new token can be had). */
  readonly onUnauthorized?: Effect.Effect<boolean> | undefined
}

/**
 * Each attempt is prepared anew (`prepare` adds the token and a fresh request
 * id), so a retry after a 401 or a 503 carries the current token. The
 * optional rate limiter is charged per attempt because every attempt counts
 * against the quota.
 */
export const withAttempts = <R, R2 = never>(
  single: HttpClient.HttpClient.With<ProfileError.ProfileError, R>,
  prepare?: (
    request: HttpClientRequest.HttpClientRequest
  ) => Effect.Effect<PreparedRequest, ProfileError.ProfileError, R2>
): HttpClient.HttpClient.With<ProfileError.ProfileError, R | R2> =>
  HttpClient.makeWith(
    (requestEffect: Effect.Effect<HttpClientRequest.HttpClientRequest, ProfileError.ProfileError, R | R2>) =>
      Effect.flatMap(requestEffect, (original) =>
        Effect.gen(function* () {
          const limiter = yield* Effect.serviceOption(ClientRateLimiter)
          const send = (request: HttpClientRequest.HttpClientRequest) =>
            Option.match(limiter, {
              onNone: () => single.execute(request),
              onSome: (limit) => limit(single.execute(request))
            })
          const once: Effect.Effect<HttpClientResponse.HttpClientResponse, ProfileError.ProfileError, R | R2> =
            prepare === undefined
              ? send(original)
              : Effect.flatMap(prepare(original), (prepared) =>
                  prepared.onUnauthorized === undefined
                    ? send(prepared.request)
                    : // A 401 usually means the cached token expired early or was
                      // revoked: drop it and try once more with a fresh one.
                      Effect.catchTag(send(prepared.request), "Unauthorized", (unauthorized) =>
                        Effect.flatMap(prepared.onUnauthorized!, (refreshable) =>
                          refreshable
                            ? Effect.flatMap(prepare(original), (again) => send(again.request))
                            : Effect.fail(unauthorized)
                        )
                      )
                )
          const policy = yield* CurrentRetryPolicy
          return yield* isIdempotent(original.method, original.url) ? retrying(once, policy) : once
        })
      ),
    Effect.succeed
  ) as HttpClient.HttpClient.With<ProfileError.ProfileError, R | R2>

/**
 * Any failure of a contract call as a `ProfileError`: ours pass through, a
 * body that does not match the contract (or a 2xx status it does not
 * declare) is a `ResponseDecodeError`, anything else a `TransportError`.
 */
export const normalizeError = (error: unknown, sentRequestId?: string): ProfileError.ProfileError => {
  if (ProfileError.isProfileError(error)) return error
  if (ParseResult.isParseError(error)) {
    return new ProfileError.ResponseDecodeError({
      status: 200,
      message: `answer does not match the contract: ${error.message}`,
      ...(sentRequestId ? { requestId: sentRequestId } : {})
    })
  }
  if (HttpClientError.isHttpClientError(error) && error._tag === "ResponseError") {
    const requestId = Option.getOrUndefined(Headers.get(error.request.headers, "x-request-id"))
    return new ProfileError.ResponseDecodeError({
      status: error.response.status,
      message: `${describe(error.request)}: unexpected answer ${error.response.status}`,
      ...(requestId ? { requestId } : {})
    })
  }
  return new ProfileError.TransportError({ status: 0, message: error instanceof Error ? error.message : String(error) })
}
