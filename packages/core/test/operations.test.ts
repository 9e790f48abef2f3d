import { describe, expect, it } from "@effect/vitest"
import { OpenApi } from "@effect/platform"
import { ProfileApi } from "@rtcp/core"
import { Effect } from "effect"

/** Every operation of Adobe's OpenAPI document (profile.yaml): 22. */
const openApiOperations = [
  "GET /data/core/ca/attributes",
  "POST /data/core/ca/attributes",
  "GET /data/core/ca/attributes/{ATTRIBUTE_ID}",
  "PATCH /data/core/ca/attributes/{ATTRIBUTE_ID}",
  "DELETE /data/core/ca/attributes/{ATTRIBUTE_ID}",
  "GET /data/core/ups/config/mergePolicies",
  "POST /data/core/ups/config/mergePolicies",
  "GET /data/core/ups/config/mergePolicies/{mergePolicyId}",
  "PUT /data/core/ups/config/mergePolicies/{mergePolicyId}",
  "PATCH /data/core/ups/config/mergePolicies/{mergePolicyId}",
  "DELETE /data/core/ups/config/mergePolicies/{mergePolicyId}",
  "POST /data/core/ups/config/mergePolicies/bulk-get",
  "GET /data/core/ups/access/entities",
  "POST /data/core/ups/access/entities",
  "DELETE /data/core/ups/access/entities",
  "GET /data/core/ups/system/jobs",
  "POST /data/core/ups/system/jobs",
  "GET /data/core/ups/system/jobs/{ID}",
  "DELETE /data/core/ups/system/jobs/{ID}",
  "GET /data/core/ups/previewsamplestatus",
  "GET /data/core/ups/previewsamplestatus/report/dataset",
  "GET /data/core/ups/previewsamplestatus/report/namespace"
] as const

/** Documented only in Adobe's guides (and the IMS token endpoint): 18. */
const guideOnlyOperations = [
  // export jobs
  "GET /data/core/ups/export/jobs",
  "POST /data/core/ups/export/jobs",
  "GET /data/core/ups/export/jobs/{id}",
  "DELETE /data/core/ups/export/jobs/{id}",
  // overlap reports
  "GET /data/core/ups/previewsamplestatus/report/dataset/overlap",
  "GET /data/core/ups/previewsamplestatus/report/namespace/overlap",
  // unstitched profiles
  "GET /data/core/ups/previewsamplestatus/report/unstitchedProfiles",
  // edge destinations
  "GET /data/core/ups/config/destinations",
  "POST /data/core/ups/config/destinations",
  "GET /data/core/ups/config/destinations/{DESTINATION_ID}",
  "PUT /data/core/ups/config/destinations/{DESTINATION_ID}",
  "DELETE /data/core/ups/config/destinations/{DESTINATION_ID}",
  // edge projections
  "GET /data/core/ups/config/projections",
  "POST /data/core/ups/config/projections",
  "GET /data/core/ups/config/projections/{PROJECTION_ID}",
  "PUT /data/core/ups/config/projections/{PROJECTION_ID}",
  "DELETE /data/core/ups/config/projections/{PROJECTION_ID}",
  // IMS
  "POST /ims/token/v3"
] as const

const normalise = (operation: string) => operation.replace(/\{[^}]*\}/g, "{}")

const contractOperations = (): Set<string> => {
  const doc = OpenApi.fromApi(ProfileApi.ProfileApi)
  const operations = new Set<string>()
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ["get", "post", "put", "patch", "delete", "head", "options"] as const) {
      if ((item as Record<string, unknown>)[method] !== undefined) operations.add(normalise(`${method.toUpperCase()} ${path}`))
    }
  }
  return operations
}

describe("the contract covers every documented operation", () => {
  it("the lists are what they claim", () => {
    expect(openApiOperations).toHaveLength(22)
    expect(guideOnlyOperations).toHaveLength(18)
    expect(new Set([...openApiOperations, ...guideOnlyOperations].map(normalise)).size).toBe(40)
  })

  it.effect("every operation of Adobe's OpenAPI document is in OpenApi.fromApi(ProfileApi)", () =>
    Effect.sync(() => {
      const contract = contractOperations()
      expect(openApiOperations.map(normalise).filter((operation) => !contract.has(operation))).toEqual([])
    })
  )

  it.effect("every guide-only operation is in OpenApi.fromApi(ProfileApi)", () =>
    Effect.sync(() => {
      const contract = contractOperations()
      expect(guideOnlyOperations.map(normalise).filter((operation) => !contract.has(operation))).toEqual([])
    })
  )

  it.effect("the contract has no operation beyond the documented ones", () =>
    Effect.sync(() => {
      const documented = new Set([...openApiOperations, ...guideOnlyOperations].map(normalise))
      expect([...contractOperations()].filter((operation) => !documented.has(operation))).toEqual([])
    })
  )

  it.effect("the exported document is the same one", () =>
    Effect.sync(() => {
      expect(Object.keys(ProfileApi.openApiDocument().paths).sort()).toEqual(
        Object.keys(OpenApi.fromApi(ProfileApi.ProfileApi).paths).sort()
      )
    })
  )
})
