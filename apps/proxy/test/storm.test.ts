/**
 * The storm scenario, small and bounded: the local service answers about
 * 10 % of calls with a 5xx and storms of 10 consecutive 429s with
 * `Retry-After: 1`, 2 s apart; callers look profiles up through `/v1/profiles/…` and
 * `/data/core/ups/access/entities`. No caller may see an error the proxy
 * could have absorbed (a 429 or a 5xx): deadline-aware retries, the shared
 * gate, split batches and stale-if-error absorb them. The success rate of
 * the full-size scenario is a benchmark figure (`npm run bench -- proxy`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeReplica, type Replica, startService } from "./support/replicas.js"

const ENTITIES = "/data/core/ups/access/entities"
const CALLERS = 8
const SECONDS = 6
const NAMES = ["jane.doe", "john.roe", "ann.lee", "max.mu", "ida.wu", "bo.li", "al.ng", "cy.ho", "ed.yo", "fa.xi"]

// The callers' own rate limit is not what is tested: once the storms are absorbed they ask far more than 50 per second.
const unlimited = { points: 1_000_000, duration: 1 }

const stormRules = (storm: boolean) => [
  // Single-profile GETs are answered by the batched lookup: its POSTs are what a storm hits.
  ...(storm ? [`POST ${ENTITIES} 429 retry-after=1 times=10`] : []),
  `* /data/core/** 503 p=0.05`,
  `* /data/core/** 500 p=0.05`
]

describe("a 429 storm with 5xx noise", () => {
  let service: Awaited<ReturnType<typeof startService>>
  beforeAll(async () => {
    service = await startService()
  })
  afterAll(() => service?.close())

  const storm = async (replica: Replica) => {
    const statuses = new Map<number, number>()
    const failures: Array<string> = []
    let stop = false
    let storms = 0
    const stormer = (async () => {
      while (!stop) {
        await service.faults(stormRules(true))
        storms++
        // A storm, then calm: the next one starts 2 s after this one's 429s were all answered.
        for (;;) {
          if (stop) break
          const counters = await service.counters()
          if (counters[0]!.fired >= 10) break
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        await new Promise((resolve) => setTimeout(resolve, 2000))
      }
    })()
    const until = Date.now() + SECONDS * 1000
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, caller) => {
        for (let i = 0; Date.now() < until; i++) {
          const id = `${NAMES[(caller + i) % NAMES.length]}@example.com`
          const response =
            i % 2 === 0
              ? await replica.request(`/v1/profiles/Email/${id}`)
              : await replica.request(`${ENTITIES}?schema.name=_xdm.context.profile&entityId=${id}&entityIdNS=Email&fields=person`, {
                  headers: { "x-sandbox-name": "prod" }
                })
          const text = await response.text()
          if (response.status === 429 || response.status >= 500) failures.push(`${response.status} ${text.slice(0, 200)}`)
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
        }
      })
    )
    stop = true
    await stormer
    await service.faults([])
    if (failures.length > 0) console.error(failures)
    return { statuses: Object.fromEntries(statuses), storms }
  }

  const absorbable = (statuses: Record<number, number>) =>
    Object.entries(statuses)
      .filter(([status]) => Number(status) === 429 || Number(status) >= 500)
      .map(([status, count]) => `${count}× ${status}`)

  it("with the cache on: no caller sees a 429 or a 5xx", async () => {
    const replica = makeReplica(service.url, "storm-cache:", { redisUrl: null, cacheTtlMs: 2000, staleIfErrorMs: 30_000, retryDeadlineMs: 20_000, rateLimit: unlimited })
    try {
      const { statuses, storms } = await storm(replica)
      expect(storms).toBeGreaterThanOrEqual(1)
      expect(absorbable(statuses)).toEqual([])
      expect((statuses[200] ?? 0) + (statuses[404] ?? 0)).toBeGreaterThan(0)
    } finally {
      await replica.close()
    }
  }, 60_000)

  it("with --cache-ttl 0: no caller sees a 429 or a 5xx", async () => {
    const replica = makeReplica(service.url, "storm-nocache:", { redisUrl: null, cacheTtlMs: 0, staleIfErrorMs: 30_000, retryDeadlineMs: 20_000, rateLimit: unlimited })
    try {
      const { statuses } = await storm(replica)
      expect(absorbable(statuses)).toEqual([])
    } finally {
      await replica.close()
    }
  }, 60_000)

  it("a closed gate lets one probe at a time through: a storm ends with its last 429, not after each one's Retry-After", async () => {
    // Ten 429s with Retry-After: 1 and a deadline of 5 s: waited out one Retry-After at a time they would outlast it.
    const replica = makeReplica(service.url, "storm-probe:", { redisUrl: null, cacheTtlMs: 0, staleIfErrorMs: 0, retryDeadlineMs: 5_000, rateLimit: unlimited })
    try {
      await service.faults([`POST ${ENTITIES} 429 retry-after=1 times=10`])
      const response = await replica.request("/v1/profiles/Email/jane.doe@example.com")
      expect(response.status).toBe(200)
      expect((await service.counters())[0]).toMatchObject({ fired: 10 })
      expect(await replica.metrics.render()).toMatch(/rtcp_proxy_upstream_held_total\{reason="gate"\} [1-9]/)
    } finally {
      await service.faults([])
      await replica.close()
    }
  }, 30_000)
})
