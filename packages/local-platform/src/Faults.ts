/**
 * Fault injection: the service misbehaves on purpose, so that clients, the
 * proxy and the dashboard can be tested against an upstream that is slow,
 * rate limited, failing, hanging up or rejecting tokens.
 *
 * A rule is one line:
 *
 * ```
 * [METHOD] PATH ACTION [option=value ...]
 *
 * METHOD   GET, POST, PUT, PATCH, DELETE, or * (any); may be left out (any)
 * PATH     /data/core/ups/access/entities   this path and everything below it
 *          /data/core/ups/config/*          * matches one path segment
 *          /data/core/**                    ** matches any number of segments
 *          (the query string and trailing slashes are ignored)
 * ACTION   429            AEP's 429 body and Retry-After
 *          500 | 502 | 503  AEP-style error bodies
 *          drop           destroy the connection without an answer
 *          latency        wait (delay=…) and then answer normally
 *          slow           answer normally, but stream the body in small chunks
 *          expire-tokens  rotate the IMS signing secret: every token issued so
 *                         far becomes invalid (401) and clients must fetch anew
 * OPTIONS  times=N        only the next N calls it fires on (default: all)
 *          p=0.25         probability per matching call (default 1)
 *          retry-after=2  429/503: Retry-After; bare numbers are seconds,
 *                         500ms or 1.5s work too (default 1 s on 429; a 503
 *                         sends none unless asked)
 *          delay=200ms    latency: how long; other actions: wait this long first
 *          chunk=16       slow: bytes per chunk (default 16)
 *          every=100ms    slow: pause between chunks (default 100ms)
 * ```
 *
 * Rules are checked in order for every request. Those whose method and path
 * match and that still have calls left roll their probability; a rule that
 * fires adds its delay, `expire-tokens` rotates the secret and `slow` slows
 * the answer, and the request goes on to the next rule. The first `429`,
 * `5xx` or `drop` that fires answers the request, and later rules are not
 * looked at. A global latency (`--fault-latency`) is added to every request.
 * With a seed the probability rolls are a fixed sequence, so a run repeats.
 *
 * `Retry-After` is whole seconds (rounded up) as RFC 9110 wants;
 * `retryAfterMs` in the 429 body carries the exact milliseconds.
 *
 * The admin endpoint (`/rtcp/admin/…`) is never subject to faults.
 *
 * @since 0.1.0
 */
import { HttpApiBuilder, HttpBody, HttpMiddleware, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Chunk, Context, Effect, Either, Layer, Schedule, Stream } from "effect"
import { randomUUID } from "node:crypto"
import { ImsTokens } from "./ImsTokens.js"

// ---------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------

export const ACTIONS = ["429", "500", "502", "503", "drop", "latency", "slow", "expire-tokens"] as const
export type Action = (typeof ACTIONS)[number]

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const

export interface Rule {
  /** Upper case; undefined matches any method. */
  readonly method: string | undefined
  readonly path: string
  readonly action: Action
  /** How many more times it may fire; undefined: no limit. */
  readonly times: number | undefined
  readonly probability: number
  /** 429/503. */
  readonly retryAfterMs: number | undefined
  readonly delayMs: number
  readonly chunkBytes: number
  readonly everyMs: number
  /** The rule as written (whitespace normalised). */
  readonly text: string
}

export class FaultRuleError extends Error {
  override readonly name = "FaultRuleError"
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/

/** `50ms`, `2s`, `1.5s`, `1m`; a bare number is in `bare` units. Milliseconds, or undefined when malformed. */
export const parseDuration = (text: string, bare: "ms" | "s" = "ms"): number | undefined => {
  const match = DURATION.exec(text.trim())
  if (match === null) return undefined
  const value = Number(match[1])
  const unit = match[2] ?? bare
  return Math.round(unit === "ms" ? value : unit === "s" ? value * 1000 : value * 60_000)
}

const formatMs = (ms: number) => (ms % 1000 === 0 && ms > 0 ? `${ms / 1000}s` : `${ms}ms`)

/** Parses one rule; throws a `FaultRuleError` that says what to fix. */
export const parseRule = (input: string): Rule => {
  const text = input.trim().replace(/\s+/g, " ")
  const fail = (message: string): never => {
    throw new FaultRuleError(`fault rule "${text}": ${message}`)
  }
  const tokens = text === "" ? [] : text.split(" ")
  if (tokens.length === 0) fail(`empty rule: write e.g. "GET /data/core/ups/access/entities 429 times=3"`)
  let method: string | undefined
  if (!tokens[0]!.startsWith("/")) {
    const word = tokens.shift()!.toUpperCase()
    if (word !== "*" && word !== "ANY" && !METHODS.includes(word as any)) {
      fail(`"${word}" is not a method: use ${METHODS.slice(0, 5).join(", ")} or * (or start with the path)`)
    }
    method = word === "*" || word === "ANY" ? undefined : word
  }
  const path = tokens.shift()
  if (path === undefined || !path.startsWith("/")) fail(`expected a path starting with "/" after the method`)
  const action = tokens.shift()?.toLowerCase()
  if (action === undefined) fail(`missing action: one of ${ACTIONS.join(", ")}`)
  if (!ACTIONS.includes(action as Action)) fail(`unknown action "${action}": use one of ${ACTIONS.join(", ")}`)

  const rule = {
    method,
    path: path!,
    action: action as Action,
    times: undefined as number | undefined,
    probability: 1,
    retryAfterMs: action === "429" ? 1000 : undefined,
    delayMs: 0,
    chunkBytes: 16,
    everyMs: 100,
    text
  }
  let delayGiven = false
  for (const option of tokens) {
    const eq = option.indexOf("=")
    if (eq <= 0) fail(`"${option}" is not an option: write key=value (times=3, p=0.5, retry-after=2, delay=200ms, chunk=16, every=100ms)`)
    const key = option.slice(0, eq).toLowerCase()
    const value = option.slice(eq + 1)
    switch (key) {
      case "times":
      case "count": {
        const n = Number(value)
        if (!Number.isInteger(n) || n < 1) fail(`times must be a whole number of calls ≥ 1, got "${value}"`)
        rule.times = n
        break
      }
      case "p":
      case "probability": {
        const p = Number(value.endsWith("%") ? value.slice(0, -1) : value) / (value.endsWith("%") ? 100 : 1)
        if (value === "" || !Number.isFinite(p) || p < 0 || p > 1) fail(`p must be a probability from 0 to 1 (or 0% to 100%), got "${value}"`)
        rule.probability = p
        break
      }
      case "retry-after": {
        if (action !== "429" && action !== "503") fail(`retry-after only applies to 429 and 503`)
        const ms = parseDuration(value, "s")
        if (ms === undefined) fail(`retry-after must be seconds (2) or a duration (500ms, 1.5s), got "${value}"`)
        rule.retryAfterMs = ms
        break
      }
      case "delay":
      case "latency": {
        const ms = parseDuration(value)
        if (ms === undefined) fail(`delay must be a duration such as 200ms or 2s, got "${value}"`)
        rule.delayMs = ms!
        delayGiven = true
        break
      }
      case "chunk": {
        if (action !== "slow") fail(`chunk only applies to slow`)
        const n = Number(value)
        if (!Number.isInteger(n) || n < 1) fail(`chunk must be a number of bytes ≥ 1, got "${value}"`)
        rule.chunkBytes = n
        break
      }
      case "every": {
        if (action !== "slow") fail(`every only applies to slow`)
        const ms = parseDuration(value)
        if (ms === undefined) fail(`every must be a duration such as 100ms, got "${value}"`)
        rule.everyMs = ms!
        break
      }
      default:
        fail(`unknown option "${key}": use times, p, retry-after, delay, chunk or every`)
    }
  }
  if (action === "latency" && !delayGiven) fail(`latency needs delay=…, e.g. "latency delay=200ms"`)
  return rule
}

/** Parses one rule without throwing. */
export const parseRuleEither = (input: string): Either.Either<Rule, FaultRuleError> =>
  Either.try({ try: () => parseRule(input), catch: (error) => error as FaultRuleError })

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")

/** The path part of a URL, without trailing slashes. */
export const pathOf = (url: string) => {
  const path = url.split("?", 1)[0]!.split("#", 1)[0]!
  return path.length > 1 ? path.replace(/\/+$/, "") || "/" : path
}

/** Whether `pattern` (prefix, or glob with `*` and `**`) matches `path`. */
export const pathMatches = (pattern: string, path: string): boolean => {
  const target = pathOf(path)
  if (!pattern.includes("*")) {
    const prefix = pathOf(pattern)
    return prefix === "/" || target === prefix || target.startsWith(prefix + "/")
  }
  const source = pattern
    .replace(/\/+$/, "")
    .split(/(\*\*|\*)/)
    .map((part) => (part === "**" ? ".*" : part === "*" ? "[^/]*" : escape(part)))
    .join("")
  return new RegExp(`^${source}$`).test(target)
}

export const ruleMatches = (rule: Rule, method: string, path: string) =>
  (rule.method === undefined || rule.method === method.toUpperCase()) && pathMatches(rule.path, path)

// ---------------------------------------------------------------------------
// The injector
// ---------------------------------------------------------------------------

export interface FaultOptions {
  /** Rules as written (see the module comment) or parsed. */
  readonly rules?: ReadonlyArray<string | Rule> | undefined
  /** Added to every request: ms, or a duration such as "50ms". */
  readonly latency?: number | string | undefined
  /** Makes probability rolls repeat run after run. */
  readonly seed?: number | undefined
}

/** What happens to one request. */
export interface Plan {
  readonly delayMs: number
  readonly expireTokens: boolean
  readonly slow: { readonly chunkBytes: number; readonly everyMs: number } | undefined
  readonly answer:
    | { readonly _tag: "Status"; readonly status: 429 | 500 | 502 | 503; readonly retryAfterMs: number | undefined }
    | { readonly _tag: "Drop" }
    | undefined
}

export interface RuleState {
  readonly index: number
  readonly rule: string
  readonly method: string
  readonly path: string
  readonly action: Action
  readonly probability: number
  readonly times: number | null
  /** Calls it may still fire on; null: no limit. */
  readonly remaining: number | null
  /** Requests whose method and path matched (whether it fired or not). */
  readonly matched: number
  /** Requests it fired on. */
  readonly fired: number
}

export interface FaultSnapshot {
  readonly latency: string
  readonly latencyMs: number
  readonly seed: number | null
  readonly rules: ReadonlyArray<RuleState>
}

export class FaultInjector extends Context.Tag("@rtcp/local-platform/FaultInjector")<
  FaultInjector,
  {
    /** The rules with their counters. */
    readonly snapshot: Effect.Effect<FaultSnapshot>
    /** Replaces every rule, the latency and the seed (counters start again). Fails on an invalid rule. */
    readonly configure: (options: FaultOptions) => Effect.Effect<void, FaultRuleError>
    /** No rule, no latency. */
    readonly clear: Effect.Effect<void>
    /** Decides the fate of one request and counts it. */
    readonly decide: (method: string, path: string) => Effect.Effect<Plan>
    /** Makes every token issued so far invalid. */
    readonly expireTokens: Effect.Effect<void>
  }
>() {}

/** mulberry32: a small seeded generator, good enough for dice. */
const seeded = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Live {
  readonly rule: Rule
  remaining: number | undefined
  matched: number
  fired: number
}

const compile = (options: FaultOptions) => {
  const rules = (options.rules ?? []).map((rule) => (typeof rule === "string" ? parseRule(rule) : rule))
  const latencyMs =
    options.latency === undefined
      ? 0
      : typeof options.latency === "number"
        ? options.latency
        : parseDuration(options.latency) ??
          (() => {
            throw new FaultRuleError(`latency "${options.latency}" is not a duration such as 50ms or 1s`)
          })()
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new FaultRuleError(`latency must be ≥ 0, got ${latencyMs}`)
  return {
    live: rules.map((rule): Live => ({ rule, remaining: rule.times, matched: 0, fired: 0 })),
    latencyMs,
    seed: options.seed,
    random: options.seed === undefined ? Math.random : seeded(options.seed)
  }
}

/** An injector; `expireTokens` is what `expire-tokens` runs (the IMS's `rotate`). */
export const make = (options: FaultOptions, hooks: { readonly expireTokens: Effect.Effect<void> }) =>
  Effect.try({ try: () => compile(options), catch: (error) => error as FaultRuleError }).pipe(
    Effect.map((initial) => {
      let state = initial
      return FaultInjector.of({
        snapshot: Effect.sync(() => ({
          latency: formatMs(state.latencyMs),
          latencyMs: state.latencyMs,
          seed: state.seed ?? null,
          rules: state.live.map((live, index) => ({
            index,
            rule: live.rule.text,
            method: live.rule.method ?? "*",
            path: live.rule.path,
            action: live.rule.action,
            probability: live.rule.probability,
            times: live.rule.times ?? null,
            remaining: live.remaining ?? null,
            matched: live.matched,
            fired: live.fired
          }))
        })),
        configure: (next) =>
          Effect.try({ try: () => compile(next), catch: (error) => error as FaultRuleError }).pipe(
            Effect.map((compiled) => {
              state = compiled
            })
          ),
        clear: Effect.sync(() => {
          state = compile({ seed: state.seed })
        }),
        decide: (method, path) =>
          Effect.sync((): Plan => {
            let delayMs = state.latencyMs
            let expireTokens = false
            let slow: Plan["slow"] = undefined
            for (const live of state.live) {
              const { rule } = live
              if (!ruleMatches(rule, method, path)) continue
              live.matched++
              if (live.remaining === 0) continue
              if (rule.probability < 1 && state.random() >= rule.probability) continue
              live.fired++
              if (live.remaining !== undefined) live.remaining--
              delayMs += rule.delayMs
              switch (rule.action) {
                case "latency":
                  break
                case "expire-tokens":
                  expireTokens = true
                  break
                case "slow":
                  slow = { chunkBytes: rule.chunkBytes, everyMs: rule.everyMs }
                  break
                case "drop":
                  return { delayMs, expireTokens, slow, answer: { _tag: "Drop" } }
                default:
                  return {
                    delayMs,
                    expireTokens,
                    slow,
                    answer: { _tag: "Status", status: Number(rule.action) as 429 | 500 | 502 | 503, retryAfterMs: rule.retryAfterMs }
                  }
              }
            }
            return { delayMs, expireTokens, slow, answer: undefined }
          }),
        expireTokens: hooks.expireTokens
      })
    })
  )

/** The injector, with `expire-tokens` wired to the local IMS. */
export const layer = (options: FaultOptions = {}) =>
  Layer.effect(
    FaultInjector,
    Effect.flatMap(ImsTokens, (tokens) => make(options, { expireTokens: tokens.rotate }))
  ).pipe(Layer.orDie)

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

const upsBody = (status: number, message: string, cause: string) => ({
  message,
  cause: `Status Code - ${status} : ${cause}`,
  statusCode: String(status)
})

/** The body AEP sends with each injected status. */
export const bodyFor = (status: 429 | 500 | 502 | 503, retryAfterMs: number | undefined): unknown => {
  switch (status) {
    case 429:
      // AEP's documented 429: an array, every value a string.
      return [
        {
          message: "Too many requests",
          cause: JSON.stringify({ Errors: ["Request rate is large"] }),
          retryAfterMs: String(retryAfterMs ?? 1000),
          statusCode: "429"
        }
      ]
    case 500:
      return upsBody(500, "Unable to connect to server", "Connection Timeout")
    case 502:
      return upsBody(502, "Bad gateway", "The upstream service sent an invalid response")
    case 503:
      return upsBody(503, "Service unavailable", "The service is temporarily unavailable, try again later")
  }
}

export const statusResponse = (status: 429 | 500 | 502 | 503, retryAfterMs: number | undefined, requestId: string) =>
  HttpServerResponse.unsafeJson(bodyFor(status, retryAfterMs), {
    status,
    headers: {
      "x-request-id": requestId,
      "x-rtcp-fault": String(status),
      ...(retryAfterMs === undefined ? {} : { "retry-after": String(Math.ceil(retryAfterMs / 1000)) })
    }
  })

const split = (bytes: Uint8Array, size: number): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size))
  return out
}

/** The same answer, its body sent `chunkBytes` at a time with `everyMs` between chunks. */
export const slowly = (
  response: HttpServerResponse.HttpServerResponse,
  options: { readonly chunkBytes: number; readonly everyMs: number }
): HttpServerResponse.HttpServerResponse => {
  const body = response.body
  let source: Stream.Stream<Uint8Array, unknown>
  switch (body._tag) {
    case "Uint8Array":
      source = Stream.make(body.body)
      break
    case "Raw":
      if (typeof body.body === "string") source = Stream.make(new TextEncoder().encode(body.body))
      else if (body.body instanceof Uint8Array) source = Stream.make(body.body)
      else return response
      break
    case "Stream":
      source = body.stream
      break
    default:
      return response
  }
  const chunks = source.pipe(
    Stream.mapConcatChunk((bytes) => Chunk.fromIterable(split(bytes, options.chunkBytes))),
    Stream.schedule(Schedule.spaced(options.everyMs))
  )
  return HttpServerResponse.setBody(response, HttpBody.stream(chunks, body.contentType, body.contentLength))
}

/** Destroys the connection under `request` without answering. */
const drop = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function* () {
    const socket = yield* Effect.try(() => NodeHttpServerRequest.toIncomingMessage(request).socket).pipe(
      Effect.orElseSucceed(() => undefined)
    )
    if (socket === undefined || socket === null) return yield* Effect.interrupt
    socket.destroy()
    // The server interrupts this fiber when it sees the socket close (as for a
    // client that hangs up); the timeout only guards against never hearing it.
    return yield* Effect.zipRight(Effect.sleep("10 seconds"), Effect.interrupt)
  })

/** Paths that faults never touch. */
export const exempt = (path: string) => path === "/rtcp/admin" || path.startsWith("/rtcp/admin/")

/** Applies `injector` to an app. */
export const apply =
  (injector: Context.Tag.Service<FaultInjector>) =>
  <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const path = pathOf(request.url)
      if (exempt(path)) return yield* app
      const plan = yield* injector.decide(request.method, path)
      if (plan.delayMs > 0) yield* Effect.sleep(plan.delayMs)
      if (plan.expireTokens) yield* injector.expireTokens
      if (plan.answer?._tag === "Drop") return yield* drop(request)
      if (plan.answer?._tag === "Status") {
        const response = statusResponse(plan.answer.status, plan.answer.retryAfterMs, request.headers["x-request-id"] || randomUUID())
        return plan.slow ? slowly(response, plan.slow) : response
      }
      const response = yield* app
      return plan.slow ? slowly(response, plan.slow) : response
    })

/** The fault middleware for any `HttpApp` (needs a `FaultInjector`). */
export const middleware = HttpMiddleware.make((app) =>
  Effect.flatMap(FaultInjector, (injector) => apply(injector)(app))
)

/** The fault middleware installed in front of every route of the `HttpApiBuilder` app. */
export const layerApiMiddleware = HttpApiBuilder.middleware(Effect.map(FaultInjector, (injector) => apply(injector)))
