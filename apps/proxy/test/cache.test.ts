import { describe, expect, it } from "vitest"
import { LookupCache } from "../src/cache.js"

const deferred = <A>() => {
  let resolve!: (value: A) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<A>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe("LookupCache", () => {
  it("shares a lookup in flight, then answers from the cache until the TTL passes", async () => {
    let now = 0
    const cache = new LookupCache<string>({ ttlMs: 100, now: () => now })
    const first = deferred<string>()
    let calls = 0
    const compute = () => {
      calls++
      return first.promise
    }
    const a = cache.get("k", compute)
    const b = cache.get("k", compute)
    expect([a.result, b.result]).toEqual(["miss", "shared"])
    first.resolve("v")
    expect(await a.promise).toBe("v")
    expect(await b.promise).toBe("v")
    expect(cache.get("k", compute).result).toBe("hit")
    now = 100
    expect(cache.get("k", () => Promise.resolve("w")).result).toBe("miss")
    expect(calls).toBe(1)
  })

  it("does not keep failures", async () => {
    const cache = new LookupCache<string>({ ttlMs: 1000 })
    const failed = cache.get("k", () => Promise.reject(new Error("429")))
    await expect(failed.promise).rejects.toThrow("429")
    expect(cache.get("k", () => Promise.resolve("v")).result).toBe("miss")
  })

  it("never stores an answer that was in flight when the cache was invalidated", async () => {
    const cache = new LookupCache<string>({ ttlMs: 1000 })
    const stale = deferred<string>()
    const before = cache.get("k", () => stale.promise)
    cache.invalidate()
    stale.resolve("before the write")
    expect(await before.promise).toBe("before the write")
    const after = cache.get("k", () => Promise.resolve("after the write"))
    expect(after.result).toBe("miss")
    expect(await after.promise).toBe("after the write")
  })

  it("with a TTL of 0 only shares lookups in flight, and stays within its capacity", async () => {
    const cache = new LookupCache<number>({ ttlMs: 0 })
    await cache.get("k", () => Promise.resolve(1)).promise
    expect(cache.get("k", () => Promise.resolve(2)).result).toBe("miss")
    const small = new LookupCache<number>({ ttlMs: 1000, capacity: 2 })
    for (const key of ["a", "b", "c"]) await small.get(key, () => Promise.resolve(1)).promise
    expect(small.size).toBe(2)
    expect(small.get("a", () => Promise.resolve(1)).result).toBe("miss")
  })
})
