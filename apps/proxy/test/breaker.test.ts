import { afterAll, describe, expect, it } from "vitest"
import { CircuitBreaker } from "../src/breaker.js"
import { makeSharedState } from "../src/shared.js"
import { fakeProxy, json } from "./support/fake.js"
import { profileApi } from "./support/profiles.js"

describe("CircuitBreaker", () => {
  it("opens on sustained failure, answers at once while open, probes half-open one call at a time, closes on a good probe", () => {
    let now = 0
    const breaker = new CircuitBreaker({ windowMs: 10_000, minCalls: 10, failureRatio: 0.5, consecutive: 100, cooldownMs: 5_000, now: () => now })
    // 10 % failures: stays closed.
    for (let i = 0; i < 100; i++) breaker.record(i % 10 === 0, false)
    expect(breaker.state).toBe("closed")
    for (let i = 0; i < 100; i++) breaker.record(true, false)
    expect(breaker.state).toBe("open")
    expect(breaker.admit()).toEqual({ ok: false, retryAfterMs: 5_000 })
    now = 5_000
    expect(breaker.state).toBe("half-open")
    expect(breaker.admit()).toEqual({ ok: true, probe: true })
    expect(breaker.admit().ok).toBe(false)
    breaker.record(true, true)
    expect(breaker.state).toBe("open")
    now = 10_000
    expect(breaker.admit()).toEqual({ ok: true, probe: true })
    breaker.record(false, true)
    expect(breaker.state).toBe("closed")
  })

  it("in the proxy: open after consecutive 5xx, then the proxy answers 503 itself and says so in /readyz and /metrics", async () => {
    let failing = true
    const p = fakeProxy((request) => (failing ? json(503, { message: "down" }) : profileApi(request)), { breaker: { consecutive: 3, cooldownMs: 60_000 } })
    const calls = () => p.fake.requests.length
    await p.request("/data/core/ups/config/mergePolicies")
    expect(p.upstream.breaker.state).toBe("open")
    const before = calls()
    const held = await p.request("/data/core/ups/config/mergePolicies")
    expect(held.status).toBe(503)
    expect(held.headers.get("retry-after")).not.toBeNull()
    expect(calls()).toBe(before)
    const metrics = await p.metrics.render()
    expect(metrics).toContain("rtcp_proxy_upstream_circuit_state 2")
    expect(metrics).toMatch(/rtcp_proxy_upstream_held_total\{reason="circuit-open"\} [1-9]/)
    expect(await p.upstream.readiness()).toMatchObject({ degraded: true, circuit: { state: "open" } })
    failing = false
    await p.dispose()
  })
})

describe("the upstream budget's fairness", () => {
  const shared = makeSharedState({ upstreamBudget: 10, now: () => 1_000_500 })
  afterAll(() => shared.close())

  it("splits the budget of a window in equal shares between the active callers; a noisy one cannot take the quiet one's", async () => {
    const grants = { noisy: 0, quiet: 0 }
    // The quiet caller has asked once already: two callers are active.
    if ((await shared.takeBudget("quiet")).ok) grants.quiet++
    for (let i = 0; i < 50; i++) if ((await shared.takeBudget("noisy")).ok) grants.noisy++
    for (let i = 0; i < 10; i++) if ((await shared.takeBudget("quiet")).ok) grants.quiet++
    expect(grants).toEqual({ noisy: 5, quiet: 5 })
    const refused = await shared.takeBudget("noisy")
    expect(refused).toEqual({ ok: false, waitMs: 500 })
  })
})
