/**
 * The cache-hit lane: a Node request listener in front of the Hono app that
 * answers a profile lookup the cache already holds right after caller auth
 * and the rate limit, without the middleware chain.
 *
 * It serves `GET /v1/profiles/{namespace}/{id}` and AEP's single-profile
 * `GET /data/core/ups/access/entities` when the answer is a fresh cache hit,
 * with the same status, headers, body, audit line and metrics as the Hono
 * path (test/cacheHit.test.ts compares them). Everything else, and anything
 * it is unsure of (a malformed query, a refused sandbox, a key that does not
 * work, a miss, a caller over its limit), goes to the Hono app unchanged;
 * the rate limiter's verdict goes with it (rateLimit.ts's `CONSUMED`), so
 * that no request is counted twice.
 *
 * Why a lane: a cache hit through the eight middlewares cost about 250 µs of
 * CPU; most of it was the chain itself (a Hono context, closures, headers
 * objects), not the work. Here headers and body are prepared once per cache
 * entry, the key check is memoised (keys.ts), and metrics are counted once
 * per event-loop turn.
 */
import { randomUUID } from "node:crypto"
import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from "node:http"
import type { Entity } from "@rtcp/core"
import { Hono } from "hono"
import { secureHeaders } from "hono/secure-headers"
import type { RateLimiterRes } from "rate-limiter-flexible"
import { cacheStatus } from "./cache.js"
import type { Caller, KeyStore } from "./keys.js"
import type { AuditSink } from "./middleware/audit.js"
import { stdoutSink } from "./middleware/audit.js"
import { type Consumed, CONSUMED } from "./middleware/rateLimit.js"
import type { ProxyMetrics } from "./metrics.js"
import { answerText, singleProfileLookup } from "./routes/aep.js"
import { decodeIdentity, decodeProfileQuery, fieldsOf } from "./routes/internal.js"
import { scrubber } from "./scrub.js"
import { sandboxOf } from "./scope.js"
import { endpointOf, type LookupRequest, type Upstream } from "./upstream.js"

export interface CacheHitOptions {
  readonly upstream: Upstream
  readonly keys: KeyStore
  readonly metrics: ProxyMetrics
  readonly auditSink?: AuditSink | undefined
}

type Kind = "v1" | "aep"

interface Target {
  readonly kind: Kind
  readonly request: LookupRequest
}

const V1_ROUTE = "/v1/profiles/:namespace/:id"
const AEP_ROUTE = `GET ${endpointOf("/data/core/ups/access/entities")}`
const V1_PATH = /^\/v1\/profiles\/([^/]+)\/([^/]+)$/
const HIT_STATUS = cacheStatus({ result: "hit" })

const segment = (raw: string): string => (raw.includes("%") ? decodeURIComponent(raw) : raw)

/**
 * `targetOf`, remembered per URL (callers repeat theirs; parsing the query
 * and running the decoders was a tenth of a hit's CPU). Bounded: emptied
 * when full.
 */
const targets = new Map<string, Target | null>()
const targetFor = (url: string): Target | undefined => {
  let target = targets.get(url)
  if (target === undefined) {
    target = parseTarget(url) ?? null
    if (url.length > 2048) return target ?? undefined
    if (targets.size >= 10_000) targets.clear()
    targets.set(url, target)
  }
  return target ?? undefined
}

/** The lookup a request asks for, when the lane may answer it; else undefined (the Hono app decides). */
const parseTarget = (url: string): Target | undefined => {
  const q = url.indexOf("?")
  const path = q === -1 ? url : url.slice(0, q)
  // Dot segments, which the URL parser would resolve, are left to the Hono app.
  if (path.includes("/.")) return undefined
  const query = q === -1 ? "" : url.slice(q + 1)
  try {
    const v1 = V1_PATH.exec(path)
    if (v1 !== null) {
      const identity = decodeIdentity({ namespace: segment(v1[1]!), id: segment(v1[2]!) })
      const record: Record<string, string | Array<string>> = {}
      for (const [name, value] of new URLSearchParams(query)) {
        const had = record[name]
        record[name] = had === undefined ? value : typeof had === "string" ? [had, value] : [...had, value]
      }
      const decoded = decodeProfileQuery(record)
      return { kind: "v1", request: { identity, fields: fieldsOf(decoded.fields), mergePolicyId: decoded.mergePolicyId, withCA: decoded.withCA } }
    }
    const aep = singleProfileLookup("GET", path, new URLSearchParams(query))
    return aep === undefined ? undefined : { kind: "aep", request: aep }
  } catch {
    return undefined
  }
}

const bearerOf = (header: string | undefined) => {
  if (header === undefined) return undefined
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  return match?.[1]
}

/** Node keeps only the first `Authorization`; the Hono app sees them all joined: leave such requests to it. */
const authorizationCount = (raw: ReadonlyArray<string>) => {
  let n = 0
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === "authorization") n++
  return n
}

const REQUEST_ID = /^[\w-]+$/

/** What the Hono path answers a hit with, before the per-request headers. */
interface Prepared {
  readonly body: Buffer
  readonly headers: ReadonlyArray<string>
}

/** The headers `secureHeaders()` adds, read from the middleware itself so the two paths cannot drift. */
const secureHeaderPairs = async (): Promise<Array<string>> => {
  const probe = new Hono()
  probe.use(secureHeaders())
  probe.get("/", (c) => c.body(null, 204))
  const response = await probe.request("/")
  const pairs: Array<string> = []
  response.headers.forEach((value, name) => pairs.push(name, value))
  return pairs
}

/** Counts of one turn, written to the registry at its end. */
class TurnMetrics {
  private readonly requests = new Map<string, { labels: { route: string; method: string; status: string; caller: string }; n: number }>()
  private readonly durations: Array<{ route: string; seconds: number }> = []
  private hits = 0
  private scheduled = false

  constructor(private readonly metrics: ProxyMetrics) {}

  answered(route: string, caller: string, seconds: number): void {
    const id = `${route}\u0000${caller}`
    const entry = this.requests.get(id)
    if (entry === undefined) this.requests.set(id, { labels: { route, method: "GET", status: "200", caller }, n: 1 })
    else entry.n++
    this.durations.push({ route, seconds })
    this.hits++
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flush)
    }
  }

  readonly flush = (): void => {
    this.scheduled = false
    for (const { labels, n } of this.requests.values()) this.metrics.requests.inc(labels, n)
    this.requests.clear()
    for (const { route, seconds } of this.durations) this.metrics.requestDuration.observe({ route, method: "GET" }, seconds)
    this.durations.length = 0
    if (this.hits > 0) this.metrics.lookupCache.inc({ result: "hit" }, this.hits)
    this.hits = 0
  }
}

/**
 * The lane, given the Hono app's listener for everything it does not answer.
 * Tracing on: no lane (each request then needs its spans).
 */
export const cacheHitLane = async (options: CacheHitOptions): Promise<(fallback: RequestListener) => RequestListener> => {
  const { keys, metrics, upstream } = options
  if (upstream.tracing) return (fallback) => fallback
  const sink = options.auditSink ?? stdoutSink
  const secure = await secureHeaderPairs()
  const turn = new TurnMetrics(metrics)
  const prepared = { v1: new WeakMap<Entity.ProfileEntity, Prepared>(), aep: new WeakMap<Entity.ProfileEntity, Prepared>() }

  const prepare = (kind: Kind, profile: Entity.ProfileEntity): Prepared => {
    let entry = prepared[kind].get(profile)
    if (entry === undefined) {
      const body = Buffer.from(kind === "aep" ? answerText(profile) : scrubber.text(JSON.stringify(profile)), "utf8")
      entry = {
        body,
        headers: [...secure, "content-type", "application/json", "cache-status", HIT_STATUS, "content-length", String(body.byteLength)]
      }
      prepared[kind].set(profile, entry)
    }
    return entry
  }

  const authenticate = (incoming: IncomingMessage): Caller | undefined => {
    const headers = incoming.headers
    const authorization = headers.authorization
    if (authorization !== undefined && authorizationCount(incoming.rawHeaders) > 1) return undefined
    const apiKey = headers["x-api-key"]
    if (typeof apiKey !== "string" && apiKey !== undefined) return undefined
    for (const key of [bearerOf(authorization), apiKey]) {
      if (key === undefined || key === "") continue
      const caller = keys.authenticate(key)
      if (caller !== undefined) {
        scrubber.add(key)
        return caller
      }
    }
    return undefined
  }

  return (fallback) => {
    const handOn = (incoming: IncomingMessage, outgoing: ServerResponse, consumed: Consumed) => {
      ;(incoming as IncomingMessage & { [CONSUMED]?: Consumed })[CONSUMED] = consumed
      return fallback(incoming, outgoing)
    }

    const answer = async (incoming: IncomingMessage, outgoing: ServerResponse, caller: Caller, target: Target, sandbox: string) => {
      const started = performance.now()
      let result: RateLimiterRes
      try {
        result = await upstream.shared.limiterFor(caller.rateLimit).consume(caller.name)
      } catch (error) {
        return handOn(incoming, outgoing, { ok: false, error })
      }
      let profile: Entity.ProfileEntity | undefined
      try {
        profile = await upstream.cachedProfile(target.request, sandbox)
      } catch {
        profile = undefined
      }
      if (profile === undefined) return handOn(incoming, outgoing, { ok: true, result })
      const entry = prepare(target.kind, profile)
      const given = incoming.headers["x-request-id"]
      const requestId = typeof given === "string" && given.length <= 128 && REQUEST_ID.test(given) ? given : randomUUID()
      const limit = caller.rateLimit
      const headers: OutgoingHttpHeaders | Array<string> = [
        "x-request-id",
        requestId,
        "ratelimit-limit",
        String(limit.points),
        "ratelimit-remaining",
        String(Math.max(0, result.remainingPoints)),
        "ratelimit-reset",
        String(Math.max(0, Math.ceil(result.msBeforeNext / 1000))),
        "ratelimit-policy",
        `${limit.points};w=${limit.duration}`,
        ...entry.headers
      ]
      outgoing.writeHead(200, headers)
      outgoing.end(entry.body)
      const route = target.kind === "v1" ? V1_ROUTE : AEP_ROUTE
      const elapsed = performance.now() - started
      turn.answered(route, caller.name, elapsed / 1000)
      sink({
        time: new Date().toISOString(),
        level: "info",
        msg: "request",
        requestId,
        caller: caller.name,
        method: "GET",
        route,
        sandbox,
        status: 200,
        upstreamRequestId: null,
        cache: "hit",
        latencyMs: Math.round(elapsed * 100) / 100
      })
    }

    return function cacheHit(incoming, outgoing) {
      if (incoming.method !== "GET") return fallback(incoming, outgoing)
      const target = targetFor(incoming.url ?? "")
      if (target === undefined) return fallback(incoming, outgoing)
      const caller = authenticate(incoming)
      if (caller === undefined) return fallback(incoming, outgoing)
      const given = incoming.headers["x-sandbox-name"]
      if (typeof given !== "string" && given !== undefined) return fallback(incoming, outgoing)
      let sandbox: string
      try {
        sandbox = sandboxOf(caller, given, upstream.defaultSandbox)
      } catch {
        return fallback(incoming, outgoing)
      }
      answer(incoming, outgoing, caller, target, sandbox).catch((error: unknown) => {
        // Nothing above throws once the answer is under way; should it, the Hono app answers (its 500 and audit line).
        if (!outgoing.headersSent) void fallback(incoming, outgoing)
        else outgoing.destroy(error instanceof Error ? error : undefined)
      })
    }
  }
}
