/**
 * The hot reads of the Profile API (`GET` and `POST /data/core/ups/access/entities`)
 * answered on Node's request event, in front of the HttpApi app.
 *
 * The HttpApi path spends most of a lookup's CPU outside the store: routing,
 * the middleware chain, decoding the query and encoding the answer through
 * the open XDM schemas. This route makes the same store calls
 * (`getEntities`/`postEntities` of http/entities.ts) and the same gateway
 * check (Gateway.check) in one Effect run on the service's runtime, and
 * writes the same bytes: the same error bodies (ErrorsLive's `render`), the
 * same headers, the same access-log line.
 *
 * It only answers what it can answer the same way. Anything else (a path or
 * query the schemas would reject or normalise, a body that is not plain
 * JSON, an error `render` does not know, a defect) is handed to the HttpApi
 * app untouched, a POST with its body replayed: the HttpApi path stays the
 * contract, and `test/leanRoute.test.ts` checks both give identical answers.
 *
 * @since 0.1.0
 */
import { HttpServerResponse } from "@effect/platform"
import { Entity, ProfileError } from "@rtcp/core"
import { DataVersion, Entities, Sandboxes } from "@rtcp/profile-store"
import { Effect, Exit, FiberRef, FiberRefs, Layer, List, LogLevel, LogSpan, Option, Runtime } from "effect"
import { randomUUID } from "node:crypto"
import { IncomingMessage, Server, type ServerResponse } from "node:http"
import { check } from "./Gateway.js"
import { getEntities, postEntities } from "./http/entities.js"
import { MAX_JSON_BYTES, render } from "./http/errors.js"
import { jsonDepth, MAX_JSON_DEPTH } from "./http/requestBody.js"
import { ImsTokens } from "./ImsTokens.js"
import type { LookupCache } from "./LookupCache.js"

const PATH = "/data/core/ups/access/entities"
/** What HttpApi decodes as JSON (it reads `+json` vendor types as bytes, so those are left to it). */
const JSON_TYPE = /^application\/json\s*(?:;|$)/i

/** Takes a request (true), possibly handing it to `fallback` later; false leaves it to the HttpApi app. */
export type LeanHandler = (request: IncomingMessage, response: ServerResponse, fallback: (request: IncomingMessage) => void) => boolean

const emit = Server.prototype.emit as (this: Server, event: string | symbol, ...args: Array<unknown>) => boolean

/**
 * A Node HTTP server whose request event is offered to the lean route first.
 * The route is installed once the service's layers are built (`layer`);
 * until then, and when it declines, requests go to the listener
 * `NodeHttpServer` registers, as on a plain server.
 */
export class LeanServer extends Server {
  lean: LeanHandler | undefined = undefined

  override emit(event: string | symbol, ...args: Array<any>): boolean {
    if (event === "request" && this.lean !== undefined) {
      const [request, response] = args as [IncomingMessage, ServerResponse]
      const handOver = (replayed: IncomingMessage) => {
        stats.handedOver++
        emit.call(this, "request", replayed, response)
      }
      if (this.lean(request, response, handOver)) return true
    }
    return emit.call(this, event, ...args)
  }
}

// --- query and body, decoded as the contract's schemas decode them, or not at all

const STRING_PARAMS = new Set([
  "schema.name",
  "entityId",
  "entityIdNS",
  "fields",
  "mergePolicyId",
  "relatedSchema.name",
  "relatedEntityId",
  "relatedEntityIdNS",
  "orderby",
  "start",
  "offsets"
])
const NUMBER_PARAMS = new Set(["startTime", "endTime", "limit"])
const INTEGER = /^-?\d{1,15}$/

/** `Entity.EntityQuery` decoded from the query string, or undefined where the schema might answer otherwise. */
export const decodeQuery = (search: string): Entity.EntityQuery | undefined => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of new URLSearchParams(search)) {
    if (key === "property") {
      const seen = out.property
      out.property = seen === undefined ? value : typeof seen === "string" ? [seen, value] : [...(seen as Array<string>), value]
      continue
    }
    if (key in out) return undefined
    if (STRING_PARAMS.has(key)) out[key] = value
    else if (NUMBER_PARAMS.has(key)) {
      if (!INTEGER.test(value)) return undefined
      out[key] = Number(value)
    } else if (key === "withCA") {
      if (value !== "true" && value !== "false") return undefined
      out[key] = value === "true"
    } else if (key === "__proto__") return undefined
    // Other parameters are ignored, as the schema ignores them.
  }
  return typeof out["schema.name"] === "string" ? (out as Entity.EntityQuery) : undefined
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const isString = (u: unknown): u is string => typeof u === "string"
const isNumber = (u: unknown): u is number => typeof u === "number"

/**
 * An open struct as `Schema.Struct` with `onExcessProperty: "preserve"`
 * outputs it: the fields it does not name first (in their order), then its
 * own fields in declaration order.
 */
const openOrder = (value: Record<string, unknown>, declared: ReadonlyArray<string>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const key in value) if (!declared.includes(key)) out[key] = value[key]
  for (const key of declared) if (key in value) out[key] = value[key]
  return out
}

/** Checks each declared field present; undefined when one would fail the schema. */
const openStruct = (
  value: unknown,
  fields: Record<string, (u: unknown) => unknown>,
  required: ReadonlyArray<string> = []
): Record<string, unknown> | undefined => {
  if (!isObject(value)) return undefined
  for (const key of required) if (!(key in value)) return undefined
  const decoded: Record<string, unknown> = { ...value }
  for (const key in fields) {
    if (!(key in value) || value[key] === undefined) continue
    const field = fields[key]!(value[key])
    if (field === undefined) return undefined
    decoded[key] = field
  }
  return openOrder(decoded, Object.keys(fields))
}

const stringField = (u: unknown) => (isString(u) ? u : undefined)
const numberField = (u: unknown) => (isNumber(u) ? u : undefined)
const nameStruct = (u: unknown) => openStruct(u, { name: stringField }, ["name"])
const identityRequest = (u: unknown) =>
  openStruct(u, {
    entityId: stringField,
    entityIdNS: (ns) => openStruct(ns, { code: stringField }, ["code"]),
    relatedEntityId: stringField,
    start: stringField
  })

/** `Entity.EntitiesRequest` decoded from a parsed body, or undefined where the schema might answer otherwise. */
export const decodeEntitiesRequest = (body: unknown): Entity.EntitiesRequest | undefined =>
  openStruct(
    body,
    {
      schema: nameStruct,
      relatedSchema: nameStruct,
      identities: (u) => {
        if (!Array.isArray(u)) return undefined
        const out = []
        for (const identity of u) {
          const decoded = identityRequest(identity)
          if (decoded === undefined) return undefined
          out.push(decoded)
        }
        return out
      },
      fields: (u) => (Array.isArray(u) && u.every(isString) ? u : undefined),
      timeFilter: (u) => openStruct(u, { startTime: numberField, endTime: numberField }),
      limit: numberField,
      orderby: stringField,
      orderBy: stringField,
      mergePolicyId: stringField,
      withCA: (u) => (typeof u === "boolean" ? u : u === "true" ? true : u === "false" ? false : undefined)
    },
    ["schema", "identities"]
  ) as Entity.EntitiesRequest | undefined

// --- answers, encoded as the contract's schemas encode them

const PROFILE_FIELDS = ["entityId", "sources", "entity", "lastModifiedAt", "mergePolicy", "requestedIdentity", "identityGraph", "tags"]
const EVENT_FIELDS = ["relatedEntityId", "entityId", "timestamp", "entity", "lastModifiedAt"]

const profileEntity = (body: Record<string, unknown>) => {
  const out = openOrder(body, PROFILE_FIELDS)
  if (isObject(out.mergePolicy)) out.mergePolicy = openOrder(out.mergePolicy, ["id"])
  return out
}

const isEventPage = (value: Record<string, unknown>) => isObject(value._page) && Array.isArray(value.children) && isObject(value._links)

/** Event pages are built in the schema's order by http/entities.ts; only their events come from the store. */
const eventPage = (page: Record<string, unknown>) => ({
  ...page,
  children: (page.children as Array<Record<string, unknown>>).map((event) => openOrder(event, EVENT_FIELDS))
})

/** The JSON of a GET or POST answer (`Entity.EntityLookupResult`, `Entity.EntitiesResult`). */
const encodeAnswer = (answer: Record<string, unknown>, post: boolean): string => {
  if (!post && isEventPage(answer)) return JSON.stringify(eventPage(answer))
  const out: Record<string, unknown> = {}
  for (const key in answer) {
    const value = answer[key] as Record<string, unknown>
    out[key] = post && isEventPage(value) ? eventPage(value) : profileEntity(value)
  }
  return JSON.stringify(out)
}

// --- the route

/** What the route did in this process: read by its test and by benchmarks, never by the service. */
export const stats = { answered: 0, handedOver: 0 }

const completeReplay = (request: IncomingMessage, body: Buffer): IncomingMessage => {
  const replay = new IncomingMessage(request.socket)
  replay.method = request.method
  replay.url = request.url
  replay.headers = request.headers
  replay.rawHeaders = request.rawHeaders
  replay.httpVersion = request.httpVersion
  replay.httpVersionMajor = request.httpVersionMajor
  replay.httpVersionMinor = request.httpVersionMinor
  // Complete, or Node takes its end for an aborted request and destroys the socket.
  replay.complete = true
  replay.push(body)
  replay.push(null)
  return replay
}

/** What the route needs from the service: the store's lookups and version, the IMS tokens, the sandboxes. */
export type Services = Entities.Entities | DataVersion.DataVersion | ImsTokens | Sandboxes.Sandboxes

export interface Options {
  /** Added to every answer (a reader worker's id, for tests); none by default. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Where GET answers are kept between writes (LookupCache.ts); none: every lookup reads the store. */
  readonly cache?: LookupCache | undefined
}

/** An answer served from the cache, already encoded. */
class Kept {
  constructor(readonly body: string) {}
}

/** An answer read from the store, to be kept under `key` at `version` once encoded. */
class Read {
  constructor(readonly value: Record<string, unknown>, readonly key: string, readonly version: string) {}
}

/** The route on a runtime that holds the store, the IMS tokens and the sandboxes. */
export const make = (runtime: Runtime.Runtime<Services>, options: Options = {}): LeanHandler => {
  const extraHeaders = options.headers ?? {}
  const extra = Object.keys(extraHeaders).length > 0 ? extraHeaders : undefined
  const cache = options.cache
  const entities = Runtime.runSync(runtime)(Entities.Entities)
  const dataVersion = Runtime.runSync(runtime)(DataVersion.DataVersion)
  const tokens = Runtime.runSync(runtime)(ImsTokens)
  const clock = Runtime.runSync(runtime)(Effect.clock)
  const logged = LogLevel.greaterThanEqual(LogLevel.Info, FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentMinimumLogLevel))
  const runCallback = Runtime.runCallback(runtime)
  const runSync = Runtime.runSync(runtime)
  let counter = 0

  /** HttpMiddleware.logger's line. */
  const logAccess = (request: IncomingMessage, status: number, started: number) => {
    if (!logged) return
    runSync(
      Effect.log("Sent HTTP response").pipe(
        Effect.annotateLogs({ "http.method": request.method, "http.url": request.url, "http.status": status }),
        Effect.locally(FiberRef.currentLogSpan, List.of(LogSpan.make(`http.span.${++counter}`, started)))
      )
    )
  }

  const answer = (
    request: IncomingMessage,
    response: ServerResponse,
    started: number,
    status: number,
    headers: Record<string, string>,
    body: string | Uint8Array
  ) => {
    stats.answered++
    response.writeHead(status, extra === undefined ? headers : { ...headers, ...extra })
    response.end(body)
    logAccess(request, status, started)
  }

  const run = (
    request: IncomingMessage,
    response: ServerResponse,
    fallback: () => void,
    effect: (sandboxName: string) => Effect.Effect<Record<string, unknown> | Kept | Read, unknown>,
    post: boolean
  ) => {
    const started = Date.now()
    const headers = request.headers as Record<string, string | undefined>
    const requestId = headers["x-request-id"] || randomUUID()
    runCallback(
      Effect.flatMap(check(headers), (context) => effect(context.sandboxName)),
      {
        onExit: (exit) => {
          if (response.destroyed) return
          if (Exit.isSuccess(exit)) {
            const value = exit.value
            const body = value instanceof Kept ? value.body : encodeAnswer(value instanceof Read ? value.value : value, post)
            if (value instanceof Read) cache?.set(value.key, value.version, body)
            return answer(request, response, started, 200, {
              "content-type": "application/json",
              "content-length": String(Buffer.byteLength(body)),
              "x-request-id": requestId
            }, body)
          }
          const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
          const rendered = ProfileError.isProfileError(failure) ? render(failure, requestId) : undefined
          if (rendered === undefined || rendered.status === 413 || rendered.body._tag !== "Uint8Array") return fallback()
          const withId = rendered.headers["x-request-id"] === undefined
            ? HttpServerResponse.setHeader(rendered, "x-request-id", requestId)
            : rendered
          answer(request, response, started, withId.status, withId.headers as Record<string, string>, rendered.body.body)
        }
      }
    )
  }

  /** A GET: from the cache while the store is at the version the answer was read at, else from the store. */
  const lookup = (sandbox: string, query: Entity.EntityQuery, url: string): Effect.Effect<Record<string, unknown> | Kept | Read, unknown> => {
    const read: Effect.Effect<Record<string, unknown>, unknown> = getEntities(entities, sandbox, query, url)
    if (cache === undefined) return read
    return Effect.flatMap(dataVersion.current, (version): Effect.Effect<Record<string, unknown> | Kept | Read, unknown> => {
      if (Option.isNone(version)) return read
      // The version is read before the store: a write in between makes the answer newer than its version, never older.
      const key = `${sandbox}\n${url}`
      const kept = cache.get(key, version.value)
      if (kept !== undefined) return Effect.succeed(new Kept(kept))
      return Effect.map(read, (value) => new Read(value, key, version.value))
    })
  }

  /**
   * A GET whose answer is kept at the store's version now, answered without
   * an Effect: the gateway's checks are made as `check` makes them, and only
   * when every one passes is the kept answer sent (its sandbox exists: the
   * answer was read in it, and nothing was written since). Anything else
   * goes the Effect path, which answers it as ever.
   */
  const kept = (request: IncomingMessage, response: ServerResponse, url: string): boolean => {
    if (cache === undefined || dataVersion.peek === undefined) return false
    const headers = request.headers as Record<string, string | undefined>
    const sandbox = headers["x-sandbox-name"]
    if (sandbox === undefined || sandbox === "") return false
    const body = cache.peek(`${sandbox}\n${url}`, dataVersion.peek())
    if (body === undefined) return false
    const bearer = /^Bearer\s+(\S+)$/i.exec((headers["authorization"] ?? "").trim())?.[1]
    if (bearer === undefined) return false
    const claims = tokens.verifyAt(bearer, clock.unsafeCurrentTimeMillis())
    if (Option.isNone(claims)) return false
    const apiKey = headers["x-api-key"]
    if (apiKey === undefined || apiKey === "" || Option.isNone(tokens.client(apiKey))) return false
    if (headers["x-gw-ims-org-id"] !== claims.value.org) return false
    answer(request, response, Date.now(), 200, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      "x-request-id": headers["x-request-id"] || randomUUID()
    }, body)
    return true
  }

  return (request, response, fallback) => {
    const url = request.url ?? ""
    const mark = url.indexOf("?")
    if ((mark === -1 ? url : url.slice(0, mark)) !== PATH) return false
    if (request.method === "GET") {
      if (kept(request, response, url)) return true
      const query = decodeQuery(mark === -1 ? "" : url.slice(mark + 1))
      if (query === undefined) return false
      run(request, response, () => fallback(request), (sandbox) => lookup(sandbox, query, url), false)
      return true
    }
    if (request.method !== "POST") return false
    const length = request.headers["content-length"]
    if (length === undefined || request.headers["transfer-encoding"] !== undefined) return false
    if (!(Number(length) <= MAX_JSON_BYTES) || !JSON_TYPE.test(request.headers["content-type"] ?? "")) return false
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.once("end", () => {
      const bytes = Buffer.concat(chunks)
      const replay = () => fallback(completeReplay(request, bytes))
      const text = bytes.toString("utf8")
      if (text.includes("__proto__") || jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return replay()
      let payload: Entity.EntitiesRequest | undefined
      try {
        payload = decodeEntitiesRequest(JSON.parse(text))
      } catch {
        return replay()
      }
      if (payload === undefined) return replay()
      const decoded = payload
      run(request, response, replay, (sandbox) => postEntities(entities, sandbox, decoded) as Effect.Effect<Record<string, unknown>, unknown>, true)
    })
    return true
  }
}

/** Installs the route on `server` for as long as the service runs. */
export const layer = (server: LeanServer, options: Options = {}) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const runtime = yield* Effect.runtime<Services>()
      server.lean = make(runtime, options)
      yield* Effect.addFinalizer(() => Effect.sync(() => (server.lean = undefined)))
    })
  )
