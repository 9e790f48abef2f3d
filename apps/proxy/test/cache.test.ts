import { describe, expect, it } from "vitest"
import { cacheStatus, LookupCache } from "../src/cache.js"
import { makeSharedState } from "../src/shared.js"

const deferred = <A>() => {
  let resolve!: (value: A) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<A>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

const upstreamFault = (error: unknown) => (error instanceof Error && error.message === "503" ? 503 : undefined)
const tick = () => new Promise((resolve) => setImmediate(resolve))

describe("LookupCache", () => {
  it("shares a lookup in flight, then answers from the cache until the TTL passes", async () => {
    let now = 0
    const cache = new LookupCache<string>(makeSharedState({ now: () => now }), { ttlMs: 100, now: () => now })
    const first = deferred<string>()
    let calls = 0
    const compute = () => {
      calls++
      return first.promise
    }
    const a = cache.get("k", compute, upstreamFault)
    await tick()
    const b = cache.get("k", compute, upstreamFault)
    await tick()
    first.resolve("v")
    expect([(await a).result, (await b).result]).toEqual(["miss", "shared"])
    expect((await a).value).toBe("v")
    await tick()
    expect((await cache.get("k", compute, upstreamFault)).result).toBe("hit")
    now = 100
    expect((await cache.get("k", () => Promise.resolve("w"), upstreamFault)).result).toBe("miss")
    expect(calls).toBe(1)
  })

  it("does not keep failures", async () => {
    const cache = new LookupCache<string>(makeSharedState(), { ttlMs: 1000 })
    await expect(cache.get("k", () => Promise.reject(new Error("429")), upstreamFault)).rejects.toThrow("429")
    expect((await cache.get("k", () => Promise.resolve("v"), upstreamFault)).result).toBe("miss")
  })

  it("never stores an answer that was in flight when the cache was invalidated", async () => {
    const cache = new LookupCache<string>(makeSharedState(), { ttlMs: 1000 })
    const stale = deferred<string>()
    const before = cache.get("k", () => stale.promise, upstreamFault)
    await tick()
    await cache.invalidate()
    stale.resolve("before the write")
    expect((await before).value).toBe("before the write")
    const after = await cache.get("k", () => Promise.resolve("after the write"), upstreamFault)
    expect(after.result).toBe("miss")
    expect(after.value).toBe("after the write")
  })

  it("with a TTL of 0 only shares lookups in flight", async () => {
    const cache = new LookupCache<number>(makeSharedState(), { ttlMs: 0 })
    await cache.get("k", () => Promise.resolve(1), upstreamFault)
    expect((await cache.get("k", () => Promise.resolve(2), upstreamFault)).result).toBe("miss")
  })

  it("stale-if-error: serves the last good answer within its maximum age when upstream is to blame, and says so", async () => {
    let now = 0
    const cache = new LookupCache<string>(makeSharedState({ now: () => now }), { ttlMs: 0, staleMs: 10_000, now: () => now })
    await cache.get("k", () => Promise.resolve("good"), upstreamFault)
    await tick()
    now = 4_000
    const stale = await cache.get("k", () => Promise.reject(new Error("503")), upstreamFault)
    expect(stale).toMatchObject({ value: "good", result: "stale", upstreamStatus: 503 })
    expect(cacheStatus(stale)).toBe("rtcp-proxy; hit; ttl=-4; fwd=stale; fwd-status=503; detail=stale-if-error")
    // The request's own fault is not covered up.
    await expect(cache.get("k", () => Promise.reject(new Error("400")), upstreamFault)).rejects.toThrow("400")
    now = 10_000
    await expect(cache.get("k", () => Promise.reject(new Error("503")), upstreamFault)).rejects.toThrow("503")
  })

  it("stale-if-error: while the upstream is held, the stale answer comes at once, without a lookup", async () => {
    let held: number | undefined
    const cache = new LookupCache<string>(makeSharedState(), { ttlMs: 0, staleMs: 10_000, held: () => held })
    await cache.get("k", () => Promise.resolve("good"), upstreamFault)
    await tick()
    held = 429
    let asked = 0
    const answer = await cache.get("k", () => {
      asked++
      return Promise.resolve("new")
    }, upstreamFault)
    expect(answer).toMatchObject({ value: "good", result: "stale", upstreamStatus: 429 })
    expect(asked).toBe(0)
    held = undefined
    expect((await cache.get("k", () => Promise.resolve("new"), upstreamFault)).value).toBe("new")
  })
})
