/**
 * The proxy on real sockets in front of the local service: both listeners,
 * timeouts, body limits, client disconnects and graceful shutdown.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunningProxy } from "../src/server.js"
import { callers } from "./support/fake.js"
import { type LocalProxy, localProxy } from "./support/local.js"

const POLICIES = "/data/core/ups/config/mergePolicies"
const key = { "x-api-key": callers.writer.key }

const eventually = async (check: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 500; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe("over real sockets", () => {
  let local: LocalProxy
  let proxy: RunningProxy
  beforeAll(async () => {
    local = await localProxy({ profiles: 5, timeoutMs: 1_000 })
    proxy = await local.listen()
  })
  afterAll(async () => {
    await proxy?.close()
    await local?.close()
  })

  it("serves both surfaces on the main port and the ops endpoints on their own", async () => {
    expect((await fetch(`${proxy.url}/v1/profiles/Email/jane.doe@example.com`, { headers: key })).status).toBe(200)
    expect((await fetch(`${proxy.url}${POLICIES}`, { headers: key })).status).toBe(200)
    expect(await (await fetch(`${proxy.opsUrl}/healthz`)).json()).toEqual({ status: "ok" })
    const ready = await fetch(`${proxy.opsUrl}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true, token: { ok: true }, upstream: { ok: true, kind: "local" } })
    const metrics = await (await fetch(`${proxy.opsUrl}/metrics`)).text()
    expect(metrics).toContain('rtcp_proxy_requests_total{route="/v1/profiles/:namespace/:id",method="GET",status="200",caller="writer"}')
    expect(metrics).toContain("rtcp_token_refreshes_total")
    expect(metrics).toContain("rtcp_proxy_lookup_cache_total")
    expect((await fetch(`${proxy.opsUrl}/openapi.json`)).status).toBe(200)
    // The ops endpoints are not on the main port.
    expect((await fetch(`${proxy.url}/metrics`, { headers: key })).status).toBe(404)
  })

  it("times out a slow upstream with 504", async () => {
    await local.faults([`GET ${POLICIES} latency delay=5s`])
    try {
      const response = await fetch(`${proxy.url}${POLICIES}`, { headers: key })
      expect(response.status).toBe(504)
      expect(await response.json()).toMatchObject({ type: "/rtcp/proxy/errors/timeout" })
    } finally {
      await local.faults([])
    }
  })

  it("refuses a body over the limit with 413", async () => {
    const response = await fetch(`${proxy.url}${POLICIES}`, {
      method: "POST",
      headers: { ...key, "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) })
    })
    expect(response.status).toBe(413)
  })

  it("stops the upstream call when the client disconnects", async () => {
    await local.faults([`GET ${POLICIES} latency delay=3s`])
    try {
      const controller = new AbortController()
      const pending = fetch(`${proxy.url}${POLICIES}?limit=7`, { headers: key, signal: controller.signal }).catch((error: unknown) => error)
      await eventually(async () => (await local.counters())[0]!.matched >= 1, `the request to reach upstream ${JSON.stringify(local.audit.slice(-2))}`)
      controller.abort()
      expect(await pending).toBeInstanceOf(Error)
      await eventually(() => local.audit.some((line) => line.status === 499), "the audit line of the abandoned request")
      expect(local.audit.find((line) => line.status === 499)).toMatchObject({ route: `GET ${POLICIES}`, caller: "writer" })
      await eventually(async () => (await local.metrics.inFlight.get()).values[0]!.value === 0, "no request in flight")
    } finally {
      await local.faults([])
    }
  })
})

describe("graceful shutdown", () => {
  it("finishes in-flight requests, then stops accepting", async () => {
    const local = await localProxy({ profiles: 3 })
    try {
      const proxy = await local.listen()
      await local.faults([`GET ${POLICIES} latency delay=300ms`])
      const inFlight = fetch(`${proxy.url}${POLICIES}`, { headers: key })
      await eventually(async () => (await local.counters())[0]!.matched === 1, "the request to reach upstream")
      const closed = proxy.close()
      const response = await inFlight
      expect(response.status).toBe(200)
      expect(((await response.json()) as { children: Array<unknown> }).children.length).toBeGreaterThan(0)
      await closed
      await expect(fetch(`${proxy.url}${POLICIES}`, { headers: key })).rejects.toThrow()
    } finally {
      await local.platform.close()
    }
  })
})
