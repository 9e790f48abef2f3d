/**
 * Every failure leaves the service as AEP's error body with its status:
 * tagged errors carry their own body; a request that does not match the
 * contract (bad JSON, a missing parameter, a wrong type) becomes a 400 whose
 * detail says what to fix, instead of the framework's own shape.
 */
import {
  HttpApiBuilder,
  HttpApiError,
  HttpIncomingMessage,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse,
  Multipart
} from "@effect/platform"
import { ProfileError } from "@rtcp/core"
import { Effect, Layer, Option, Stream } from "effect"
import { randomUUID } from "node:crypto"
import { RequestInspector } from "../RequestInspector.js"
import { jsonDepth, MAX_JSON_DEPTH, normalizePath } from "./requestBody.js"
import { toAep } from "./storeErrors.js"
import { whenTooLarge } from "./unreadBody.js"

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
  if (error instanceof Multipart.MultipartError) {
    return HttpServerResponse.unsafeJson(
      { type: "https://ns.adobe.com/aep/errors/RTCP-400", title: "Invalid request body", status: 400, detail: `the multipart body could not be read (${error.reason})`, requestId },
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
/** Bodies that are never JSON, so their nesting is not counted. */
const NOT_JSON_TYPE = /^(?:application\/x-www-form-urlencoded|text\/plain)\b/i
/** Batch files are NDJSON up to their own limit; their records are checked one by one by ingestion. */
const BATCH_FILE = /^\/data\/foundation\/import\/batches\/[^/]+\/datasets\/[^/]+\/files\//

const tooLarge = (detail: string) =>
  new ProfileError.BadRequest({
    status: 413,
    message: detail,
    body: { type: "https://ns.adobe.com/aep/errors/RTCP-413", title: "Payload too large", status: 413, detail }
  })

const tooDeep = (depth: number) => {
  const detail = `the request body nests arrays and objects ${depth} levels deep; the limit is ${MAX_JSON_DEPTH}`
  return new ProfileError.BadRequest({
    status: 400,
    message: detail,
    body: { type: "https://ns.adobe.com/aep/errors/RTCP-400", title: "Request body nested too deeply", status: 400, detail }
  })
}

/**
 * What the gateway refuses before any handler runs: a body call without a
 * JSON content type (the troubleshooting guide's exact body), and a body over
 * the size limit. Edge projection paths check their vendor media types
 * themselves (415).
 */
const refuse = (request: HttpServerRequest.HttpServerRequest, path: string): ProfileError.BadRequest | undefined => {
  if (!["POST", "PUT", "PATCH"].includes(request.method)) return undefined
  const length = Number(request.headers["content-length"] ?? "0")
  // Answered from the header alone: the body is never read (reading it past
  // the limit would have to drop the connection, and the client would see a
  // reset instead of this 413).
  if (length > MAX_JSON_BYTES && !BATCH_FILE.test(path)) return tooLarge(`the request body has ${length} bytes; the limit is ${MAX_JSON_BYTES}`)
  if (!path.startsWith("/data/core/")) return undefined
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

/**
 * Reads the body once (the request caches it for the handler) within the
 * size limit, and refuses JSON nested deeper than recursive code can take,
 * before anything decodes or logs it.
 */
const checkBody = (request: HttpServerRequest.HttpServerRequest, path: string) =>
  Effect.gen(function* () {
    if (!["POST", "PUT", "PATCH"].includes(request.method) || BATCH_FILE.test(path)) return undefined
    const type = request.headers["content-type"] ?? ""
    if (/^multipart\//i.test(type)) {
      // No endpoint takes multipart (the Profile API is JSON, IMS a form), and
      // the multipart parser throws outside its stream on a bad boundary and
      // waits forever on an empty body: it never sees one.
      const detail = "multipart bodies are not accepted: send application/json (application/x-www-form-urlencoded to /ims/token/v3)"
      return new ProfileError.BadRequest({
        status: 415,
        message: detail,
        body: { type: "https://ns.adobe.com/aep/errors/RTCP-415", title: "Unsupported media type", status: 415, detail }
      })
    }
    const text = yield* request.text.pipe(
      HttpIncomingMessage.withMaxBodySize(Option.some(MAX_JSON_BYTES)),
      Effect.either
    )
    if (text._tag === "Left") {
      const cause = text.left.cause
      return cause instanceof Error && cause.message === "maxBytes exceeded"
        ? tooLarge(`the request body has more than ${MAX_JSON_BYTES} bytes, the limit`)
        : undefined
    }
    if (NOT_JSON_TYPE.test(type)) return undefined
    const depth = jsonDepth(text.right, MAX_JSON_DEPTH)
    return depth > MAX_JSON_DEPTH ? tooDeep(depth) : undefined
  })

/**
 * The request with its body readable again after `checkBody` read it: the
 * request caches `text` (and what is built on it: `json`, `urlParamsBody`),
 * but HttpApiBuilder reads any other media type (`+json` vendor types,
 * `application/octet-stream`, none) as `arrayBuffer`, from a stream that is
 * already drained, and would wait forever.
 */
const replayable = (request: HttpServerRequest.HttpServerRequest, path: string): HttpServerRequest.HttpServerRequest => {
  if (!["POST", "PUT", "PATCH"].includes(request.method) || BATCH_FILE.test(path) || /^multipart\//i.test(request.headers["content-type"] ?? "")) {
    return request
  }
  const bytes = Effect.map(Effect.orElseSucceed(request.text, () => ""), (text) => new TextEncoder().encode(text))
  return Object.create(request, {
    arrayBuffer: { get: () => Effect.map(bytes, (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer) },
    stream: { get: () => Stream.fromEffect(bytes) }
  }) as HttpServerRequest.HttpServerRequest
}

const bodyText = (response: HttpServerResponse.HttpServerResponse): string | null =>
  response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : null

/**
 * What the inspector keeps of a request body: the text handlers read, never
 * a batch file, nor a body refused for its size (it was drained unread, and
 * reading it again would wait for a stream that has ended, holding the 413).
 */
const requestBody = (request: HttpServerRequest.HttpServerRequest, path: string, status: number | undefined) =>
  !["POST", "PUT", "PATCH"].includes(request.method)
    ? Effect.succeed(null)
    : status === 413
      ? Effect.succeed(`[body of ${request.headers["content-length"] ?? "?"} bytes, refused for its size, not kept]`)
      : BATCH_FILE.test(path)
      ? Effect.succeed(`[batch file of ${request.headers["content-length"] ?? "?"} bytes, not kept]`)
      : /^multipart\//i.test(request.headers["content-type"] ?? "")
        ? Effect.succeed("[multipart body, not kept]")
        : Effect.orElseSucceed(request.text, () => null)

/**
 * Normalises the path (so every check below sees what the router routes),
 * refuses bad bodies early, renders errors, and shows each exchange to the
 * request inspector when there is one (`--admin`).
 */
export const ErrorsLive = HttpApiBuilder.middleware(
  Effect.map(Effect.serviceOption(RequestInspector), (inspector) => (app) =>
    Effect.gen(function* () {
      const original = yield* HttpServerRequest.HttpServerRequest
      const started = Date.now()
      const requestId = original.headers["x-request-id"] || randomUUID()
      const [rawPath, query] = original.url.split("?", 2) as [string, string | undefined]
      const path = normalizePath(rawPath)
      const url = path + (query === undefined ? "" : `?${query}`)
      const request = url === original.url ? original : original.modify({ url })
      const refused = refuse(request, path) ?? (yield* checkBody(request, path))
      const routed = Effect.provideService(app, HttpServerRequest.HttpServerRequest, replayable(request, path))
      const answer = refused
        ? // A 413 leaves the body unread: it is drained first so the client reads the answer (see unreadBody.ts).
          whenTooLarge(request, render(refused, requestId)!)
        : routed.pipe(
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
            ),
            Effect.flatMap((response) => whenTooLarge(request, response))
          )
      if (Option.isNone(inspector) || path.startsWith("/rtcp/admin/")) return yield* answer
      return yield* answer.pipe(
        Effect.onExit((exit) =>
          Effect.gen(function* () {
            const response = exit._tag === "Success" ? exit.value : undefined
            yield* inspector.value.record({
              at: started,
              method: request.method,
              path,
              query: query ?? "",
              status: response?.status ?? 500,
              latencyMs: Date.now() - started,
              requestId,
              sandbox: request.headers["x-sandbox-name"] || null,
              request: { headers: request.headers, body: yield* requestBody(request, path, response?.status) },
              response: {
                headers: response === undefined
                  ? {}
                  : { ...response.headers, ...(response.body.contentType ? { "content-type": response.body.contentType } : {}) },
                body: response === undefined ? null : bodyText(response)
              }
            })
          })
        )
      )
    })
  )
).pipe(Layer.orDie)
