/**
 * The upstream: one `ManagedRuntime` holding the core's `ProfileClient`,
 * its `ProfileLookup` batcher, the auth layer (guarded, see token.ts), the
 * retry policy and the platform `HttpClient`. Routes call the methods
 * below; each runs an effect on the runtime with the request's
 * `AbortSignal`, so a client that disconnects (or a timeout) interrupts the
 * fiber and with it the upstream call.
 *
 * Profile lookups are the exception: identical lookups from many callers
 * share one piece of work (cache.ts), so one caller leaving stops its own
 * wait, not the shared call.
 */
import { Headers, HttpApi, HttpClient, HttpClientRequest } from "@effect/platform"
import {
  AccessToken,
  AepConfig,
  type Entity,
  type Identity,
  Platform,
  ProfileApi,
  ProfileClient,
  ProfileError,
  ProfileLookup,
  Retry
} from "@rtcp/core"
import {
  Cause,
  Clock,
  Duration,
  Effect,
  Exit,
  FiberRef,
  Layer,
  Logger,
  LogLevel,
  ManagedRuntime,
  Option,
  Redacted
} from "effect"
import { randomUUID } from "node:crypto"
import { LookupCache, type CacheResult } from "./cache.js"
import { RequestAborted } from "./errors.js"
import * as Log from "./log.js"
import type { ProxyMetrics } from "./metrics.js"
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
}

/** The core's auth layer from `AEP_*` configuration (what `ProfileClient.layerConfig` builds). */
export const credentialsFromConfig = (config: AepConfig.AepConfig, platformUrl?: string): Credentials => ({
  settings: platformUrl === undefined ? config.settings : { ...config.settings, platformUrl },
  token: AccessToken.layerCredentials(config.credentials, config.settings.imsUrl),
  kind: "aep"
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
  kind: "local"
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
  /** Batching window of profile lookups (default 5 ms). */
  readonly batchWindow?: Duration.DurationInput | undefined
  /** Identities per `POST /access/entities` (default 100). */
  readonly maxBatchSize?: number | undefined
  /** How long lookup answers are cached, ms (default 2000; 0: single-flight only). */
  readonly cacheTtlMs?: number | undefined
  readonly cacheCapacity?: number | undefined
  /** After a failed token refresh, IMS is not asked again for this long. */
  readonly tokenRetryAfterFailure?: Duration.DurationInput | undefined
  readonly logLevel?: LogLevel.LogLevel | undefined
}

/** Where a route's call runs: the sandbox (already checked against the caller), its signal, its trace. */
export interface CallContext {
  readonly sandbox: string
  readonly signal: AbortSignal
  readonly trace: UpstreamTrace
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
  readonly body: Uint8Array
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
  readonly upstream: { readonly kind: string; readonly ok: boolean; readonly detail: string }
  readonly token: { readonly ok: boolean; readonly state: Token.TokenState; readonly detail?: string }
}

export interface Upstream {
  readonly kind: "local" | "aep"
  /** The sandbox used when a caller names none and its key allows any. */
  readonly defaultSandbox: string
  readonly forward: (request: ForwardRequest, context: CallContext) => Promise<ForwardResponse>
  readonly lookup: (
    request: LookupRequest,
    context: CallContext
  ) => Promise<{ readonly profile: Entity.ProfileEntity; readonly cache: CacheResult }>
  readonly events: (request: EventsRequest, context: CallContext) => Promise<Entity.EventPage>
  /** Forget cached lookups (after a write or an entity delete). */
  readonly invalidate: () => void
  readonly readiness: () => Promise<Readiness>
  readonly dispose: () => Promise<void>
}

const TRANSIENT = new Set([408, 429, 500, 502, 503, 504])

const parseBody = (bytes: Uint8Array): unknown => {
  const text = new TextDecoder().decode(bytes)
  if (text.trim() === "") return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

/**
 * An upstream that echoes request headers into a body (some gateways do in
 * their error pages) would hand the proxy's token to the caller: blank it.
 */
const withoutSecret = (body: Uint8Array, secret: string): Uint8Array => {
  if (secret.length < 8 || body.byteLength < secret.length) return body
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (bytes.indexOf(secret) === -1) return body
  return new TextEncoder().encode(bytes.toString("utf8").split(secret).join("[redacted]"))
}

/** Resolves with `promise`, or rejects with `RequestAborted` as soon as `signal` aborts. */
export const untilAborted = <A>(promise: Promise<A>, signal: AbortSignal): Promise<A> => {
  if (signal.aborted) return Promise.reject(new RequestAborted())
  return new Promise<A>((resolve, reject) => {
    const onAbort = () => reject(new RequestAborted())
    signal.addEventListener("abort", onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort)
        reject(error)
      }
    )
  })
}

export const make = (options: UpstreamOptions): Upstream => {
  const { credentials, metrics } = options
  const HttpLive = instrumented(metrics).pipe(Layer.provide(options.httpClient))
  const Base = Layer.mergeAll(
    HttpLive,
    Platform.layer(credentials.settings),
    Layer.succeed(Retry.CurrentRetryPolicy, options.retryPolicy ?? Retry.defaultPolicy),
    Logger.minimumLogLevel(options.logLevel ?? LogLevel.Info),
    Log.layer,
    // Nothing exports spans from the proxy; making them (and the trace headers
    // the HTTP client adds for them) cost more CPU than the forwarding itself.
    Layer.setTracerEnabled(false)
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
  const cache = new LookupCache<Entity.ProfileEntity>({
    ttlMs: options.cacheTtlMs ?? 2000,
    capacity: options.cacheCapacity
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

  const traced = <A, E, R>(effect: Effect.Effect<A, E, R>, context: CallContext) =>
    effect.pipe(Effect.locally(currentTrace, context.trace), Platform.withSandbox(context.sandbox))

  // -- pass-through -----------------------------------------------------------

  const forwardEffect = (request: ForwardRequest, sandbox: string) =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const token = yield* AccessToken.AccessToken
      const settings = yield* Platform.Platform
      const policy = yield* Retry.CurrentRetryPolicy
      const url = settings.platformUrl + request.pathAndQuery
      const route = `${request.method} ${request.pathAndQuery.split("?", 1)[0]}`
      // A transient answer fails the attempt (so the core's policy retries it)
      // but is kept: when attempts run out, it goes to the caller as Adobe sent it.
      const kept = new WeakMap<object, ForwardResponse>()

      const send = (bearer: Redacted.Redacted<string>) => {
        const requestId = randomUUID()
        let outgoing = HttpClientRequest.make(request.method as "GET")(url).pipe(
          HttpClientRequest.setHeaders({
            ...request.headers,
            authorization: `Bearer ${Redacted.value(bearer)}`,
            "x-api-key": settings.apiKey,
            "x-gw-ims-org-id": settings.orgId,
            "x-sandbox-name": sandbox,
            "x-request-id": requestId
          })
        )
        if (request.body !== undefined) {
          outgoing = HttpClientRequest.bodyUint8Array(outgoing, request.body, request.headers["content-type"])
        }
        const noAnswer = (error: { readonly message: string }) =>
          new ProfileError.TransportError({ status: 0, message: `${route}: no answer (${error.message})`, requestId })
        return client.execute(outgoing).pipe(
          Effect.flatMap((response) =>
            Effect.map(response.arrayBuffer, (bytes): ForwardResponse & { readonly requestId: string } => ({
              status: response.status,
              headers: response.headers,
              body: withoutSecret(new Uint8Array(bytes), Redacted.value(bearer)),
              requestId
            }))
          ),
          Effect.mapError(noAnswer)
        )
      }

      const attempt = Effect.gen(function* () {
        let bearer = yield* token.get
        let answer = yield* send(bearer)
        if (answer.status === 401 && (yield* token.invalidate(bearer))) {
          // The token expired early or was revoked: once more with a fresh one.
          bearer = yield* token.get
          answer = yield* send(bearer)
        }
        if (answer.status === 401) {
          return yield* Effect.fail(
            new ProfileError.Unauthorized({
              status: 401,
              message: `${route}: Platform rejected the proxy's access token`,
              body: parseBody(answer.body),
              requestId: answer.requestId
            })
          )
        }
        if (TRANSIENT.has(answer.status)) {
          const now = yield* Clock.currentTimeMillis
          const error = ProfileError.fromResponse({
            status: answer.status,
            body: parseBody(answer.body),
            requestId: answer.requestId,
            context: route,
            retryAfter: ProfileError.retryAfterFromHeader(Option.getOrUndefined(Headers.get(answer.headers, "retry-after")), now)
          })
          kept.set(error, answer)
          return yield* Effect.fail(error)
        }
        return answer as ForwardResponse
      })

      return yield* (Retry.isIdempotent(request.method, url) ? Retry.retrying(attempt, policy) : attempt).pipe(
        Effect.catchIf(
          (error) => kept.has(error),
          (error) => Effect.succeed(kept.get(error)!)
        )
      )
    })

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
          )
        )
    )

  // -- readiness ------------------------------------------------------------------

  let readinessCache: { readonly at: number; readonly value: Promise<Readiness> } | undefined

  const checkReadiness = async (): Promise<Readiness> => {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), 5000)
    const guard = await runtime.runPromise(Token.TokenGuard)
    let token: Readiness["token"]
    try {
      await run(Effect.flatMap(AccessToken.AccessToken, (t) => t.get), controller.signal)
      const status = guard.status()
      token =
        status.state === "stale"
          ? { ok: true, state: status.state, detail: `refresh failing (${status.lastError}); using the current token` }
          : { ok: true, state: status.state }
    } catch (error) {
      clearTimeout(timer)
      const detail = ProfileError.isProfileError(error) ? error.message : String(error)
      return {
        ready: false,
        token: { ok: false, state: guard.status().state, detail },
        upstream: { kind: credentials.kind, ok: false, detail: "not tried without a token" }
      }
    }
    let upstream: Readiness["upstream"]
    try {
      const answer = await run(
        forwardEffect(
          { method: "GET", pathAndQuery: "/data/core/ups/config/mergePolicies?limit=1", headers: { accept: "application/json" }, body: undefined },
          credentials.settings.sandbox
        ).pipe(Effect.provideService(Retry.CurrentRetryPolicy, Retry.none)),
        controller.signal
      )
      upstream =
        answer.status < 300
          ? { kind: credentials.kind, ok: true, detail: `answered ${answer.status}` }
          : { kind: credentials.kind, ok: false, detail: `answered ${answer.status}` }
    } catch (error) {
      upstream = {
        kind: credentials.kind,
        ok: false,
        detail: ProfileError.isProfileError(error) ? error.message : error instanceof RequestAborted ? "no answer within 5 s" : String(error)
      }
    } finally {
      clearTimeout(timer)
    }
    return { ready: token.ok && upstream.ok, token, upstream }
  }

  return {
    kind: credentials.kind,
    defaultSandbox: credentials.settings.sandbox,
    forward: (request, context) => run(traced(forwardEffect(request, context.sandbox), context), context.signal),
    lookup: async (request, context) => {
      const identity = request.identity
      const key = [
        context.sandbox,
        identity.namespace?.toLowerCase() ?? "",
        identity.id,
        request.mergePolicyId ?? "",
        request.fields?.join(",") ?? "",
        request.withCA === undefined ? "" : String(request.withCA)
      ].join("\u0000")
      const { promise, result } = cache.get(key, () =>
        // Detached from the caller (no signal): identical lookups share this one.
        run(
          Effect.flatMap(ProfileLookup.ProfileLookup, (lookups) =>
            lookups.lookup(identity, { fields: request.fields, mergePolicyId: request.mergePolicyId, withCA: request.withCA })
          ).pipe(Platform.withSandbox(context.sandbox))
        )
      )
      metrics.lookupCache.inc({ result })
      const profile = await untilAborted(promise, context.signal)
      return { profile, cache: result }
    },
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
    dispose: () => runtime.dispose()
  }
}
