/**
 * Hostile input at the proxy's own routes: no 5xx of the proxy's making.
 */
import { connect } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { staticKeyStore } from "../src/keys.js"
import type { AuditLine } from "../src/middleware/audit.js"
import { startProxy, type RunningProxy } from "../src/server.js"
import { callers, fakeProxy, keyFile } from "./support/fake.js"
import { profileApi } from "./support/profiles.js"

const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth)

describe("hostile input", () => {
  let p: ReturnType<typeof fakeProxy>
  let running: RunningProxy
  const audit: Array<AuditLine> = []
  beforeAll(async () => {
    p = fakeProxy(profileApi)
    running = await startProxy({
      upstream: p.upstream,
      keys: staticKeyStore(keyFile),
      metrics: p.metrics,
      auditSink: (line) => audit.push(line),
      port: 0,
      host: "127.0.0.1"
    })
  })
  afterAll(() => running?.close())

  it("100,000-deep JSON is a clear 400 on batchGet and on the AEP surface, and nothing goes upstream", async () => {
    const body = `{"identities": ${deep(100_000)}}`
    const batch = await p.request("/v1/profiles:batchGet", { method: "POST", headers: { "content-type": "application/json" }, body })
    expect(batch.status).toBe(400)
    const problem = (await batch.json()) as { type: string; detail: string }
    expect(problem.type).toBe("/rtcp/proxy/errors/json-too-deep")
    expect(problem.detail).toContain("64 levels")
    const aep = await p.request("/data/core/ups/access/entities", { method: "POST", headers: { "content-type": "application/json" }, body })
    expect(aep.status).toBe(400)
    expect(p.fake.requests).toHaveLength(0)
    // Brackets inside strings are not nesting.
    const fine = await p.request("/v1/profiles:batchGet", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identities: [{ namespace: "Email", id: "[".repeat(1000) }] })
    })
    expect(fine.status).toBe(200)
  })

  it("an upload the client abandons is recorded as 499, not 5xx", async () => {
    audit.length = 0
    const { port } = new URL(running.url)
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.write(
          `POST /data/core/ups/config/mergePolicies HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${callers.writer.key}\r\n` +
            "content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n10\r\n{\"name\": \"abcde"
        )
        setTimeout(() => {
          socket.destroy()
          resolve()
        }, 100)
      })
    })
    for (let i = 0; i < 100 && audit.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(audit.map((line) => line.status)).toEqual([499])
    const metrics = await p.metrics.render()
    expect(metrics).toMatch(/rtcp_proxy_requests_total\{[^}]*status="499"/)
    expect(metrics).not.toMatch(/rtcp_proxy_requests_total\{[^}]*status="5\d\d"/)
  })
})
