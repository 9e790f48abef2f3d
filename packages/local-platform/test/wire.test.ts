import { describe, expect, it } from "vitest"
import type { MergePolicies, SystemJobs } from "@rtcp/profile-store"
import { applyPatch, validate } from "../src/http/mergePolicyWire.js"
import { toWire as systemJobWire } from "../src/http/systemJobWire.js"

const body = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  schema: { name: "_xdm.context.profile" },
  identityGraph: { type: "pdg" },
  attributeMerge: { type: "timestampOrdered" },
  ...extra
})

const policy: MergePolicies.Policy = {
  id: "p1",
  name: "Default",
  schemaName: "_xdm.context.profile",
  version: 1,
  identityGraph: "pdg",
  attributeMerge: { type: "timestampOrdered" },
  isDefault: false,
  activeOnEdge: false,
  updateEpoch: 1,
  createdAt: 1
}

describe("merge policy bodies", () => {
  it("turn into the store's draft, or a message that says what to fix", () => {
    expect(validate(body("x", { default: "true" }))).toMatchObject({ name: "x", schemaName: "_xdm.context.profile", identityGraph: "pdg", isDefault: true })
    expect(validate(body("x", { attributeMerge: { type: "dataSetPrecedence" } }))).toMatch(/order/)
    expect(validate(body("x", { identityGraph: { type: "auto" } }))).toMatch(/identityGraph.type/)
    expect(validate({ name: "x" })).toMatch(/schema.name/)
  })

  it("JSON Patch: an array or a single object, /idActiveOnEdge as the OpenAPI document spells it", () => {
    expect(applyPatch(policy, [{ op: "add", path: "/default", value: "true" }])).toMatchObject({ isDefault: true })
    expect(applyPatch(policy, { op: "add", path: "/idActiveOnEdge", value: "true" })).toMatchObject({ activeOnEdge: true })
    expect(applyPatch(policy, [{ op: "remove", path: "/name" }])).toMatch(/op "remove"/)
    expect(applyPatch(policy, [{ op: "add", path: "/imsOrgId", value: "x" }])).toMatch(/cannot be patched/)
  })
})

describe("system job answers", () => {
  it("the newest documented request shape, with counts in metrics", () => {
    const job: SystemJobs.Job = {
      id: "j1",
      requestType: "TRUNCATE_DATASET",
      sandbox: "prod",
      sandboxId: "s1",
      imsOrgId: "org@AdobeOrg",
      datasetId: "d1",
      batchId: undefined,
      status: "SUCCESS",
      fragmentsTotal: 5,
      eventsTotal: 0,
      profilesAffected: 5,
      fragmentsDeleted: 5,
      eventsDeleted: 0,
      error: undefined,
      createdAt: 1_700_000_000_000,
      updatedAt: 1_700_000_002_000,
      startedAt: 1_700_000_000_500,
      completedAt: 1_700_000_002_000
    }
    const wire = systemJobWire(job) as any
    expect(wire).toMatchObject({
      requestId: "j1",
      requestType: "TRUNCATE_DATASET",
      imsOrgId: "org@AdobeOrg",
      sandbox: { sandboxName: "prod", sandboxId: "s1" },
      status: "SUCCESS",
      properties: { datasetId: "d1" },
      progress: 100,
      metrics: { fragmentsDeleted: 5, eventsDeleted: 0, recordsProcessed: 5, profilesAffected: 5, fragmentsToDelete: 5 }
    })
    expect(wire.properties.batchId).toBeUndefined()
    expect(wire.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
    expect(systemJobWire({ ...job, batchId: "b1" }).properties).toEqual({ datasetId: "d1", batchId: "b1" })
  })
})
