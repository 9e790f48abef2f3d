/**
 * The upstream: one `ManagedRuntime` holding the core's `ProfileClient`
 * (whose `forward` is the pass-through), its `ProfileLookup` batcher, the
 * auth layer (guarded, see token.ts), the retry policy and the platform
 * `HttpClient` behind the upstream guard (gate, circuit breaker, budget:
 * guard.ts). Routes call the methods below; each runs an effect on the
 * runtime with the request's `AbortSignal`, so a client that disconnects
 * (or a timeout) interrupts the fiber and with it the upstream call.
 *
 * Profile lookups are the exception: identical lookups from many callers
 * share one piece of work (cache.ts), so one caller leaving stops its own
 * wait, not the shared call.
 */
import { Headers, HttpApi, HttpClient } from "@effect/platform"
import {
  AccessToken,
  AepConfig,
  type Entity,
  Forward,
  type Identity,
  Platform,
  ProfileApi,
  ProfileClient,
  ProfileError,
  ProfileLookup,
  Retry
} from "@rtcp/core"
import { Readable } from "node:stream"
import { Pool } from "undici"
import { Cause, Chunk, Duration, Effect, Exit, FiberRef, Layer, Logger, LogLevel, ManagedRuntime, Option, Redacted, Stream, type Tracer } from "effect"
import { type BreakerOptions, CircuitBreaker } from "./breaker.js"
import { type CacheAnswer, LookupCache } from "./cache.js"
import { RequestAborted } from "./errors.js"
import { currentCaller, guarded, HOLD_HEADER, retryAfterMsOf } from "./guard.js"
import * as Log from "./log.js"
import type { ProxyMetrics } from "./metrics.js"
import { scrubber } from "./scrub.js"
import { makeSharedState, type SharedHealth, type SharedState } from "./shared.js"
import * as Token from "./token.js"

// ---------------------------------------------------------------------------
// Where and as whom
// ---------------------------------------------------------------------------

export interface Credentials {
  readonly settings: Platform.PlatformSettings
  /** The core's auth layer (OAuth or static token); the guard wraps it. */
  readonly token: Layer.Layer<AccessToken.AccessToken, never, HttpClient.HttpClient>
  /** For logs and `/readyz`: "local" or "aep". */
  readonly kind: "local" | "aep"
  /** The credential's secrets (client secret or static token), which nothing the proxy sends may contain. */
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>> | undefined
}

/** The core's auth layer from `AEP_*` configuration (what `ProfileClient.layerConfig` builds). */
export const credentialsFromConfig = (config: AepConfig.AepConfig, platformUrl?: string): Credentials => ({
  settings: platformUrl === undefined ? config.settings : { ...config.settings, platformUrl },
  token: AccessToken.layerCredentials(config.credentials, config.settings.imsUrl),
  kind: "aep",
  secrets: config.credentials._tag === "Static" ? [config.credentials.token] : [config.credentials.clientSecret]
})

export interface LocalClient {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly orgId: string
}

/** A local profile service at `url`, which is its own IMS. */
export const credentialsForLocal = (url: string, client: LocalClient, sandbox = "prod"): Credentials => ({
  settings: { platformUrl: url.replace(/\/+$/, ""), imsUrl: url.replace(/\/+$/, ""), orgId: client.orgId, apiKey: client.clientId, sandbox },
  token: AccessToken.layerOAuth({ clientId: client.clientId, clientSecret: client.clientSecret, imsUrl: url.replace(/\/+$/, "") }),
  kind: "local",
  secrets: [client.clientSecret]
})

// ---------------------------------------------------------------------------
// Upstream endpoints as metric labels: the contract's path templates
// ---------------------------------------------------------------------------

const templates: ReadonlyArray<{ readonly template: string; readonly pattern: RegExp }> = (() => {
  const paths = new Set<string>()
  HttpApi.reflect(ProfileApi.ProfileApi, {
    onGroup: () => undefined,
    onEndpoint: ({ endpoint }) => {
      paths.add(endpoint.path)
    }
  })
  return [...paths]
    .sort((a, b) => b.length - a.length)
    .map((template) => ({
      template,
      pattern: new RegExp(
        `^${template.split("/").map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("/")}/?$`
      )
    }))
})()

/** The contract path a URL or path belongs to (`/data/core/ups/config/mergePolicies/:mergePolicyId`), or `other`. */
export const endpointOf = (url: string): string => {
  const path = url.replace(/^[a-z]+:\/\/[^/]+/i, "").split("?", 1)[0]!
  for (const { pattern, template } of templates) if (pattern.test(path)) return template
  return "other"
}

// ---------------------------------------------------------------------------
// Tracing upstream request ids back to the proxy request
// ---------------------------------------------------------------------------

/** Filled while a proxy request runs: the `x-request-id`s sent upstream (every attempt). */
export interface UpstreamTrace {
  readonly requestIds: Array<string>
}

export const currentTrace: FiberRef.FiberRef<UpstreamTrace | undefined> = FiberRef.unsafeMake<UpstreamTrace | undefined>(
  undefined
)

/** The platform client, counting and timing every attempt and noting its request id. */
const instrumented = (metrics: ProxyMetrics) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      HttpClient.transform(client, (effect, request) =>
        Effect.gen(function* () {
          const trace = yield* FiberRef.get(currentTrace)
          const id = Headers.get(request.headers, "x-request-id")
          if (trace !== undefined && Option.isSome(id)) trace.requestIds.push(id.value)
          const labels = { endpoint: endpointOf(request.url), method: request.method }
          const end = metrics.upstreamDuration.startTimer(labels)
          const exit = yield* Effect.exit(effect)
          end()
          metrics.upstreamRequests.inc({ ...labels, status: Exit.isSuccess(exit) ? String(exit.value.status) : "0" })
          return yield* exit
        })
      )
    )
  )

// ---------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------

export interface UpstreamOptions {
  readonly credentials: Credentials
  /** The platform HttpClient (default: Node's undici client). */
  readonly httpClient: Layer.Layer<HttpClient.HttpClient>
  readonly metrics: ProxyMetrics
  readonly retryPolicy?: Retry.RetryPolicy | undefined
  /**
   * How long a call may keep retrying (ms from its start): with it, transient
   * failures are retried (never sooner than `Retry-After`) while the wait ends
   * before then, instead of `retryPolicy.maxAttempts` times. main.ts sets it
   * just under `--timeout`.
   */
  readonly retryDeadlineMs?: number | undefined
  /** Batching window of profile lookups (default 5 ms). */
  readonly batchWindow?: Duration.DurationInput | undefined
  /** Identities per `POST /access/entities` (default 100). */
  readonly maxBatchSize?: number | undefined
  /** How long lookup answers are cached, ms (default 2000; 0: single-flight only). */
  readonly cacheTtlMs?: number | undefined
  /** How long a cached answer may be served when upstream fails (stale-if-error), ms (default 0: never). */
  readonly staleIfErrorMs?: number | undefined
  /** Shared state (Redis or this process); default: this process. */
  readonly shared?: SharedState | undefined
  readonly breaker?: BreakerOptions | undefined
  /** After a failed token refresh, IMS is not asked again for this long. */
  readonly tokenRetryAfterFailure?: Duration.DurationInput | undefined
  readonly logLevel?: LogLevel.LogLevel | undefined
  /** A tracing layer (OpenTelemetry, tracing.ts); none: no spans are made at all. */
  readonly tracing?: Layer.Layer<never> | undefined
  /**
   * Pass-through's first attempt on an undici `Pool` of its own (keep-alive,
   * no Effect run) whenever it can: tracing off, a token at hand, the gate
   * open, the breaker closed, the budget granted. The core's `forward` takes
   * over only when that answer needs a 401 refresh or a retry. Off: every
   * attempt goes through `httpClient` (tests with a fake client).
   */
  readonly pool?: boolean | undefined
}

/** Where a route's call runs: the sandbox (already checked against the caller), its signal, its trace. */
export interface CallContext {
  readonly sandbox: string
  readonly signal: AbortSignal
  readonly trace: UpstreamTrace
  /** The caller's key name (the upstream budget's fairness). */
  readonly caller?: string | undefined
  /** The caller request's span, parent of the upstream spans. */
  readonly span?: Tracer.AnySpan | undefined
}

export interface ForwardRequest {
  readonly method: string
  /** Path (already checked) and query string, as sent upstream: `/data/core/ups/…?…`. */
  readonly pathAndQuery: string
  /** Caller headers allowed through (no credentials, no hop-by-hop). */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array | undefined
}

export interface ForwardResponse {
  readonly status: number
  readonly headers: Headers.Headers
  /**
   * Null for HEAD, 204, 205, 304; the bytes when the answer said it is small
   * (`content-length` up to 256 KiB); else streamed from upstream. Not yet scrubbed.
   */
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null
  readonly requestId: string
}

export interface LookupRequest {
  readonly identity: Identity.Identity
  readonly fields?: ReadonlyArray<string> | undefined
  readonly mergePolicyId?: string | undefined
  readonly withCA?: boolean | undefined
}

export interface EventsRequest {
  readonly identity: Identity.Identity
  readonly fields?: ReadonlyArray<string> | undefined
  readonly mergePolicyId?: string | undefined
  readonly startTime?: number | undefined
  readonly endTime?: number | undefined
  readonly limit?: number | undefined
  readonly orderby?: "+timestamp" | "-timestamp" | undefined
  readonly property?: ReadonlyArray<string> | undefined
  /** Continuation cursor (`_page.next` of the previous page). */
  readonly start?: string | undefined
}

export interface Readiness {
  readonly ready: boolean
  /** True when something is impaired but requests are still answered (Redis away, circuit open). */
  readonly degraded: boolean
  readonly upstream: { readonly kind: string; readonly ok: boolean; readonly detail: string }
  readonly token: { readonly ok: boolean; readonly state: Token.TokenState; readonly detail?: string }
  readonly sharedState: SharedHealth
  readonly circuit: { readonly state: string; readonly recentCalls: number; readonly recentFailures: number }
}

export interface Upstream {
  readonly kind: "local" | "aep"
  /** The sandbox used when a caller names none and its key allows any. */
  readonly defaultSandbox: string
  readonly forward: (request: ForwardRequest, context: CallContext) => Promise<ForwardResponse>
  readonly lookup: (request: LookupRequest, context: CallContext) => Promise<CacheAnswer<Entity.ProfileEntity> & { readonly profile: Entity.ProfileEntity }>
  /**
   * The profile `lookup` would answer as a fresh cache hit, without counting
   * it or asking upstream (undefined otherwise): the cache-hit lane's check.
   */
  readonly cachedProfile: (request: LookupRequest, sandbox: string) => Promise<Entity.ProfileEntity | undefined>
  readonly events: (request: EventsRequest, context: CallContext) => Promise<Entity.EventPage>
  /** Forget cached lookups on every replica (after a write or an entity delete); resolves once done. */
  readonly invalidate: () => Promise<void>
  readonly readiness: () => Promise<Readiness>
  readonly shared: SharedState
  readonly breaker: CircuitBreaker
  /** Whether spans are made (an OTLP endpoint is configured). */
  readonly tracing: boolean
  /** A span (child of `parent`), when tracing is on; `end` closes it. */
  readonly startSpan: (name: string, parent: Tracer.AnySpan | undefined, attributes?: Record<string, unknown>) => Promise<RequestSpan | undefined>
  readonly dispose: () => Promise<void>
}

export interface RequestSpan {
  readonly span: Tracer.Span
  readonly end: (attributes?: Record<string, unknown>, failure?: unknown) => void
}

/** Epoch nanoseconds, the clock Effect's spans use. */
const nanos = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6))

const BUFFERED_BODY_BYTES = 256 * 1024

const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.byteLength, 0))
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.byteLength
  }
  return out
}

/** Our trace context never goes to Adobe: no traceparent, no b3, whether tracing is on or not. */
const withoutPropagation = Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, HttpClient.withTracerPropagation(false)))

/** The status an upstream failure stands for when it is the upstream's fault (stale-if-error, retries of joiners). */
export const upstreamFault = (error: unknown): number | undefined => {
  if (!ProfileError.isProfileError(error)) return undefined
  if (error._tag === "TransportError") return 0
  return ProfileError.isTransient(error) ? error.status : undefined
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(new RequestAborted())
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(new RequestAborted())
    }
    signal.addEventListener("abort", onAbort, { once: true })
  })

export const make = (options: UpstreamOptions): Upstream => {
  const { credentials, metrics } = options
  for (const secret of credentials.secrets ?? []) scrubber.add(Redacted.value(secret))
  const shared = options.shared ?? makeSharedState()
  const breaker = new CircuitBreaker(options.breaker)
  const circuitValue = { closed: 0, "half-open": 1, open: 2 } as const
  metrics.circuitState.set(0)
  breaker.onChange = (state) => {
    metrics.circuitState.set(circuitValue[state])
    Log.write({ level: state === "open" ? "warn" : "info", msg: `upstream circuit ${state}` })
  }
  const HttpLive = withoutPropagation.pipe(
    Layer.provide(guarded({ shared, breaker, metrics, endpointOf, platformUrl: credentials.settings.platformUrl })),
    Layer.provide(instrumented(metrics)),
    Layer.provide(options.httpClient)
  )
  const Base = Layer.mergeAll(
    HttpLive,
    Platform.layer(credentials.settings),
    Layer.succeed(Retry.CurrentRetryPolicy, options.retryPolicy ?? Retry.defaultPolicy),
    Logger.minimumLogLevel(options.logLevel ?? LogLevel.Info),
    Log.layer,
    // Without an exporter, spans (and the work of making them) cost more CPU than the forwarding itself.
    options.tracing ?? Layer.setTracerEnabled(false)
  )
  const TokenLive = Token.layer({ retryAfterFailure: options.tokenRetryAfterFailure }).pipe(
    Layer.provide(credentials.token),
    Layer.provide(Base)
  )
  const Live = ProfileLookup.layer({ window: options.batchWindow ?? "5 millis", maxBatchSize: options.maxBatchSize }).pipe(
    Layer.provideMerge(ProfileClient.layer),
    Layer.provideMerge(TokenLive),
    Layer.provideMerge(Base)
  )
  const runtime = ManagedRuntime.make(Live)
  const LOOKUP_ENDPOINT = "/data/core/ups/access/entities"
  const cache = new LookupCache<Entity.ProfileEntity>(shared, {
    ttlMs: options.cacheTtlMs ?? 2000,
    staleMs: options.staleIfErrorMs ?? 0,
    held: () => (shared.gateOf(LOOKUP_ENDPOINT) > Date.now() ? 429 : breaker.state === "open" ? 503 : undefined)
  })

  /** Runs `effect` with `signal`; fails with the `ProfileError` itself, or `RequestAborted`. */
  const run = async <A>(
    effect: Effect.Effect<A, ProfileError.ProfileError, Layer.Layer.Success<typeof Live>>,
    signal?: AbortSignal
  ): Promise<A> => {
    const exit = await runtime.runPromiseExit(effect, signal === undefined ? {} : { signal })
    if (Exit.isSuccess(exit)) return exit.value
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) throw failure.value
    if (Cause.isInterruptedOnly(exit.cause)) throw new RequestAborted()
    throw Cause.squash(exit.cause)
  }

  const deadlined = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    options.retryDeadlineMs === undefined ? effect : Retry.withDeadline(options.retryDeadlineMs)(effect)

  const traced = <A, E, R>(effect: Effect.Effect<A, E, R>, context: CallContext) =>
    effect.pipe(
      deadlined,
      Effect.locally(currentTrace, context.trace),
      Effect.locally(currentCaller, context.caller ?? "anonymous"),
      Platform.withSandbox(context.sandbox),
      (traced) => (context.span === undefined ? traced : Effect.withParentSpan(traced, context.span))
    )

  // -- pass-through -----------------------------------------------------------

  const EMPTY = new Set([204, 205, 304])

  /** The core's pass-through on the runtime (every attempt through the guarded client), from `first` when given. */
  const forwardInCore = async (request: ForwardRequest, context: CallContext, first?: Forward.FirstAttempt, started?: number): Promise<ForwardResponse> => {
    // One run per forwarded request, the small answer's body read in it: a second run to collect it cost more than the bytes.
    const effect = Effect.flatMap(ProfileClient.ProfileClient, (client) => client.forward(first === undefined ? request : { ...request, first })).pipe(
      Effect.withSpan("upstream.forward", { attributes: { "http.request.method": request.method } }),
      Effect.flatMap((answer): Effect.Effect<{ readonly answer: typeof answer; readonly bytes: Uint8Array | null | undefined }, ProfileError.ProfileError> => {
        if (answer.status === 401 || request.method === "HEAD" || EMPTY.has(answer.status)) {
          // Nobody reads these bodies: drained without holding the answer back.
          return Effect.as(Effect.forkDaemon(Stream.runDrain(answer.body).pipe(Effect.ignore)), { answer, bytes: null })
        }
        const length = Number(Option.getOrUndefined(Headers.get(answer.headers, "content-length")) ?? NaN)
        // Small answers (most of the Profile API's) in one piece: a web stream per answer costs more CPU than the bytes.
        if (length <= BUFFERED_BODY_BYTES) {
          return Effect.map(Stream.runCollect(answer.body), (chunks) => ({ answer, bytes: concat(Chunk.toReadonlyArray(chunks)) }))
        }
        return Effect.succeed({ answer, bytes: undefined })
      })
    )
    const handed = started === undefined || options.retryDeadlineMs === undefined
      ? traced(effect, context)
      // The deadline counts from the pool's first attempt, not from the hand-over.
      : traced(Effect.provideService(effect, Retry.CurrentDeadline, started + options.retryDeadlineMs), context)
    const { answer, bytes } = await run(handed, context.signal)
    context.trace.requestIds.push(answer.requestId)
    return answerOf(request, answer, bytes)
  }

  const answerOf = async (
    request: ForwardRequest,
    answer: { readonly status: number; readonly headers: Headers.Headers; readonly requestId: string; readonly body: Stream.Stream<Uint8Array, ProfileError.ProfileError> },
    bytes: Uint8Array | null | undefined
  ): Promise<ForwardResponse> => {
    if (answer.status === 401) {
      // Adobe refused the proxy's own token even after a fresh one: not the caller's fault (their key was fine).
      throw new ProfileError.Unauthorized({
        status: 401,
        message: `${request.method} ${request.pathAndQuery.split("?", 1)[0]}: Platform rejected the proxy's access token`,
        requestId: answer.requestId
      })
    }
    if (bytes !== undefined) return { status: answer.status, headers: answer.headers, body: bytes, requestId: answer.requestId }
    const body = Stream.toReadableStreamRuntime(answer.body, await runtime.runtime())
    return { status: answer.status, headers: answer.headers, body, requestId: answer.requestId }
  }

  // The pool's first attempt: what the guarded, instrumented client does for one attempt, without an Effect run.
  const platform = new URL(credentials.settings.platformUrl)
  const pathPrefix = platform.pathname.replace(/\/+$/, "")
  const pool = options.pool === true ? new Pool(platform.origin, { pipelining: 1 }) : undefined
  const readToken = Effect.flatMap(AccessToken.AccessToken, (token) => token.get)

  /** The token when `AccessToken` has one without waiting (no refresh due); else undefined. */
  const tokenAtHand = (): Redacted.Redacted<string> | undefined => {
    try {
      // A refresh that is due goes on in the background; the core's path then waits for it.
      return runtime.runSync(readToken)
    } catch {
      return undefined
    }
  }

  const forward = async (request: ForwardRequest, context: CallContext): Promise<ForwardResponse> => {
    if (pool === undefined || options.tracing !== undefined || context.span !== undefined) return forwardInCore(request, context)
    const started = Date.now()
    const url = credentials.settings.platformUrl + request.pathAndQuery
    const endpoint = endpointOf(url)
    // A held endpoint, a breaker not closed: the guard's waits, probes and answers, on the core's path.
    if (shared.gateOf(endpoint) > started || breaker.state !== "closed") return forwardInCore(request, context)
    const bearer = tokenAtHand()
    if (bearer === undefined) return forwardInCore(request, context)
    const grant = await shared.takeBudget(context.caller ?? "anonymous")
    if (!grant.ok) return forwardInCore(request, context)
    if (context.signal.aborted) throw new RequestAborted()

    const requestId = crypto.randomUUID()
    const headers: Record<string, string> = {
      ...request.headers,
      authorization: `Bearer ${Redacted.value(bearer)}`,
      "x-api-key": credentials.settings.apiKey,
      "x-gw-ims-org-id": credentials.settings.orgId,
      "x-sandbox-name": context.sandbox,
      "x-request-id": requestId
    }
    if (request.body !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/octet-stream"
    const labels = { endpoint, method: request.method }
    const end = metrics.upstreamDuration.startTimer(labels)
    context.trace.requestIds.push(requestId)
    let answer: Awaited<ReturnType<typeof pool.request>>
    try {
      answer = await pool.request({
        origin: platform.origin,
        path: pathPrefix + request.pathAndQuery,
        method: request.method as "GET",
        headers,
        body: request.body === undefined ? null : request.body,
        signal: context.signal
      })
    } catch (error) {
      end()
      if (context.signal.aborted) {
        metrics.upstreamRequests.inc({ ...labels, status: "0" })
        throw new RequestAborted()
      }
      metrics.upstreamRequests.inc({ ...labels, status: "0" })
      breaker.record(true, false)
      const message = error instanceof Error ? error.message : String(error)
      return forwardInCore(request, context, { _tag: "NoAnswer", message, requestId }, started)
    }
    end()
    const status = answer.statusCode
    metrics.upstreamRequests.inc({ ...labels, status: String(status) })
    breaker.record(status >= 500, false)
    const answerHeaders = Headers.fromInput(answer.headers as Record<string, string | ReadonlyArray<string>>)
    const at = Date.now()
    if (status === 429) shared.closeGate(endpoint, at + retryAfterMsOf({ headers: answerHeaders }, at))
    const route = `${request.method} ${request.pathAndQuery.split("?", 1)[0]}`
    const readAll = async (): Promise<Uint8Array> => {
      try {
        return new Uint8Array(await answer.body.arrayBuffer())
      } catch (error) {
        if (context.signal.aborted) throw new RequestAborted()
        throw new ProfileError.TransportError({
          status,
          message: `${route}: answer cut short (${error instanceof Error ? error.message : String(error)})`,
          requestId
        })
      }
    }
    // A 401 (refresh once) or a transient answer to a request that may be repeated: the core decides from here.
    if (status === 401 || (status >= 400 && Retry.isIdempotent(request.method, url) && ProfileError.isTransient(Forward.errorOf({ status, headers: answerHeaders }, at, route)))) {
      const body = await readAll()
      return forwardInCore(request, context, { _tag: "Answer", status, headers: answerHeaders, body, requestId, bearer }, started)
    }
    context.trace.requestIds.push(requestId)
    if (request.method === "HEAD" || EMPTY.has(status)) {
      answer.body.dump().catch(() => undefined)
      return { status, headers: answerHeaders, body: null, requestId }
    }
    const length = Number(answer.headers["content-length"] ?? NaN)
    if (length <= BUFFERED_BODY_BYTES) return { status, headers: answerHeaders, body: await readAll(), requestId }
    return { status, headers: answerHeaders, body: Readable.toWeb(answer.body) as ReadableStream<Uint8Array>, requestId }
  }

  // -- spans ----------------------------------------------------------------------

  const startSpan: Upstream["startSpan"] = async (name, parent, attributes = {}) => {
    if (options.tracing === undefined) return undefined
    const span = await runtime.runPromise(
      Effect.makeSpan(name, { attributes, kind: name === "proxy.request" ? "server" : "internal", ...(parent === undefined ? {} : { parent }) })
    )
    return {
      span,
      end: (more = {}, failure) => {
        for (const [key, value] of Object.entries(more)) span.attribute(key, value)
        span.end(nanos(), failure === undefined ? Exit.void : Exit.die(failure))
      }
    }
  }

  // -- lookups ------------------------------------------------------------------

  const lookupKey = (request: LookupRequest, sandbox: string) =>
    [
      sandbox,
      request.identity.namespace?.toLowerCase() ?? "",
      request.identity.id,
      request.mergePolicyId ?? "",
      request.fields?.join(",") ?? "",
      request.withCA === undefined ? "" : String(request.withCA)
    ].join("\u0000")

  const lookup: Upstream["lookup"] = async (request, context) => {
    const identity = request.identity
    const key = lookupKey(request, context.sandbox)
    const compute = () =>
      // Detached from the caller (no signal): identical lookups share this one.
      run(
        Effect.flatMap(ProfileLookup.ProfileLookup, (lookups) =>
          lookups.lookup(identity, { fields: request.fields, mergePolicyId: request.mergePolicyId, withCA: request.withCA })
        ).pipe(
          Effect.withSpan("lookup.batch"),
          deadlined,
          Platform.withSandbox(context.sandbox),
          (effect) => (context.span === undefined ? effect : Effect.withParentSpan(effect, context.span))
        )
      )
    const started = Date.now()
    for (let attempt = 1; ; attempt++) {
      const span = await startSpan("lookup.cache", context.span)
      try {
        const answer = await cache.get(key, compute, upstreamFault, context.signal)
        metrics.lookupCache.inc({ result: answer.result })
        span?.end({ "rtcp.cache.result": answer.result })
        return { ...answer, profile: answer.value }
      } catch (error) {
        span?.end({}, error)
        // A caller that joined a shared lookup late still has time of its own: it asks again
        // (a new shared lookup) while its deadline allows, as the core's retry would.
        const status = upstreamFault(error)
        if (status === undefined || options.retryDeadlineMs === undefined) throw error
        const hint = ProfileError.isProfileError(error) && "retryAfter" in error && error.retryAfter !== undefined ? Duration.toMillis(error.retryAfter) : 0
        const wait = hint > 0 ? hint : Math.min(1000, 50 * 2 ** attempt) * Math.random()
        if (Date.now() + wait >= started + options.retryDeadlineMs) throw error
        await sleep(wait, context.signal)
      }
    }
  }

  // -- events -------------------------------------------------------------------

  const eventsEffect = (request: EventsRequest) =>
    Effect.flatMap(ProfileClient.ProfileClient, (client) =>
      client.raw.entities
        .get({
          urlParams: {
            "schema.name": "_xdm.context.experienceevent",
            "relatedSchema.name": "_xdm.context.profile",
            relatedEntityId: request.identity.id,
            ...(request.identity.namespace === undefined ? {} : { relatedEntityIdNS: request.identity.namespace }),
            ...(request.fields && request.fields.length > 0 ? { fields: request.fields.join(",") } : {}),
            ...(request.mergePolicyId === undefined ? {} : { mergePolicyId: request.mergePolicyId }),
            ...(request.startTime === undefined ? {} : { startTime: request.startTime }),
            ...(request.endTime === undefined ? {} : { endTime: request.endTime }),
            ...(request.limit === undefined ? {} : { limit: request.limit }),
            ...(request.orderby === undefined ? {} : { orderby: request.orderby }),
            ...(request.property && request.property.length > 0 ? { property: request.property } : {}),
            ...(request.start === undefined ? {} : { start: request.start })
          }
        })
        .pipe(
          Effect.mapError((error) =>
            ProfileError.isProfileError(error)
              ? error
              : new ProfileError.ResponseDecodeError({ status: 502, message: `events: ${String((error as { message?: unknown }).message ?? error)}` })
          ),
          Effect.flatMap((answer) =>
            "children" in answer && "_page" in answer
              ? Effect.succeed(answer as Entity.EventPage)
              : Effect.fail(new ProfileError.ResponseDecodeError({ status: 502, message: "expected an event page, got a profile map" }))
          ),
          Effect.withSpan("upstream.events")
        )
    )

  // -- readiness ------------------------------------------------------------------

  let readinessCache: { readonly at: number; readonly value: Promise<Readiness> } | undefined

  const describeFailure = (error: unknown) =>
    scrubber.text(ProfileError.isProfileError(error) ? error.message : error instanceof RequestAborted ? "no answer within 5 s" : String(error))

  const checkReadiness = async (): Promise<Readiness> => {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), 5000)
    const guard = await runtime.runPromise(Token.TokenGuard)
    const sharedState = shared.health()
    const snapshot = breaker.snapshot()
    const circuit = { state: snapshot.state, recentCalls: snapshot.recentCalls, recentFailures: snapshot.recentFailures }
    const degraded = !sharedState.ok || snapshot.state !== "closed"
    let token: Readiness["token"]
    try {
      await run(Effect.flatMap(AccessToken.AccessToken, (t) => t.get), controller.signal)
      const status = guard.status()
      token =
        status.state === "stale"
          ? { ok: true, state: status.state, detail: scrubber.text(`refresh failing (${status.lastError}); using the current token`) }
          : { ok: true, state: status.state }
    } catch (error) {
      clearTimeout(timer)
      return {
        ready: false,
        degraded,
        token: { ok: false, state: guard.status().state, detail: describeFailure(error) },
        upstream: { kind: credentials.kind, ok: false, detail: "not tried without a token" },
        sharedState,
        circuit
      }
    }
    let upstream: Readiness["upstream"]
    try {
      const answer = await run(
        Effect.flatMap(ProfileClient.ProfileClient, (client) =>
          client.forward({ method: "GET", pathAndQuery: "/data/core/ups/config/mergePolicies?limit=1", headers: { accept: "application/json" } })
        ).pipe(
          Effect.tap((answer) => Stream.runDrain(answer.body).pipe(Effect.ignore)),
          Effect.provideService(Retry.CurrentRetryPolicy, Retry.none),
          Platform.withSandbox(credentials.settings.sandbox)
        ),
        controller.signal
      )
      const hold = Option.getOrUndefined(Headers.get(answer.headers, HOLD_HEADER))
      upstream = {
        kind: credentials.kind,
        ok: answer.status < 300 || hold === "upstream-gate" || hold === "upstream-budget",
        detail: hold !== undefined ? `not asked: ${hold}` : `answered ${answer.status}`
      }
    } catch (error) {
      upstream = { kind: credentials.kind, ok: false, detail: describeFailure(error) }
    } finally {
      clearTimeout(timer)
    }
    return { ready: token.ok && upstream.ok, degraded, token, upstream, sharedState, circuit }
  }

  return {
    kind: credentials.kind,
    defaultSandbox: credentials.settings.sandbox,
    forward,
    lookup,
    cachedProfile: (request, sandbox) => cache.fresh(lookupKey(request, sandbox)),
    events: (request, context) => run(traced(eventsEffect(request), context), context.signal),
    invalidate: () => cache.invalidate(),
    readiness: () => {
      const now = Date.now()
      // Probes may come often; one check per second is enough.
      if (readinessCache === undefined || now - readinessCache.at > 1000) {
        readinessCache = { at: now, value: checkReadiness() }
      }
      return readinessCache.value
    },
    shared,
    breaker,
    tracing: options.tracing !== undefined,
    startSpan,
    dispose: async () => {
      await pool?.close()
      await runtime.dispose()
      if (options.shared === undefined) await shared.close()
    }
  }
}
