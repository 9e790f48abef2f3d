/**
 * Every failure leaves the service as AEP's error body with its status:
 * tagged errors carry their own body; a request that does not match the
 * contract (bad JSON, a missing parameter, a wrong type) becomes a 400 whose
 * detail says what to fix, instead of the framework's own shape.
 */
import { HttpApiBuilder, HttpApiError, HttpServerError, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { ProfileError } from "@rtcp/core"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { toAep } from "./storeErrors.js"

export const badRequest = (detail: string) =>
  new ProfileError.BadRequest({
    status: 400,
    message: detail,
    body: { type: "https://ns.adobe.com/aep/errors/RTCP-400", title: "Bad request", status: 400, detail }
  })

const withRequestId = (body: unknown, requestId: string) =>
  typeof body === "object" && body !== null && !Array.isArray(body) && !("error_code" in body) && !("statusCode" in body)
    ? { ...body, requestId: (body as any).requestId ?? requestId }
    : body

export const render = (failure: unknown, requestId: string): HttpServerResponse.HttpServerResponse | undefined => {
  // A store error that reached here unmapped still answers as AEP would.
  const error = toAep(failure)
  if (ProfileError.isProfileError(error)) {
    const body = error.body ?? { title: error.message, status: error.status }
    const problem = typeof body === "object" && body !== null && "type" in body && "title" in body
    return HttpServerResponse.unsafeJson(withRequestId(body, requestId), {
      status: error.status,
      contentType: problem ? "application/problem+json" : "application/json",
      headers: {
        "x-request-id": requestId,
        ...(error._tag === "RateLimited" && error.retryAfter
          ? { "retry-after": String(Math.ceil(Number(error.retryAfter.value ?? 0) / 1000) || 1) }
          : {})
      }
    })
  }
  if (error instanceof HttpApiError.HttpApiDecodeError) {
    const detail = error.issues.length > 0
      ? error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join(".") + ": " : ""}${issue.message}`).join("; ")
      : error.message
    return HttpServerResponse.unsafeJson(
      { type: "https://ns.adobe.com/aep/errors/RTCP-400", title: "Invalid request", status: 400, detail, requestId },
      { status: 400, contentType: "application/problem+json", headers: { "x-request-id": requestId } }
    )
  }
  if (error instanceof HttpServerError.RequestError) {
    // The body could not be read as the contract's encoding (bad JSON, bad form).
    const detail = `the request body could not be read: ${error.description ?? error.reason}`.replace(/: undefined$/, "")
    return HttpServerResponse.unsafeJson(
      { type: "https://ns.adobe.com/aep/errors/RTCP-400", title: "Invalid request body", status: 400, detail, requestId },
      { status: 400, contentType: "application/problem+json", headers: { "x-request-id": requestId } }
    )
  }
  return undefined
}

/** Upper bound of a JSON request body on the Profile API. */
export const MAX_JSON_BYTES = 10 * 1024 * 1024

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i

/**
 * What the gateway refuses before any handler runs: a body call without a
 * JSON content type (the troubleshooting guide's exact body), and a body over
 * the size limit. Edge projection paths check their vendor media types
 * themselves (415).
 */
const refuse = (request: HttpServerRequest.HttpServerRequest, path: string): ProfileError.BadRequest | undefined => {
  if (!path.startsWith("/data/core/") || !["POST", "PUT", "PATCH"].includes(request.method)) return undefined
  const length = Number(request.headers["content-length"] ?? "0")
  if (length > MAX_JSON_BYTES) {
    const detail = `the request body has ${length} bytes; the limit is ${MAX_JSON_BYTES}`
    return new ProfileError.BadRequest({
      status: 413,
      message: detail,
      body: { type: "https://ns.adobe.com/aep/errors/RTCP-413", title: "Payload too large", status: 413, detail }
    })
  }
  if (/\/config\/(projections|destinations)(\/|$)/.test(path)) return undefined
  const hasBody = length > 0 || request.headers["transfer-encoding"] !== undefined
  if (hasBody && !JSON_TYPE.test(request.headers["content-type"] ?? "")) {
    return new ProfileError.BadRequest({
      status: 400,
      message: "A valid content-type must be specified",
      body: { type: "/placeholder/type/uri", status: 400, title: "BadRequestError", detail: "A valid content-type must be specified" }
    })
  }
  return undefined
}

/** Strips trailing slashes (clients send `/export/jobs/`), refuses bad bodies early, and renders errors. */
export const ErrorsLive = HttpApiBuilder.middleware((app) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const [path, query] = request.url.split("?", 2) as [string, string | undefined]
    const refused = refuse(request, path)
    if (refused) return render(refused, request.headers["x-request-id"] || randomUUID())!
    const normalized = path.length > 1 && path.endsWith("/") ? path.replace(/\/+$/, "") + (query === undefined ? "" : `?${query}`) : request.url
    const requestId = request.headers["x-request-id"] || randomUUID()
    const routed = normalized === request.url ? app : Effect.provideService(app, HttpServerRequest.HttpServerRequest, request.modify({ url: normalized }))
    return yield* routed.pipe(
      Effect.catchAll((error) => {
        const response = render(error, requestId)
        return response === undefined ? Effect.fail(error) : Effect.succeed(response)
      }),
      // HttpApiBuilder reads a JSON body with `orDie`: unreadable JSON arrives as a defect.
      Effect.catchAllDefect((defect) => {
        const response = render(defect, requestId)
        return response === undefined ? Effect.die(defect) : Effect.succeed(response)
      }),
      Effect.map((response) =>
        response.headers["x-request-id"] === undefined ? HttpServerResponse.setHeader(response, "x-request-id", requestId) : response
      )
    )
  })
).pipe(Layer.orDie)
