/**
 * Every failure the proxy answers, in one place: the proxy's own refusals
 * (`ProxyError`, an `HTTPException`), the core's tagged `ProfileError`s from
 * upstream, and anything unexpected. `app.onError` calls `errorResponse`.
 *
 * Bodies:
 * - An upstream error on the AEP-compatible surface is passed through: AEP's
 *   own body with AEP's status, so an AEP client sees what Adobe sent.
 * - Everything else is problem+json (`type`, `title`, `status`, `detail`,
 *   `requestId`), the shape AEP's newest endpoints use; a 429 on the AEP
 *   surface is AEP's 429 array (with `retryAfterMs`), which AEP clients read.
 * - Statuses that would mislead a caller are translated: Adobe rejecting
 *   the *proxy's* token is a 502, not a 401 (the caller's key was fine); no
 *   answer from upstream is a 502, an unusable token endpoint a 503.
 */
import { ProfileError } from "@rtcp/core"
import { Duration } from "effect"
import type { Context } from "hono"
import { HTTPException } from "hono/http-exception"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import { scrubber, UnscrubbableEncoding } from "./scrub.js"

export const PROBLEM_TYPE_BASE = "/rtcp/proxy/errors/"

/** The type of the body the proxy sends when it cannot get an Adobe access token. */
export const TOKEN_UNAVAILABLE = `${PROBLEM_TYPE_BASE}token-unavailable`

export interface ProblemBody {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail?: string
  readonly requestId?: string
  readonly [key: string]: unknown
}

/** A refusal by the proxy itself (auth, scope, limits, timeouts, bad input). */
export class ProxyError extends HTTPException {
  override readonly name = "ProxyError"
  constructor(
    status: ContentfulStatusCode,
    /** Short slug for the problem type, e.g. `forbidden-sandbox`. */
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly headers: Readonly<Record<string, string>> = {}
  ) {
    super(status, { message: detail ?? title })
  }
}

/** The client went away; nobody will read the answer, but the audit line and metrics still count it. */
export class RequestAborted extends Error {
  override readonly name = "RequestAborted"
}

export const CLIENT_CLOSED = 499

/** Node's way of saying the client closed the connection while its request was being read. */
export const isClientAbort = (error: unknown): boolean =>
  error instanceof RequestAborted ||
  (error instanceof Error &&
    (error.message === "aborted" ||
      (error as { code?: unknown }).code === "ECONNRESET" ||
      (error as { code?: unknown }).code === "ERR_STREAM_PREMATURE_CLOSE" ||
      error.name === "AbortError"))

export type Surface = "aep" | "internal"

export const surfaceOf = (path: string): Surface => (path.startsWith("/data/core/") ? "aep" : "internal")

const problem = (status: number, slug: string, title: string, detail: string | undefined, requestId: string | undefined) => ({
  type: `${PROBLEM_TYPE_BASE}${slug}`,
  title,
  status,
  ...(detail === undefined ? {} : { detail }),
  ...(requestId === undefined ? {} : { requestId })
})

const retryAfterSeconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)))

/** AEP's 429 body: an array whose item carries `retryAfterMs` as a string. */
export const aepTooManyRequests = (detail: string, retryAfterMs: number) => [
  { message: "Too many requests", cause: detail, retryAfterMs: String(Math.max(0, Math.round(retryAfterMs))), statusCode: "429" }
]

export interface Rendered {
  readonly status: number
  readonly body: unknown
  readonly headers: Record<string, string>
  /** For the audit line. */
  readonly upstreamRequestId?: string | undefined
}

const json = (body: unknown): Record<string, string> => ({
  "content-type":
    body !== null && typeof body === "object" && !Array.isArray(body) && "type" in body && "title" in body
      ? "application/problem+json"
      : "application/json"
})

/** The status a caller sees for an upstream error. */
export const statusOf = (error: ProfileError.ProfileError): number => {
  if (isTokenUnavailable(error)) return 503
  switch (error._tag) {
    case "TransportError":
    case "ResponseDecodeError":
    case "Unauthorized":
      return 502
    default:
      return error.status >= 400 && error.status <= 599 ? error.status : 502
  }
}

export const isTokenUnavailable = (error: ProfileError.ProfileError): boolean =>
  error.body !== null && typeof error.body === "object" && (error.body as { type?: unknown }).type === TOKEN_UNAVAILABLE

const upstreamTitle = (error: ProfileError.ProfileError): string => {
  switch (error._tag) {
    case "TransportError":
      return "Upstream did not answer"
    case "ResponseDecodeError":
      return "Upstream answer does not match the Profile API contract"
    case "Unauthorized":
      return "Upstream rejected the proxy's credentials"
    default:
      return `Upstream answered ${error.status}`
  }
}

/** An upstream `ProfileError` as an HTTP answer on `surface`. */
export const renderProfileError = (error: ProfileError.ProfileError, surface: Surface, requestId: string): Rendered => {
  const status = statusOf(error)
  const headers: Record<string, string> = {}
  const retryAfter = "retryAfter" in error && error.retryAfter !== undefined ? Duration.toMillis(error.retryAfter) : undefined
  if (retryAfter !== undefined) headers["retry-after"] = retryAfterSeconds(retryAfter)
  if (error.requestId !== undefined) headers["x-upstream-request-id"] = error.requestId
  let body: unknown
  if (isTokenUnavailable(error)) {
    body = { ...(error.body as object), requestId }
  } else if (surface === "aep" && error.body !== undefined && status === error.status) {
    // AEP's own answer, unchanged.
    body = error.body
  } else if (surface === "aep" && status === 404) {
    // A lookup answered from the batch (no upstream body): UPS's 404 shape.
    body = { message: ProfileError.detailOf(error.body) ?? "no profile for this identity", statusCode: "404" }
  } else {
    body = {
      ...problem(status, status === 502 ? "bad-gateway" : `upstream-${status}`, upstreamTitle(error), ProfileError.detailOf(error.body) ?? error.message, requestId),
      ...(error.requestId === undefined ? {} : { upstreamRequestId: error.requestId }),
      ...(error.body === undefined || error._tag === "Unauthorized" ? {} : { upstreamError: error.body })
    }
  }
  return { status, body, headers: { ...json(body), ...headers }, upstreamRequestId: error.requestId }
}

/** A proxy refusal as an HTTP answer on `surface`. */
export const renderProxyError = (error: ProxyError, surface: Surface, requestId: string): Rendered => {
  const retryAfter = error.headers["retry-after"]
  const body =
    error.status === 429 && surface === "aep"
      ? aepTooManyRequests(error.detail ?? error.title, retryAfter === undefined ? 1000 : Number(retryAfter) * 1000)
      : problem(error.status, error.slug, error.title, error.detail, requestId)
  return { status: error.status, body, headers: { ...json(body), ...error.headers } }
}

/** What `app.onError` answers for `error`. */
export const render = (error: unknown, path: string, requestId: string): Rendered => {
  const surface = surfaceOf(path)
  if (error instanceof ProxyError) return renderProxyError(error, surface, requestId)
  if (ProfileError.isProfileError(error)) return renderProfileError(error, surface, requestId)
  if (isClientAbort(error)) {
    return { status: CLIENT_CLOSED, body: problem(CLIENT_CLOSED, "client-closed", "Client closed the request", undefined, requestId), headers: {} }
  }
  if (error instanceof UnscrubbableEncoding) {
    const body = problem(502, "bad-gateway", "Upstream answer refused", error.message, requestId)
    return { status: 502, body, headers: json(body) }
  }
  if (error instanceof HTTPException) {
    const status = error.status
    const slug = status === 413 ? "payload-too-large" : status === 400 ? "bad-request" : `status-${status}`
    const body = problem(status, slug, error.message || "Request refused", undefined, requestId)
    return { status, body, headers: json(body) }
  }
  const body = problem(500, "internal", "Internal proxy error", "see the proxy's log for this request id", requestId)
  return { status: 500, body, headers: json(body) }
}

/** Sends `rendered` on `c` (headers set earlier with `c.header` are kept), scrubbed of every secret. */
export const respond = (c: Context, rendered: Rendered): Response =>
  c.body(scrubber.text(JSON.stringify(rendered.body)), rendered.status as ContentfulStatusCode, scrubber.headers(rendered.headers))
