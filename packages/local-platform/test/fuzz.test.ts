/**
 * A small run of the fuzzer (test/fuzz/run.ts sends 10,000): every hostile
 * request gets an answer, and none is a 5xx.
 */
import { describe, expect, it } from "@effect/vitest"
import { fuzz, prepare, withTarget } from "./fuzz/fuzz.js"

describe("the fuzzer", () => {
  it("gets an answer below 500 for every hostile request", { timeout: 120_000 }, async () => {
    const report = await withTarget(20, async (baseUrl, identities) => {
      const { auth, known } = await prepare(baseUrl)
      return fuzz({ baseUrl, seed: 11, requests: 400, auth, known: { ...known, identities } })
    })
    expect(report.failures).toEqual([])
    const answered = Object.entries(report.statuses).filter(([status]) => /^\d+$/.test(status))
    expect(answered.reduce((n, [, count]) => n + count, 0)).toBeGreaterThan(380)
    // The requests reach handlers, not just the gateway.
    expect(Object.keys(report.statuses).filter((status) => status.startsWith("2")).length).toBeGreaterThan(0)
  })
})
