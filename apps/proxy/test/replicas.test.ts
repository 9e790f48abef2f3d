/**
 * Replicas sharing state through one Redis (a real one: RTCP_TEST_REDIS_URL,
 * each test under its own key prefix) in front of one local service.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { makeReplica, ownRedis, type Replica, startService, uniquePrefix, waitFor } from "./support/replicas.js"

const LOOKUP = "/v1/profiles/Email/jane.doe@example.com"
const ENTITIES = "/data/core/ups/access/entities"

describe("replicas sharing Redis", () => {
  let service: Awaited<ReturnType<typeof startService>>
  let replicas: Array<Replica> = []
  beforeAll(async () => {
    service = await startService()
  })
  afterEach(async () => {
    await service.faults([])
    await Promise.all(replicas.map((replica) => replica.close()))
    replicas = []
  })
  afterAll(() => service?.close())

  const three = async (prefix: string, options: Parameters<typeof makeReplica>[2] = {}) => {
    replicas = [0, 1, 2].map(() => makeReplica(service.url, prefix, options))
    await waitFor(() => replicas.every((replica) => replica.shared.health().ok), "the replicas to reach Redis")
    return replicas
  }

  it("a key limited to R requests per window gets R in total across three replicas, not 3·R", async () => {
    const [a, b, c] = await three(uniquePrefix("ratelimit"))
    // The "limited" key allows 3 requests per 60 s.
    const statuses: Array<number> = []
    for (let i = 0; i < 9; i++) statuses.push((await [a!, b!, c!][i % 3]!.request(LOOKUP, { as: "limited" })).status)
    expect(statuses.filter((status) => status === 200)).toHaveLength(3)
    expect(statuses.filter((status) => status === 429)).toHaveLength(6)
  })

  it("a write through one replica invalidates the others' cached profile before its answer returns", async () => {
    const [a, b, c] = await three(uniquePrefix("invalidate"))
    const email = "invalidate.me@example.com"
    const lookup = (replica: Replica) => replica.request(`/v1/profiles/Email/${encodeURIComponent("jane.doe@example.com")}?fields=person`)
    expect((await lookup(a!)).headers.get("cache-status")).toContain("fwd=miss")
    // The shared cache: a replica that never asked has it too.
    expect((await lookup(b!)).headers.get("cache-status")).toBe("rtcp-proxy; hit")
    expect((await lookup(a!)).headers.get("cache-status")).toBe("rtcp-proxy; hit")
    const deleted = await c!.request(`${ENTITIES}?schema.name=_xdm.context.profile&entityId=${email}&entityIdNS=Email`, { method: "DELETE" })
    expect(deleted.status).toBeLessThan(500)
    // Right after the write's answer, on every replica: no pre-write entry is served.
    const [afterA, afterB] = await Promise.all([lookup(a!), lookup(b!)])
    expect(afterA.headers.get("cache-status")).not.toContain("hit")
    expect(afterB.headers.get("cache-status")).not.toContain("hit")
  })

  it("a 429 with Retry-After seen by one replica holds all of them until then", async () => {
    const [a, b] = await three(uniquePrefix("gate"), { cacheTtlMs: 0 })
    await service.faults([`POST ${ENTITIES} 429 retry-after=2 times=1`])
    const started = Date.now()
    const first = a!.request("/v1/profiles/Email/jane.doe@example.com")
    await waitFor(() => b!.upstream.shared.gateOf("/data/core/ups/access/entities") > Date.now(), "replica B to learn of the 429")
    const second = await b!.request("/v1/profiles/Email/jane.doe@example.com?fields=person")
    expect(second.status).toBe(200)
    // B did not find out for itself: it waited for the gate, and the fault fired once in all.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500)
    expect(await b!.metrics.render()).toMatch(/rtcp_proxy_upstream_held_total\{reason="gate"\} [1-9]/)
    expect((await first).status).toBe(200)
    expect((await service.counters())[0]).toMatchObject({ fired: 1 })
  })

  it("a probe that gets through opens the gate again on every replica, before the Retry-After", async () => {
    const [a, b] = await three(uniquePrefix("probe"), { cacheTtlMs: 0, retryDeadlineMs: 40_000 })
    // One 429 asking for 30 s (longer than this test may take): the gate closes everywhere; A's call waits at it
    // and probes, and the probe gets through.
    await service.faults([`POST ${ENTITIES} 429 retry-after=30 times=1`])
    const response = await a!.request(LOOKUP)
    expect(response.status).toBe(200)
    expect((await service.counters())[0]).toMatchObject({ fired: 1 })
    await waitFor(() => b!.upstream.shared.gateOf(ENTITIES) < Date.now(), "replica B to learn that the gate is open", 2_000)
    expect((await b!.request(LOOKUP)).status).toBe(200)
  })
})

describe("Redis lost mid-test", () => {
  it("no 5xx, insurance limits apply, /readyz says degraded, and everything resumes when Redis returns", async () => {
    const service = await startService()
    const redis = await ownRedis()
    const prefix = uniquePrefix("outage")
    const replicas = [0, 1].map(() => makeReplica(service.url, prefix, { redisUrl: redis.url }))
    const [a, b] = replicas as [Replica, Replica]
    try {
      await waitFor(() => replicas.every((replica) => replica.shared.health().ok), "the replicas to reach Redis")
      expect((await a.request(LOOKUP)).status).toBe(200)
      expect((await b.request(LOOKUP)).headers.get("cache-status")).toBe("rtcp-proxy; hit")

      await redis.stop()
      await waitFor(() => replicas.every((replica) => !replica.shared.health().ok), "the replicas to notice")
      const statuses: Array<number> = []
      for (let i = 0; i < 10; i++) {
        for (const replica of replicas) {
          statuses.push((await replica.request(`/v1/profiles/Email/jane.doe@example.com?fields=person`)).status)
          statuses.push((await replica.request("/data/core/ups/config/mergePolicies")).status)
        }
      }
      expect(statuses.filter((status) => status >= 500)).toEqual([])
      // The insurance limiter, per replica: the "limited" key (3 per 60 s) gets 3 on each.
      const limited: Array<number> = []
      for (let i = 0; i < 5; i++) for (const replica of replicas) limited.push((await replica.request(LOOKUP, { as: "limited" })).status)
      expect(limited.filter((status) => status === 200)).toHaveLength(6)
      expect(limited.filter((status) => status === 429)).toHaveLength(4)
      const ready = await a.ops.request("/readyz")
      expect(ready.status).toBe(200)
      expect(await ready.json()).toMatchObject({ ready: true, degraded: true, sharedState: { kind: "redis", state: "degraded", ok: false } })
      expect(await (await a.ops.request("/metrics")).text()).toContain("rtcp_proxy_redis_up 0")

      await redis.start()
      await waitFor(() => replicas.every((replica) => replica.shared.health().ok), "the replicas to reconnect")
      const back = await a.ops.request("/readyz")
      await new Promise((resolve) => setTimeout(resolve, 1100))
      expect(back.status).toBe(200)
      expect(await (await a.ops.request("/readyz")).json()).toMatchObject({ degraded: false, sharedState: { state: "connected" } })
      expect(await (await a.ops.request("/metrics")).text()).toContain("rtcp_proxy_redis_up 1")
      // Shared again: what one replica stores, the other reads.
      expect((await a.request(`${LOOKUP}?fields=identities`)).status).toBe(200)
      expect((await b.request(`${LOOKUP}?fields=identities`)).headers.get("cache-status")).toBe("rtcp-proxy; hit")
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()))
      await redis.stop()
      await service.close()
    }
  }, 30_000)
})
