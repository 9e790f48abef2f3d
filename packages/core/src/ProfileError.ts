/**
 * Tagged errors of the Profile API.
 *
 * Every failure a caller can see is one of these, so `Effect.catchTag` covers
 * all of them. Each carries AEP's own error body (whatever shape the gateway or
 * the service chose: legacy `error_code`, UPS context error, problem+json, or
 * the 429 array) and the `x-request-id` of the request that failed, which is
 * what Adobe support asks for.
 *
 * @since 0.1.0
 */
import { HttpApiSchema } from "@effect/platform"
import { Duration, Option, Predicate, Schema } from "effect"

const fields = {
  /** HTTP status of the answer; 0 when no answer arrived. */
  status: Schema.Number,
  message: Schema.String,
  /** AEP's error body as it was sent (JSON), if any. */
  body: Schema.optional(Schema.Unknown),
  /** The `x-request-id` of the failed request (or the body's `requestId`). */
  requestId: Schema.optional(Schema.String)
}

/** 400, and other client mistakes with no tag of their own (409, 413, 415). */
export class BadRequest extends Schema.TaggedError<BadRequest>("@rtcp/core/BadRequest")("BadRequest", fields) {}

/** 401: missing, invalid or expired token. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>("@rtcp/core/Unauthorized")("Unauthorized", fields) {}

/** 403: wrong API key, org not provisioned, or no permission. */
export class Forbidden extends Schema.TaggedError<Forbidden>("@rtcp/core/Forbidden")("Forbidden", fields) {}

/** 404: no such resource, or no data for that identity. */
export class NotFound extends Schema.TaggedError<NotFound>("@rtcp/core/NotFound")("NotFound", fields) {}

/** 422 "Too many related identities": the identity graph links more than 50 identities. */
export class TooManyRelatedIdentities extends Schema.TaggedError<TooManyRelatedIdentities>(
  "@rtcp/core/TooManyRelatedIdentities"
)("TooManyRelatedIdentities", fields) {}

/** Any other 422: valid syntax that the API cannot process (no default merge policy, invalid job payload…). */
export class Unprocessable extends Schema.TaggedError<Unprocessable>("@rtcp/core/Unprocessable")(
  "Unprocessable",
  fields
) {}

/** 429: the credential is over its quota. `retryAfter` is the server's hint, when it gave one. */
export class RateLimited extends Schema.TaggedError<RateLimited>("@rtcp/core/RateLimited")("RateLimited", {
  ...fields,
  retryAfter: Schema.optional(Schema.DurationFromMillis)
}) {}

/** 5xx. `retryAfter` is set when a 503 carried `Retry-After`. */
export class ServerError extends Schema.TaggedError<ServerError>("@rtcp/core/ServerError")("ServerError", {
  ...fields,
  retryAfter: Schema.optional(Schema.DurationFromMillis)
}) {}

/** No answer: connection refused or reset, DNS failure, timeout before the status line. */
export class TransportError extends Schema.TaggedError<TransportError>("@rtcp/core/TransportError")(
  "TransportError",
  fields
) {}

/** An answer arrived whose body does not match the contract. */
export class ResponseDecodeError extends Schema.TaggedError<ResponseDecodeError>("@rtcp/core/ResponseDecodeError")(
  "ResponseDecodeError",
  fields
) {}

export type ProfileError =
  | BadRequest
  | Unauthorized
  | Forbidden
  | NotFound
  | TooManyRelatedIdentities
  | Unprocessable
  | RateLimited
  | ServerError
  | TransportError
  | ResponseDecodeError

const tags = new Set([
  "BadRequest",
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "TooManyRelatedIdentities",
  "Unprocessable",
  "RateLimited",
  "ServerError",
  "TransportError",
  "ResponseDecodeError"
])

export const isProfileError = (u: unknown): u is ProfileError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag) && Predicate.hasProperty(u, "status")

/** Errors worth another attempt: the request may succeed unchanged later. */
export const isTransient = (error: ProfileError): boolean => {
  switch (error._tag) {
    case "TransportError":
    case "RateLimited":
      return true
    case "ServerError":
      return error.status === 500 || error.status === 502 || error.status === 503 || error.status === 504
    case "BadRequest":
      return error.status === 408
    default:
      return false
  }
}

// ---------------------------------------------------------------------------
// Reading AEP's error bodies
// ---------------------------------------------------------------------------

const firstString = (...values: ReadonlyArray<unknown>): string | undefined => {
  for (const value of values) {
    if (typeof value === "string" && value.length > 0) return value
  }
  return undefined
}

/** The most useful human sentence of any AEP error body shape. */
export const detailOf = (body: unknown): string | undefined => {
  const item = Array.isArray(body) ? body[0] : body
  if (!Predicate.isRecord(item)) return typeof item === "string" && item.length > 0 ? item : undefined
  const nested = Predicate.isRecord(item.error) ? item.error : undefined
  return firstString(
    item.detail,
    item.message,
    item.title,
    item.error_description,
    nested?.message,
    typeof item.error === "string" ? item.error : undefined
  )
}

const requestIdOf = (body: unknown): string | undefined => {
  const item = Array.isArray(body) ? body[0] : body
  return Predicate.isRecord(item) ? firstString(item.requestId, item["x-request-id"]) : undefined
}

/**
 * AEP's 429 body is an array whose first item carries `retryAfterMs` as a
 * string ("500"); be liberal and take a number too.
 */
export const retryAfterFromBody = (body: unknown): Duration.Duration | undefined => {
  const item = Array.isArray(body) ? body[0] : body
  if (!Predicate.isRecord(item)) return undefined
  const raw = item.retryAfterMs
  const ms = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw) : NaN
  return Number.isFinite(ms) && ms >= 0 ? Duration.millis(ms) : undefined
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export const retryAfterFromHeader = (value: string | undefined, now: number): Duration.Duration | undefined => {
  if (value === undefined || value.trim() === "") return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return Duration.seconds(seconds)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Duration.millis(Math.max(0, date - now))
}

const TOO_MANY_IDENTITIES = /too many related identities/i

/**
 * Turns a non-2xx answer into its tagged error. Used by the HTTP layer (where
 * headers are visible) and by the wire schemas below (server side).
 */
export const fromResponse = (options: {
  readonly status: number
  readonly body: unknown
  readonly requestId?: string | undefined
  readonly retryAfter?: Duration.Duration | undefined
  readonly context?: string | undefined
}): ProfileError => {
  const { body, status } = options
  const detail = detailOf(body)
  const message = `${options.context ? options.context + ": " : ""}${status}${detail ? ` ${detail}` : ""}`
  const props = {
    status,
    message,
    ...(body === undefined ? {} : { body }),
    ...(Option.fromNullable(options.requestId ?? requestIdOf(body)).pipe(
      Option.match({ onNone: () => ({}), onSome: (requestId) => ({ requestId }) })
    ))
  }
  const retryAfter = options.retryAfter ?? (status === 429 ? retryAfterFromBody(body) : undefined)
  if (status === 400 || status === 405 || status === 408 || status === 409 || status === 413 || status === 415) {
    return new BadRequest(props)
  }
  if (status === 401) return new Unauthorized(props)
  if (status === 403) return new Forbidden(props)
  if (status === 404 || status === 410) return new NotFound(props)
  if (status === 422) {
    return detail !== undefined && TOO_MANY_IDENTITIES.test(detail)
      ? new TooManyRelatedIdentities(props)
      : new Unprocessable(props)
  }
  if (status === 429) return new RateLimited(retryAfter ? { ...props, retryAfter } : props)
  if (status >= 500) return new ServerError(retryAfter ? { ...props, retryAfter } : props)
  return new BadRequest(props)
}

// ---------------------------------------------------------------------------
// Wire schemas for the HttpApi contract
// ---------------------------------------------------------------------------

/**
 * AEP's error bodies come in several shapes (see the module comment); they are
 * kept as plain JSON so no detail is lost. The JSON Schema annotation documents
 * the shapes in the OpenAPI document.
 */
export const AepErrorBody = Schema.Unknown.annotations({
  identifier: "AepErrorBody",
  description:
    "AEP error body: problem+json {type,title,status,detail,requestId}, UPS {message,cause,statusCode}, " +
    "gateway {error_code,message}, or the 429 array [{message,cause,retryAfterMs,statusCode}]",
  jsonSchema: {
    oneOf: [
      {
        type: "object",
        properties: {
          type: { type: "string" },
          title: { type: "string" },
          status: { type: "integer" },
          detail: { type: "string" },
          requestId: { type: "string" }
        }
      },
      {
        type: "object",
        properties: { message: { type: "string" }, cause: { type: "string" }, statusCode: { type: "string" } }
      },
      { type: "object", properties: { error_code: { type: "string" }, message: { type: "string" } } },
      {
        type: "array",
        items: {
          type: "object",
          properties: { message: { type: "string" }, retryAfterMs: { type: "string" }, statusCode: { type: "string" } }
        }
      }
    ]
  }
})

/**
 * The wire form of an error: on the wire it is AEP's body; in a program it is
 * the tagged class. A server fails with the class and AEP's body goes out with
 * `status`; a decoder gets the class back from the body alone.
 */
const wire = <E extends ProfileError>(Class: Schema.Schema<E, any>, status: number) =>
  Schema.transform(AepErrorBody, Schema.typeSchema(Class), {
    strict: false,
    decode: (body) => fromResponse({ status, body }) as E,
    encode: (error) => (error.body === undefined ? { status: error.status, title: error.message } : error.body)
  }).annotations(HttpApiSchema.annotations({ status, description: `${status} with AEP's error body` }))

export const BadRequestWire = wire(BadRequest, 400)
export const UnsupportedMediaTypeWire = wire(BadRequest, 415)
export const UnauthorizedWire = wire(Unauthorized, 401)
export const ForbiddenWire = wire(Forbidden, 403)
export const NotFoundWire = wire(NotFound, 404)
export const TooManyRelatedIdentitiesWire = wire(TooManyRelatedIdentities, 422)
export const UnprocessableWire = wire(Unprocessable, 422)
export const RateLimitedWire = wire(RateLimited, 429)
export const ServerErrorWire = wire(ServerError, 500)
export const ServiceUnavailableWire = wire(ServerError, 503)
