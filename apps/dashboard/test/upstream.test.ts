import { Redacted } from "effect"
import { ImsTokens } from "@rtcp/local-platform"
import { demoCustomer } from "@rtcp/seed"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { DashboardRuntime } from "../src/runtime.js"
import { summaryLines } from "../src/summary.js"
import { demoClient, demoExamples } from "../src/upstream.js"
import { startService, waitForSample } from "./support/harness.js"

describe("upstream", () => {
  it("spells the local service's demo credential and demo customer as they are", () => {
    expect(demoClient.clientId).toBe(ImsTokens.demoClient.clientId)
    expect(demoClient.orgId).toBe(ImsTokens.demoClient.orgId)
    expect(Redacted.value(demoClient.clientSecret)).toBe(Redacted.value(ImsTokens.demoClient.clientSecret))
    expect(demoExamples).toEqual([
      { namespace: "Email", id: demoCustomer.email },
      { namespace: "CRMID", id: demoCustomer.crmId },
      { namespace: "ECID", id: demoCustomer.ecids[0] }
    ])
  })
})

describe("summary without a terminal", () => {
  let runtime: DashboardRuntime
  beforeAll(async () => {
    runtime = (await startService({ profiles: 20 })).runtime
    await waitForSample(runtime)
  })
  afterAll(() => runtime.dispose())

  it("fits one screen and names every family", async () => {
    const { lines, failures } = await runtime.runPromise(summaryLines({ kind: "local", sandbox: "prod" }))
    expect(failures).toBe(0)
    expect(lines.length).toBeLessThanOrEqual(24)
    const text = lines.join("\n")
    for (const label of ["upstream", "profiles", "by dataset", "by namespace", "merge policies", "system jobs", "export jobs", "computed attributes", "edge destinations", "edge projections"]) {
      expect(text).toContain(label)
    }
    expect(text).toContain("(default: Default Timebased)")
    expect(text).toMatch(/local http:\/\/127\.0\.0\.1:\d+/)
  })
})
