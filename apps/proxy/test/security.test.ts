/**
 * Security: nothing without a key, no way out of /data/core, no header
 * smuggling, nothing secret in logs or answers.
 */
import { connect } from "node:net"
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest"
import { createApp } from "../src/app.js"
import { staticKeyStore } from "../src/keys.js"
import { startProxy, type RunningProxy } from "../src/server.js"
import { ADOBE_TOKEN, callers, fakeProxy, json, keyFile, type Responder } from "./support/fake.js"
import { type LocalProxy, localProxy } from "./support/local.js"
import { profileApi } from "./support/profiles.js"

/** Sends raw bytes (no client-side URL or header normalisation) and reads the status line. */
const raw = (url: string, request: string) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const { hostname, port } = new URL(url)
    const socket = connect(Number(port), hostname)
    let text = ""
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1")
    })
    socket.on("end", () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }))
    socket.on("error", reject)
    socket.write(request)
    setTimeout(() => socket.end(), 300)
  })

describe("no route without a key", () => {
  let local: LocalProxy
  beforeAll(async () => {
    local = await localProxy({ profiles: 3 })
  })
  afterAll(() => local?.close())

  const paths = [
    "/",
    "/v1/openapi.json",
    "/v1/profiles/Email/jane.doe@example.com",
    "/v1/profiles/Email/jane.doe@example.com/events",
    "/v1/profiles:batchGet",
    "/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=jane.doe@example.com&entityIdNS=Email",
    "/data/core/ups/config/mergePolicies",
    "/data/core/ups/system/jobs",
    "/data/core/ca/attributes",
    "/data/foundation/catalog/dataSets",
    "/rtcp/admin/faults",
    "/healthz",
    "/metrics",
    "/ims/token/v3"
  ]

  it.each(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])("%s answers 401 everywhere without a key", async (method) => {
    for (const path of paths) {
      if (method === "POST" && path === "/ims/token/v3") continue // authenticates by its form, below
      const response = await local.request(path, { as: null, method, ...(method === "GET" || method === "HEAD" ? {} : { body: "{}" }) })
      expect(response.status, `${method} ${path}`).toBe(401)
    }
    for (const bad of [{ "x-api-key": "guess" }, { authorization: "Bearer guess" }, { authorization: `Basic ${callers.writer.key}` }]) {
      expect((await local.request("/data/core/ups/config/mergePolicies", { as: null, method: "GET", headers: bad })).status).toBe(401)
    }
    const token = await local.request("/ims/token/v3", {
      as: null,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials&client_id=writer&client_secret=guess"
    })
    expect(token.status).toBe(401)
  })

  it("exposes nothing of the upstream outside the Profile API, even with a key", async () => {
    for (const path of ["/rtcp/admin/faults", "/data/foundation/catalog/dataSets", "/data/foundation/sandbox-management/sandboxes", "/collection/x", "/metrics", "/healthz"]) {
      expect((await local.request(path)).status, path).toBe(404)
    }
    expect((await local.request("/rtcp/admin/faults", { method: "DELETE" })).status).toBe(404)
  })
})

describe("paths and headers", () => {
  const recorded: Responder = (request) => (request.path.startsWith("/data/core/") ? profileApi(request) : json(500, { wrongPath: request.path }))
  let running: RunningProxy
  let p: ReturnType<typeof fakeProxy>
  beforeAll(async () => {
    p = fakeProxy(recorded)
    running = await startProxy({ upstream: p.upstream, keys: staticKeyStore(keyFile), metrics: p.metrics, auditSink: () => undefined, port: 0, host: "127.0.0.1" })
  })
  afterAll(() => running?.close())
  afterEach(() => {
    p.fake.requests.length = 0
  })

  it("never lets a path leave the Profile API (in-process)", async () => {
    for (const path of [
      "/data/core/ups/../../rtcp/admin/faults",
      "/data/core/ups/%2e%2e/%2e%2e/%2e%2e/rtcp/admin/faults",
      "/data/core/ups/..%2f..%2f..%2frtcp%2fadmin%2ffaults",
      "/data/core/ups/config/mergePolicies/..%5c..%5c..%5crtcp",
      "/data/core/ups/config/%00/x",
      "/data/core/ups\\..\\..\\rtcp\\admin"
    ]) {
      const response = await p.request(path)
      expect([400, 404], path).toContain(response.status)
    }
    expect(p.fake.requests).toHaveLength(0)
    // Dot segments that stay inside the API are resolved, as any URL parser would.
    expect((await p.request("/data/core/ups/config/mergePolicies/%2e%2e/mergePolicies")).status).toBe(200)
    expect(p.fake.requests[0]!.path).toBe("/data/core/ups/config/mergePolicies")
  })

  it("never lets a path leave the Profile API (raw HTTP)", async () => {
    for (const path of [
      "/data/core/ups/../../rtcp/admin/faults",
      "/data/core/ups/%2e%2e/%2e%2e/%2e%2e/rtcp/admin/faults",
      "/data/core/ups/..%2F..%2F..%2Frtcp%2Fadmin",
      "/data/core/ups/..\\..\\..\\rtcp"
    ]) {
      const { status } = await raw(running.url, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${callers.writer.key}\r\nConnection: close\r\n\r\n`)
      expect([400, 404], path).toContain(status)
    }
    expect(p.fake.requests).toHaveLength(0)
    // Another host in the request target or Host header changes nothing: the upstream is fixed.
    for (const [target, host] of [
      ["//evil.example/data/core/ups/config/mergePolicies", "127.0.0.1"],
      ["http://evil.example/data/core/ups/config/mergePolicies", "127.0.0.1"],
      ["/data/core/ups/config/mergePolicies", "evil.example"]
    ]) {
      await raw(running.url, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nx-api-key: ${callers.writer.key}\r\nConnection: close\r\n\r\n`)
    }
    expect(p.fake.requests.length).toBeGreaterThan(0)
    for (const request of p.fake.requests) {
      expect(request.url.origin).toBe("http://aep.test")
      expect(request.path.startsWith("/data/core/ups/") || request.path.startsWith("/data/core/ca/")).toBe(true)
    }
  })

  it("refuses header smuggling before anything goes upstream", async () => {
    const base = `GET /data/core/ups/config/mergePolicies HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${callers.writer.key}\r\nConnection: close\r\n`
    const attempts = [
      `${base}x-sandbox-name: prod\rx-api-key: other\r\n\r\n`,
      `${base}x-sandbox-name: prod\r\n x-gw-ims-org-id: EVIL@AdobeOrg\r\n\r\n`,
      `${base}x-sandbox-name: prod\tdev\r\n\r\n`,
      `${base}x-sandbox-name: prod\u0000\r\n\r\n`,
      `${base}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`
    ]
    for (const attempt of attempts) {
      const { status } = await raw(running.url, attempt)
      expect(status, JSON.stringify(attempt)).toBe(400)
    }
    expect(p.fake.requests).toHaveLength(0)
    // A request id that could split a log line is replaced, not echoed.
    const response = await p.request("/data/core/ups/config/mergePolicies", { headers: { "x-request-id": 'abc" injected' } })
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe("nothing secret in logs or answers", () => {
  it("keeps caller keys and the Adobe token out of every log line, header and body", async () => {
    const written: Array<string> = []
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk: any) => {
      written.push(String(chunk))
      return true
    })
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk: any) => {
      written.push(String(chunk))
      return true
    })
    try {
      // An upstream that echoes what it was sent, in bodies and on errors.
      const echo: Responder = (request) =>
        request.path.endsWith("/boom")
          ? { status: 500, body: "not json", headers: { "content-type": "text/plain" } }
          : json(request.path.endsWith("/fail") ? 400 : 200, { youSent: request.headers }, { "x-echo-auth": "see body" })
      const p = fakeProxy(echo)
      // The audit sink of the real app: stdout.
      const app = createApp({ upstream: p.upstream, keys: staticKeyStore(keyFile), metrics: p.metrics })
      const send = (path: string, init: RequestInit = {}) =>
        app.request(path, { ...init, headers: { "x-api-key": callers.writer.key, authorization: `Bearer ${callers.reader.key}`, ...(init.headers as Record<string, string>) } })
      const responses = [
        await send("/data/core/ups/config/mergePolicies"),
        await send("/data/core/ups/config/fail"),
        await send("/data/core/ups/config/boom"),
        await send("/v1/profiles/Email/a@b.c"),
        await app.request("/data/core/ups/config/mergePolicies", { headers: { "x-api-key": "wrong-key-value-123" } }),
        await send("/data/core/ups/config/mergePolicies", { method: "POST", body: "{}", headers: { "content-type": "application/json" } })
      ]
      // Audit lines leave stdout once per event-loop turn.
      await new Promise((resolve) => setImmediate(resolve))
      const seen: Array<string> = [...written]
      for (const response of responses) {
        seen.push(JSON.stringify([...response.headers]))
        seen.push(await response.text())
      }
      await p.dispose()
      const everything = seen.join("\n")
      expect(everything).toContain("[redacted]")
      for (const secret of [ADOBE_TOKEN, callers.writer.key, callers.reader.key, "wrong-key-value-123"]) {
        expect(everything).not.toContain(secret)
      }
      // The audit lines were written (and are JSON).
      const lines = written.flatMap((chunk) => chunk.split("\n")).filter((line) => line.includes('"msg":"request"'))
      expect(lines.length).toBe(responses.length)
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
    } finally {
      stdout.mockRestore()
      stderr.mockRestore()
    }
  })

  it("keeps the local credential's secret and token out of what a caller or the log sees", async () => {
    const local = await localProxy({ profiles: 3 })
    try {
      const token = await local.direct.token()
      const responses = [
        await local.request("/data/core/ups/config/mergePolicies"),
        await local.request("/v1/profiles/Email/jane.doe@example.com"),
        await local.request("/data/core/ups/config/mergePolicies/nope"),
        await local.request("/data/core/ups/access/entities?entityId=x")
      ]
      const texts = await Promise.all(responses.map(async (r) => JSON.stringify([...r.headers]) + (await r.text())))
      const everything = [...texts, JSON.stringify(local.audit), JSON.stringify(local.errors)].join("\n")
      for (const secret of ["rtcp-local-secret", token, callers.writer.key]) expect(everything).not.toContain(secret)
      expect(everything.toLowerCase()).not.toContain("bearer ")
    } finally {
      await local.close()
    }
  })
})
