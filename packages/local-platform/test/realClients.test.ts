/**
 * Requests shaped exactly as a widely used Python client, pitchmuc/aepp
 * (`aepp/customerprofile.py`), sends them.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { ingest, layer as serviceLayer } from "./support/harness.js"
import { raw } from "./support/raw.js"

const ecid = "7".repeat(38)
const xdm = { Accept: "application/vnd.adobe.xdm+json" }

describe("aepp", () => {
  layer(serviceLayer(), { excludeTestServices: true })((it) => {
    it.effect("Profile.getEntity pages experience events through `offsets` read from _links.next.href", () =>
      Effect.gen(function* () {
        yield* ingest(
          { name: "Web", xdmClass: "experienceevent" },
          Array.from({ length: 25 }, (_, i) => ({
            _id: `ev-${i}`,
            timestamp: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
            eventType: "web.webpagedetails.pageViews",
            identityMap: { ECID: [{ id: ecid, primary: true }] }
          }))
        )
        // aepp's params dict: None values are dropped by `requests`; `offsets` is added from the second call on.
        const params = new URLSearchParams({
          "schema.name": "_xdm.context.experienceevent",
          entityId: ecid,
          entityIdNS: "ECID",
          "relatedSchema.name": "_xdm.context.profile",
          relatedEntityId: ecid,
          relatedEntityIdNS: "ECID",
          limit: "10"
        })
        const children: Array<any> = []
        let answer = yield* raw("GET", `/data/core/ups/access/entities?${params}`, { headers: xdm })
        expect(answer.status).toBe(200)
        children.push(...answer.body.children)
        let nextPage: string = answer.body._links?.next?.href ?? ""
        let calls = 1
        while (nextPage !== "" && calls < 10) {
          const offsets = new URL(nextPage, "http://x").searchParams.get("offsets") ?? ""
          params.set("offsets", offsets)
          answer = yield* raw("GET", `/data/core/ups/access/entities?${params}`, { headers: xdm })
          expect(answer.status).toBe(200)
          children.push(...answer.body.children)
          nextPage = answer.body._links?.next?.href ?? ""
          calls++
        }
        expect(calls).toBe(3)
        expect(new Set(children.map((event) => event.entityId)).size).toBe(25)
      }))

    it.effect("Profile.createExportJob with the hard-coded mergePolicy version 1 works after the policy was updated", () =>
      Effect.gen(function* () {
        const { dataset } = yield* ingest({ name: "CRM", xdmClass: "profile" }, [
          { _id: "c1", identityMap: { CRMID: [{ id: "c1", primary: true }] }, person: { name: { firstName: "Ada" } } }
        ])
        const policies = yield* raw("GET", "/data/core/ups/config/mergePolicies?default=true")
        const policy = policies.body.children[0]
        expect(policy.version).toBe(1)
        const patched = yield* raw("PATCH", `/data/core/ups/config/mergePolicies/${policy.id}`, {
          body: JSON.stringify({ op: "add", path: "/name", value: "Renamed default" }),
          headers: { "content-type": "application/json" }
        })
        expect(patched.status).toBe(200)
        expect(patched.body.version).toBe(2)
        // aepp posts without its Accept header override (connector.postData(endpoint, data=data)).
        const created = yield* raw("POST", "/data/core/ups/export/jobs", {
          body: JSON.stringify({
            fields: "person.name.firstName",
            mergePolicy: { id: policy.id, version: 1 },
            destination: { datasetId: dataset.id, segmentPerBatch: false },
            schema: { name: "_xdm.context.profile" }
          }),
          headers: { "content-type": "application/json" }
        })
        expect(created.status).toBe(200)
        // The job runs with the policy as it is now, and says which version that is.
        expect(created.body.mergePolicy).toEqual({ id: policy.id, version: 2 })
        const future = yield* raw("POST", "/data/core/ups/export/jobs", {
          body: JSON.stringify({ mergePolicy: { id: policy.id, version: 3 }, destination: { datasetId: dataset.id }, schema: { name: "_xdm.context.profile" } }),
          headers: { "content-type": "application/json" }
        })
        expect(future.status).toBe(422)
        expect(future.body.detail).toContain("version 3 does not exist yet")
      }))
  })
})
