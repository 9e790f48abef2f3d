/**
 * A scripted upstream for in-process tests: an `HttpClient` that answers
 * from a function, records every request (headers, body) and notes the
 * requests whose fiber was interrupted (cancellation tests).
 */
import { HttpClient, HttpClientError, type HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { AccessToken } from "@rtcp/core"
import { Effect, Layer, Redacted } from "effect"
import { createApp } from "../../src/app.js"
import type { AuditLine } from "../../src/middleware/audit.js"
import { hashKey, staticKeyStore, type KeyEntry } from "../../src/keys.js"
import { makeMetrics } from "../../src/metrics.js"
import * as Upstream from "../../src/upstream.js"

export interface Recorded {
  readonly method: string
  readonly url: URL
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
}

export type Reply =
  | { readonly status: number; readonly body?: string | undefined; readonly headers?: Readonly<Record<string, string>> }
  | { readonly drop: string }

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  body: JSON.stringify(body),
  headers: { "content-type": "application/json", ...headers }
})

export type Responder = (request: Recorded, signal: AbortSignal) => Reply | Promise<Reply>

/** A promise that never settles unless `signal` aborts (then it rejects). */
export const hang = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }))

const bodyText = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
  const body = request.body
  if (body._tag === "Uint8Array") return new TextDecoder().decode(body.body)
  if (body._tag === "Raw") return typeof body.body === "string" ? body.body : String(body.body)
  return undefined
}

export const fakeHttpClient = (respond: Responder) => {
  const requests: Array<Recorded> = []
  const interrupted: Array<Recorded> = []
  const client = HttpClient.make((request, url, signal) =>
    Effect.tryPromise({
      try: async () => {
        const recorded: Recorded = { method: request.method, url, path: url.pathname, headers: { ...request.headers }, body: bodyText(request) }
        requests.push(recorded)
        signal.addEventListener("abort", () => interrupted.push(recorded), { once: true })
        const reply = await respond(recorded, signal)
        if ("drop" in reply) throw new Error(reply.drop)
        const nullBody = reply.status === 204 || reply.status === 304
        return HttpClientResponse.fromWeb(request, new Response(nullBody ? null : (reply.body ?? null), { status: reply.status, headers: reply.headers ?? {} }))
      },
      catch: (cause) => new HttpClientError.RequestError({ request, reason: "Transport", cause })
    })
  )
  return { requests, interrupted, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

export const ADOBE_TOKEN = "adobe-token-must-never-leak-0123456789"

export const settings = {
  platformUrl: "http://aep.test",
  imsUrl: "http://ims.test",
  orgId: "ORG@AdobeOrg",
  apiKey: "adobe-client-id",
  sandbox: "prod"
}

/** Test callers: the key itself and its entry. */
export const callers = {
  writer: { key: "writer-key-0000000000000000000000", entry: { name: "writer", sandboxes: ["*"], access: "write" } },
  reader: { key: "reader-key-0000000000000000000000", entry: { name: "reader", sandboxes: ["prod"], access: "read" } },
  dev: { key: "dev-key-000000000000000000000000000", entry: { name: "dev-only", sandboxes: ["dev"], access: "write" } },
  limited: {
    key: "limited-key-00000000000000000000000",
    entry: { name: "limited", sandboxes: ["prod"], access: "read", rateLimit: { points: 3, duration: 60 } }
  }
} as const

export const keyFile = {
  keys: Object.values(callers).map(({ entry, key }) => ({ ...entry, sha256: hashKey(key) }) as KeyEntry)
}

export const fastRetries = { maxAttempts: 3, baseDelay: "5 millis", maxDelay: "20 millis", maxRetryAfter: "3 seconds" } as const

export interface TestProxyOptions {
  readonly timeoutMs?: number
  readonly maxBodyBytes?: number
  readonly cacheTtlMs?: number
  readonly token?: Layer.Layer<AccessToken.AccessToken, never, HttpClient.HttpClient>
  readonly breaker?: Upstream.UpstreamOptions["breaker"]
}

/** The proxy app over a fake upstream, with the test keys and a collecting audit sink. */
export const fakeProxy = (respond: Responder, options: TestProxyOptions = {}) => {
  const fake = fakeHttpClient(respond)
  const metrics = makeMetrics()
  const audit: Array<AuditLine> = []
  const errors: Array<unknown> = []
  const upstream = Upstream.make({
    credentials: { settings, token: options.token ?? AccessToken.layerStatic(Redacted.make(ADOBE_TOKEN)), kind: "aep" },
    httpClient: fake.layer,
    metrics,
    retryPolicy: fastRetries,
    // Fault tests fail on purpose, one after the other; the breaker has tests of its own.
    breaker: options.breaker ?? { consecutive: 1_000_000, minCalls: 1_000_000 },
    cacheTtlMs: options.cacheTtlMs ?? 60_000,
    batchWindow: "1 millis"
  })
  const app = createApp({
    upstream,
    keys: staticKeyStore(keyFile),
    metrics,
    auditSink: (line) => audit.push(line),
    logError: (entry) => errors.push(entry),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes })
  })
  const request = (path: string, init: RequestInit & { readonly as?: keyof typeof callers | null } = {}) => {
    const { as = "writer", ...rest } = init
    const headers = new Headers(rest.headers)
    if (as !== null && !headers.has("x-api-key") && !headers.has("authorization")) headers.set("x-api-key", callers[as].key)
    return app.request(path, { ...rest, headers })
  }
  return { app, fake, metrics, audit, errors, upstream, request, dispose: () => upstream.dispose() }
}
