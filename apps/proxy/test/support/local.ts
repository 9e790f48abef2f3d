/**
 * The proxy in front of a real local profile service (`@rtcp/local-platform`
 * on a loopback port, in-memory store, demo data), plus direct access to
 * that service for comparison and for driving its fault injection.
 */
import { NodeHttpClient } from "@effect/platform-node"
import type { AccessToken } from "@rtcp/core"
import type { HttpClient } from "@effect/platform"
import type { Layer } from "effect"
import { createApp } from "../../src/app.js"
import { staticKeyStore } from "../../src/keys.js"
import * as Local from "../../src/local.js"
import type { AuditLine } from "../../src/middleware/audit.js"
import { makeMetrics } from "../../src/metrics.js"
import { startProxy } from "../../src/server.js"
import * as Upstream from "../../src/upstream.js"
import { callers, fastRetries, keyFile } from "./fake.js"

export const demo = Local.demoClient

/** Talks to the local service directly, as Adobe would be called without the proxy. */
export const directClient = (url: string) => {
  let token: string | undefined
  const fetchToken = async () => {
    const response = await fetch(`${url}/ims/token/v3`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `grant_type=client_credentials&client_id=${demo.clientId}&client_secret=rtcp-local-secret`
    })
    token = ((await response.json()) as { access_token: string }).access_token
    return token
  }
  const request = async (path: string, init: RequestInit & { readonly sandbox?: string } = {}) => {
    const { sandbox = "prod", ...rest } = init
    const headers = new Headers(rest.headers)
    headers.set("authorization", `Bearer ${token ?? (await fetchToken())}`)
    headers.set("x-api-key", demo.clientId)
    headers.set("x-gw-ims-org-id", demo.orgId)
    headers.set("x-sandbox-name", sandbox)
    const response = await fetch(`${url}${path}`, { ...rest, headers })
    if (response.status === 401) {
      token = undefined
      headers.set("authorization", `Bearer ${await fetchToken()}`)
      return fetch(`${url}${path}`, { ...rest, headers })
    }
    return response
  }
  return { request, token: () => token ?? fetchToken() }
}

export const setFaults = async (url: string, rules: ReadonlyArray<string>) => {
  const response = await fetch(`${url}/rtcp/admin/faults`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ rules })
  })
  if (!response.ok) throw new Error(`faults not set: ${response.status} ${await response.text()}`)
}

export const faultCounters = async (url: string) =>
  ((await (await fetch(`${url}/rtcp/admin/faults`)).json()) as { rules: Array<{ text: string; matched: number; fired: number }> }).rules

export interface LocalProxyOptions {
  readonly profiles?: number
  readonly tokenTtlSeconds?: number
  readonly timeoutMs?: number
  readonly cacheTtlMs?: number
  readonly token?: (url: string) => Layer.Layer<AccessToken.AccessToken, never, HttpClient.HttpClient>
}

/** A local service, the proxy app in front of it (in-process), and helpers. */
export const localProxy = async (options: LocalProxyOptions = {}) => {
  const platform = await Local.start({ profiles: options.profiles ?? 25, admin: true, tokenTtlSeconds: options.tokenTtlSeconds })
  const metrics = makeMetrics()
  const audit: Array<AuditLine> = []
  const errors: Array<unknown> = []
  const credentials = Upstream.credentialsForLocal(platform.url, demo)
  const upstream = Upstream.make({
    credentials: options.token === undefined ? credentials : { ...credentials, token: options.token(platform.url) },
    httpClient: NodeHttpClient.layerUndici,
    metrics,
    retryPolicy: fastRetries,
    // Fault tests fail on purpose, one after the other; the breaker has tests of its own.
    breaker: { consecutive: 1_000_000, minCalls: 1_000_000 },
    cacheTtlMs: options.cacheTtlMs ?? 60_000,
    batchWindow: "2 millis",
    tokenRetryAfterFailure: "20 millis"
  })
  const services = {
    upstream,
    keys: staticKeyStore(keyFile),
    metrics,
    auditSink: (line: AuditLine) => audit.push(line),
    logError: (entry: unknown) => errors.push(entry),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
  }
  const app = createApp(services)
  const request = (path: string, init: RequestInit & { readonly as?: keyof typeof callers | null } = {}) => {
    const { as = "writer", ...rest } = init
    const headers = new Headers(rest.headers)
    if (as !== null && !headers.has("x-api-key") && !headers.has("authorization")) headers.set("x-api-key", callers[as].key)
    return app.request(path, { ...rest, headers })
  }
  /** The same services on real sockets (main and ops listeners). */
  const listen = () => startProxy({ ...services, port: 0, host: "127.0.0.1", opsPort: 0, graceMs: 5_000 })
  return {
    platform,
    url: platform.url,
    app,
    upstream,
    metrics,
    audit,
    errors,
    request,
    listen,
    direct: directClient(platform.url),
    faults: (rules: ReadonlyArray<string>) => setFaults(platform.url, rules),
    counters: () => faultCounters(platform.url),
    close: async () => {
      await upstream.dispose()
      await platform.close()
    }
  }
}

export type LocalProxy = Awaited<ReturnType<typeof localProxy>>
