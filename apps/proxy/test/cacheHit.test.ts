/**
 * The cache-hit lane (src/cacheHit.ts) answers exactly as the Hono path
 * does: the same status, headers, body, audit line and metric counts, and a
 * request it hands on is counted once by the rate limiter.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { KeyFile } from "../src/keys.js"
import { hashKey, staticKeyStore } from "../src/keys.js"
import type { AuditLine } from "../src/middleware/audit.js"
import { startProxy, type RunningProxy } from "../src/server.js"
import { fakeProxy } from "./support/fake.js"
import { profileApi } from "./support/profiles.js"

const KEY = "lane-key-000000000000000000000000000"
// A long window: the remaining points then only move with the requests sent.
const keys: KeyFile = { keys: [{ name: "lane", sha256: hashKey(KEY), sandboxes: ["*"], access: "read", rateLimit: { points: 10_000, duration: 3600 } }] }

/** Counter and histogram-count samples of the request metrics, by their label text. */
const samples = async (render: () => Promise<string>) => {
  const out = new Map<string, number>()
  for (const line of (await render()).split("\n")) {
    const match = /^(rtcp_proxy_requests_total|rtcp_proxy_request_duration_seconds_count|rtcp_proxy_lookup_cache_total)(\{[^}]*\})? (\S+)$/.exec(line)
    if (match !== null) out.set(`${match[1]}${match[2] ?? ""}`, Number(match[3]))
  }
  return out
}

const delta = (before: Map<string, number>, after: Map<string, number>) => {
  const out: Record<string, number> = {}
  for (const [name, value] of after) {
    const d = value - (before.get(name) ?? 0)
    if (d !== 0) out[name] = d
  }
  return out
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

describe("cache hits answered before the middleware chain", () => {
  let p: ReturnType<typeof fakeProxy>
  let plain: RunningProxy
  let lane: RunningProxy
  const audit: Array<AuditLine> = []

  beforeAll(async () => {
    p = fakeProxy(profileApi)
    const services = { upstream: p.upstream, keys: staticKeyStore(keys), metrics: p.metrics, auditSink: (line: AuditLine) => audit.push(line), host: "127.0.0.1", port: 0 }
    plain = await startProxy({ ...services, cacheHitLane: false })
    lane = await startProxy(services)
  })
  afterAll(async () => {
    await lane?.close()
    await plain?.close()
  })

  /** One request and everything it left behind: answer, audit line, metric deltas. */
  const send = async (base: string, path: string, headers: Record<string, string> = {}) => {
    const before = await samples(() => p.metrics.render())
    const lines = audit.length
    const response = await fetch(`${base}${path}`, { headers: { "x-api-key": KEY, "x-request-id": "same-id", ...headers } })
    const body = Buffer.from(await response.arrayBuffer())
    await turn()
    await turn()
    const after = await samples(() => p.metrics.render())
    const line = audit.slice(lines)
    const answerHeaders = Object.fromEntries([...response.headers].filter(([name]) => name !== "date"))
    return { status: response.status, headers: answerHeaders, body, audit: line.map(({ latencyMs: _l, time: _t, ...rest }) => rest), metrics: delta(before, after) }
  }

  const remaining = (answer: { headers: Record<string, string> }) => Number(answer.headers["ratelimit-remaining"])

  for (const [what, path] of [
    ["internal", "/v1/profiles/Email/jane%40example.com?fields=person"],
    ["AEP", "/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=jane%40example.com&entityIdNS=Email"]
  ] as const) {
    it(`answers a ${what} hit as the Hono path does`, async () => {
      const miss = await send(plain.url, path)
      expect(miss.status).toBe(200)
      const viaHono = await send(plain.url, path)
      const viaLane = await send(lane.url, path)
      expect(viaHono.headers["cache-status"]).toBe("rtcp-proxy; hit")
      expect(viaLane.status).toBe(viaHono.status)
      expect(viaLane.body.equals(viaHono.body)).toBe(true)
      // One more point used: everything else is the same header for header.
      expect(remaining(viaLane)).toBe(remaining(viaHono) - 1)
      expect({ ...viaLane.headers, "ratelimit-remaining": "" }).toEqual({ ...viaHono.headers, "ratelimit-remaining": "" })
      expect(viaLane.audit).toEqual(viaHono.audit)
      expect(viaLane.audit).toEqual([expect.objectContaining({ cache: "hit", status: 200, caller: "lane", requestId: "same-id" })])
      expect(viaLane.metrics).toEqual(viaHono.metrics)
      expect(viaLane.metrics[`rtcp_proxy_lookup_cache_total{result="hit"}`]).toBe(1)
    })
  }

  it("hands misses and refusals to the Hono app, counting each request once against the limit", async () => {
    const path = "/v1/profiles/Email/john%40example.com"
    const miss = await send(lane.url, path)
    const hit = await send(lane.url, path)
    expect(miss.headers["cache-status"]).toBe("rtcp-proxy; fwd=miss")
    expect(hit.headers["cache-status"]).toBe("rtcp-proxy; hit")
    expect(remaining(hit)).toBe(remaining(miss) - 1)
    // Refused before the cache: the same answers as without the lane.
    for (const headers of [{ "x-api-key": "wrong-key-0000000000000000000000000" }, { "x-sandbox-name": "Not A Sandbox" }]) {
      const viaHono = await send(plain.url, path, headers)
      const viaLane = await send(lane.url, path, headers)
      expect(viaLane.status).toBe(viaHono.status)
      expect(viaLane.status).toBeGreaterThanOrEqual(400)
      expect(viaLane.body.toString()).toBe(viaHono.body.toString())
      expect(viaLane.audit).toEqual(viaHono.audit)
    }
  })
})
