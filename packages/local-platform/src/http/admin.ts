/**
 * `/rtcp/admin/faults`: fault injection at run time. Served only when the
 * service starts with `--admin` (`admin: true`); it is not a Platform API,
 * takes no credentials and is never subject to faults itself.
 *
 * - `GET` → the rules with their counters (`matched`, `fired`, `remaining`),
 *   the global latency and the seed.
 * - `PUT` → replaces everything. JSON `{"rules":["GET /x 429 times=3"],
 *   "latency":"50ms","seed":42}` (every key optional; a bare array is the
 *   rules), or `text/plain` with one rule per line (`#` starts a comment).
 *   Answers like `GET`; 400 naming the rule that does not parse.
 * - `DELETE` → no rule and no latency; 204.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import * as Faults from "../Faults.js"
import { badRequest } from "./errors.js"

export const FAULTS_PATH = "/rtcp/admin/faults"

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
  })
)
