/**
 * `/rtcp/admin/...`: the emulator's own controls. Served only when the
 * service starts with `--admin` (`admin: true`); they are not Platform APIs,
 * take no credentials and are never subject to faults themselves.
 *
 * `/rtcp/admin/faults`: fault injection at run time.
 *
 * - `GET` → the rules with their counters (`matched`, `fired`, `remaining`),
 *   the global latency and the seed.
 * - `PUT` → replaces everything. JSON `{"rules":["GET /x 429 times=3"],
 *   "latency":"50ms","seed":42}` (every key optional; a bare array is the
 *   rules), or `text/plain` with one rule per line (`#` starts a comment).
 *   Answers like `GET`; 400 naming the rule that does not parse.
 * - `DELETE` → no rule and no latency; 204.
 *
 * `GET /rtcp/admin/requests?limit=N&since=SEQ`: the request inspector,
 * `{ "requests": [...] }` newest first, secrets redacted.
 *
 * `POST /rtcp/admin/reset`: `{}` empties everything (then only `prod` exists,
 * with its default merge policy); `{"sandbox":"dev"}` empties one sandbox.
 *
 * `POST /rtcp/admin/snapshots/export` and `.../import` with
 * `{"directory":"..."}` (relative to the service's working directory):
 * the whole state to or from a snapshot folder; answers its manifest.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { ProfileError } from "@rtcp/core"
import { StoreState } from "@rtcp/profile-store"
import { Effect } from "effect"
import { resolve } from "node:path"
import * as Faults from "../Faults.js"
import { RequestInspector } from "../RequestInspector.js"
import { badRequest } from "./errors.js"

export const FAULTS_PATH = "/rtcp/admin/faults"
export const REQUESTS_PATH = "/rtcp/admin/requests"
export const RESET_PATH = "/rtcp/admin/reset"
export const SNAPSHOT_EXPORT_PATH = "/rtcp/admin/snapshots/export"
export const SNAPSHOT_IMPORT_PATH = "/rtcp/admin/snapshots/import"

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The options a PUT body asks for, or a message saying what is wrong. */
export const readOptions = (contentType: string, text: string): Faults.FaultOptions | string => {
  if (/^text\/plain\b/i.test(contentType)) {
    return {
      rules: text
        .split(/\r?\n/)
        .map((line) => line.replace(/#.*$/, "").trim())
        .filter((line) => line !== "")
    }
  }
  let body: unknown
  try {
    body = text.trim() === "" ? {} : JSON.parse(text)
  } catch (error) {
    return `the body is not valid JSON: ${(error as Error).message}`
  }
  if (Array.isArray(body)) body = { rules: body }
  if (!isObject(body)) return 'the body must be {"rules":["GET /path 429 times=3"],"latency":"50ms","seed":42}'
  const rules = body.rules ?? []
  if (!Array.isArray(rules) || !rules.every((rule) => typeof rule === "string")) {
    return 'rules must be an array of rule strings such as "GET /data/core/ups/access/entities 503 times=2"'
  }
  const latency = body.latency
  if (latency !== undefined && latency !== null && typeof latency !== "string" && typeof latency !== "number") {
    return 'latency must be milliseconds or a duration such as "50ms"'
  }
  const seed = body.seed
  if (seed !== undefined && seed !== null && (typeof seed !== "number" || !Number.isInteger(seed))) return "seed must be an integer"
  return {
    rules,
    ...(latency === undefined || latency === null ? {} : { latency }),
    ...(seed === undefined || seed === null ? {} : { seed })
  }
}

export const AdminLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const faults = yield* Faults.FaultInjector
    const snapshot = Effect.map(faults.snapshot, (s) => HttpServerResponse.unsafeJson(s))

    yield* router.get(FAULTS_PATH, snapshot)
    yield* router.put(
      FAULTS_PATH,
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const text = yield* Effect.orElseSucceed(request.text, () => "")
        const options = readOptions(request.headers["content-type"] ?? "application/json", text)
        if (typeof options === "string") return yield* badRequest(options)
        yield* faults.configure(options).pipe(Effect.mapError((error) => badRequest(error.message)))
        return yield* snapshot
      })
    )
    yield* router.del(FAULTS_PATH, Effect.as(faults.clear, HttpServerResponse.empty({ status: 204 })))

    const inspector = yield* RequestInspector
    yield* router.get(
      REQUESTS_PATH,
      Effect.gen(function* () {
        const search = yield* HttpServerRequest.ParsedSearchParams
        const limit = readCount(search.limit, "limit")
        const since = readCount(search.since, "since")
        if (typeof limit === "string") return yield* badRequest(limit)
        if (typeof since === "string") return yield* badRequest(since)
        return HttpServerResponse.unsafeJson({ requests: yield* inspector.list({ limit, since }) })
      })
    )

    const state = yield* StoreState.StoreState
    yield* router.post(
      RESET_PATH,
      Effect.gen(function* () {
        const body = yield* readBody
        const sandbox = body.sandbox
        if (sandbox !== undefined && (typeof sandbox !== "string" || sandbox === "")) {
          return yield* badRequest('sandbox must be a sandbox name: {"sandbox":"prod"}, or {} to reset everything')
        }
        yield* state.reset(sandbox).pipe(
          Effect.catchTag("UnknownSandbox", (error) =>
            Effect.fail(
              new ProfileError.NotFound({
                status: 404,
                message: error.message,
                body: { type: "https://ns.adobe.com/aep/errors/RTCP-404", title: "Unknown sandbox", status: 404, detail: `Sandbox "${error.sandbox}" does not exist` }
              })
            )
          )
        )
        return HttpServerResponse.unsafeJson({ reset: sandbox ?? "all" })
      })
    )
    const runSnapshot = (run: (directory: string) => Effect.Effect<StoreState.SnapshotManifest, StoreState.SnapshotError>) =>
      Effect.gen(function* () {
        const body = yield* readBody
        if (typeof body.directory !== "string" || body.directory.trim() === "") {
          return yield* badRequest('directory is required: {"directory":"snapshots/before-test"}')
        }
        const directory = resolve(body.directory)
        const manifest = yield* run(directory).pipe(Effect.mapError((error) => badRequest(error.message)))
        return HttpServerResponse.unsafeJson({ directory, manifest })
      })
    yield* router.post(SNAPSHOT_EXPORT_PATH, runSnapshot(state.exportTo))
    yield* router.post(SNAPSHOT_IMPORT_PATH, runSnapshot(state.importFrom))
  })
)

/** A JSON object body; an empty body is `{}`. */
const readBody = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const text = yield* Effect.orElseSucceed(request.text, () => "")
  let body: unknown
  try {
    body = text.trim() === "" ? {} : JSON.parse(text)
  } catch (error) {
    return yield* badRequest(`the body is not valid JSON: ${(error as Error).message}`)
  }
  if (!isObject(body)) return yield* badRequest("the body must be a JSON object")
  return body
})

const readCount = (value: unknown, name: string): number | undefined | string => {
  if (value === undefined) return undefined
  const n = typeof value === "string" && /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN
  return Number.isNaN(n) ? `${name} must be a non-negative integer` : n
}
