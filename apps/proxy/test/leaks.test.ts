/**
 * Nothing secret leaves the proxy: with an upstream that reflects what it
 * receives, neither the Adobe token, nor the client secret, nor a caller's
 * key reaches a caller, `/readyz`, `/metrics` or a log line (at debug).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { LogLevel, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { createApp, createOpsApp } from "../src/app.js"
import { staticKeyStore } from "../src/keys.js"
import * as Log from "../src/log.js"
import { makeMetrics } from "../src/metrics.js"
import * as Upstream from "../src/upstream.js"
import { callers, fastRetries, keyFile } from "./support/fake.js"
import { type ReflectingUpstream, startReflectingUpstream } from "./support/reflect.js"

const CLIENT_SECRET = "client-secret-that-must-never-leak-42"
const client = { clientId: "reflect-client", clientSecret: Redacted.make(CLIENT_SECRET), orgId: "ORG@AdobeOrg" }

const makeProxy = (upstream: ReflectingUpstream) => {
  const metrics = makeMetrics()
  const up = Upstream.make({
    credentials: Upstream.credentialsForLocal(upstream.url, client),
    httpClient: NodeHttpClient.layerUndici,
    metrics,
    retryPolicy: fastRetries,
    cacheTtlMs: 0,
    batchWindow: "1 millis",
    tokenRetryAfterFailure: "10 millis",
    logLevel: LogLevel.Debug
  })
  const app = createApp({ upstream: up, keys: staticKeyStore(keyFile), metrics, auditSink: (line) => Log.write({ ...line }) })
  const ops = createOpsApp({ upstream: up, metrics })
  const request = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    headers.set("x-api-key", callers.writer.key)
    return app.request(path, { ...init, headers })
  }
  return { request, ops, metrics, dispose: () => up.dispose() }
}

const everything = async (response: Response) => {
  const headers = [...response.headers.entries()].map(([name, value]) => `${name}: ${value}`).join("\n")
  return `${response.status}\n${headers}\n\n${await response.text()}`
}

describe("a reflecting upstream: no secret reaches a caller or a log", () => {
  let upstream: ReflectingUpstream
  let proxy: ReturnType<typeof makeProxy>
  const written: Array<string> = []
  let secrets: () => Array<string>

  beforeAll(async () => {
    upstream = await startReflectingUpstream(CLIENT_SECRET)
    proxy = makeProxy(upstream)
    secrets = () => [...upstream.tokens, CLIENT_SECRET, callers.writer.key]
    const write = process.stdout.write.bind(process.stdout)
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array, ...rest: Array<unknown>) => {
      written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"))
      return write(chunk, ...(rest as []))
    })
  })
  afterAll(async () => {
    vi.restoreAllMocks()
    await proxy?.dispose()
    await upstream?.close()
  })

  const expectClean = (text: string, what: string) => {
    for (const secret of secrets()) expect(text, `${what} carries a secret`).not.toContain(secret)
  }

  it("the upstream really reflects the token (the test would catch a leak)", async () => {
    const response = await proxy.request("/data/core/ups/config/mergePolicies")
    expect(response.status).toBe(200)
    expect(upstream.tokens.length).toBeGreaterThan(0)
    const received = JSON.stringify(upstream.received.at(-1))
    expect(received).toContain(upstream.tokens[0]!)
    expectClean(await everything(response), "a reflected header or body")
  })

  it("pass-through: reflected response headers are scrubbed", async () => {
    const response = await proxy.request("/data/core/ups/config/mergePolicies")
    expect(response.headers.get("x-echo-authorization")).toBe("Bearer [redacted]")
    expectClean(await everything(response), "a reflected header")
  })

  it.each(["gzip=1", "gzip=1&chunked=1"])("pass-through: a gzip-compressed body (%s) is decompressed, scrubbed and sent uncompressed", async (query) => {
    const response = await proxy.request(`/data/core/ups/config/mergePolicies?${query}`)
    expect(response.status).toBe(200)
    expect(response.headers.get("content-encoding")).toBeNull()
    const text = await everything(response)
    expect(text).toContain("[redacted]")
    expect(text).toContain("youSent")
    expectClean(text, "a gzip body")
  })

  it("pass-through: error answers are scrubbed too", async () => {
    const response = await proxy.request("/data/core/ups/config/mergePolicies?status=404")
    expect(response.status).toBe(404)
    expectClean(await everything(response), "an error answer")
  })

  it("the shared lookup's error details: /v1/profiles/{ns}/{id}, /v1/profiles:batchGet, the AEP single-profile GET", async () => {
    const one = await proxy.request("/v1/profiles/Email/a@example.com")
    expect(one.status).toBe(422)
    const oneText = await everything(one)
    expect(oneText).toContain("[redacted]")
    expectClean(oneText, "/v1/profiles error")
    const batch = await proxy.request("/v1/profiles:batchGet", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identities: [{ namespace: "Email", id: "a@example.com" }, { namespace: "Email", id: "b@example.com" }] })
    })
    expect(batch.status).toBe(200)
    expectClean(await everything(batch), "batchGet error")
    const aep = await proxy.request("/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=a@example.com&entityIdNS=Email")
    expect(aep.status).toBe(422)
    expectClean(await everything(aep), "AEP single-profile error")
  })

  it("an IMS error_description repeating the client secret reaches neither the 503 token-unavailable body nor /readyz", async () => {
    upstream.imsRejects = true
    const fresh = makeProxy(upstream)
    try {
      const response = await fresh.request("/v1/profiles/Email/a@example.com")
      expect(response.status).toBe(503)
      const text = await everything(response)
      expect(text).toContain("token-unavailable")
      expect(text).toContain("[redacted]")
      expectClean(text, "the 503 token-unavailable body")
      const ready = await fresh.ops.request("/readyz")
      expect(ready.status).toBe(503)
      expectClean(await everything(ready), "/readyz")
    } finally {
      upstream.imsRejects = false
      await fresh.dispose()
    }
  })

  it("/metrics carries none", async () => {
    expectClean(await everything(await proxy.ops.request("/metrics")), "/metrics")
  })

  it("log lines at every level (debug included) carry none, even when a secret is handed to the logger", async () => {
    Log.write({ level: "debug", msg: `handed over by mistake: ${upstream.tokens[0]} ${CLIENT_SECRET} ${callers.writer.key}` })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const log = written.join("")
    expect(log).toContain("handed over by mistake")
    expect(log).toContain('"level":"debug"')
    expectClean(log, "the log")
  })
})
