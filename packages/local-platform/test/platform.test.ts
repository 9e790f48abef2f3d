import { describe, expect, it } from "@effect/vitest"
import { Identity, ProfileClient } from "@rtcp/core"
import { Effect, Schedule, TestServices } from "effect"
import { layer } from "./support/harness.js"
import { json, raw } from "./support/raw.js"

const profileDataset = {
  name: "CRM",
  schemaRef: { id: "https://ns.adobe.com/xdm/context/profile", contentType: "application/vnd.adobe.xed+json;version=1" },
  tags: { unifiedProfile: ["enabled:true"] }
}

const createDataset = (body: unknown = profileDataset, sandbox?: string) =>
  Effect.gen(function* () {
    const answer = yield* raw("POST", "/data/foundation/catalog/dataSets", { ...json(body), ...(sandbox ? { sandbox } : {}) })
    expect(answer.status).toBe(201)
    return String(answer.body[0]).replace("@/dataSets/", "")
  })

const batch = (datasetId: string, files: Record<string, string>, extra: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const created = yield* raw("POST", "/data/foundation/import/batches", json({ datasetId, inputFormat: { format: "json" }, ...extra }))
    expect(created.status).toBe(201)
    const id = created.body.id as string
    for (const [name, content] of Object.entries(files)) {
      const put = yield* raw("PUT", `/data/foundation/import/batches/${id}/datasets/${datasetId}/files/${name}`, {
        body: content,
        headers: { "content-type": "application/octet-stream" }
      })
      expect(put.status).toBe(200)
    }
    expect((yield* raw("POST", `/data/foundation/import/batches/${id}?action=COMPLETE`)).status).toBe(200)
    // The batch is processed in the background: poll Catalog as a pipeline would.
    // Real time between polls: on a database across a socket the batch takes some.
    const done: any = yield* raw("GET", `/data/foundation/catalog/batches/${id}`).pipe(
      Effect.map((answer): any => answer.body[id]),
      Effect.repeat({
        schedule: Schedule.passthrough(Schedule.spaced("20 millis")),
        until: (b: any) => b.status !== "processing" && b.status !== "loading"
      }),
      TestServices.provideLive
    )
    return done
  })

const record = (crm: string, first: string) =>
  JSON.stringify({ _id: crm, identityMap: { CRMID: [{ id: crm, primary: true }] }, person: { name: { firstName: first } } })

describe("the Platform gateway", () => {
  it.layer(layer())((it) => {
    it.effect("answers header errors with AEP's gateway bodies", () =>
      Effect.gen(function* () {
        const url = "/data/core/ups/config/mergePolicies"
        const none = yield* raw("GET", url, { auth: false })
        expect(none).toMatchObject({ status: 401, body: { error_code: "403010", message: "Oauth token is missing." } })
        const forged = yield* raw("GET", url, { headers: { authorization: "Bearer abc.def" } })
        expect(forged).toMatchObject({ status: 401, body: { error_code: "401013" } })
        const noKey = yield* raw("GET", url, { headers: { "x-api-key": "" } })
        expect(noKey).toMatchObject({ status: 403, body: { error_code: "403000" } })
        const badKey = yield* raw("GET", url, { headers: { "x-api-key": "someone-else" } })
        expect(badKey).toMatchObject({ status: 403, body: { error_code: "403003" } })
        const noOrg = yield* raw("GET", url, { headers: { "x-gw-ims-org-id": "" } })
        expect(noOrg).toMatchObject({ status: 400, body: { error_code: "400003" } })
        const otherOrg = yield* raw("GET", url, { headers: { "x-gw-ims-org-id": "OTHER@AdobeOrg" } })
        expect(otherOrg).toMatchObject({ status: 403, body: { error_code: "403025" } })
        const noSandbox = yield* raw("GET", url, { headers: { "x-sandbox-name": "" } })
        expect(noSandbox.status).toBe(400)
        expect(noSandbox.body.detail).toMatch(/x-sandbox-name/)
        const unknownSandbox = yield* raw("GET", url, { sandbox: "nope" })
        expect(unknownSandbox.status).toBe(403)
        expect(unknownSandbox.body.detail).toMatch(/nope/)
        expect(unknownSandbox.headers["x-request-id"]).toBeTypeOf("string")
      })
    )

    it.effect("ingests a batch of NDJSON and JSON files; the batch moves to success and the profiles are visible", () =>
      Effect.gen(function* () {
        const datasetId = yield* createDataset()
        const done = yield* batch(datasetId, {
          "a.ndjson": [record("b1", "Ann"), record("b2", "Bob")].join("\n"),
          "b.json": `[${record("b3", "Cat")}]`
        })
        expect(done).toMatchObject({ status: "success", metrics: { recordsRead: 3, recordsWritten: 3 } })
        const client = yield* ProfileClient.ProfileClient
        const profile = yield* client.getProfile(Identity.make("CRMID", "b3"))
        expect(profile.entity).toMatchObject({ person: { name: { firstName: "Cat" } } })
        const listed = yield* raw("GET", `/data/foundation/catalog/batches?dataSet=${datasetId}`)
        expect(Object.keys(listed.body)).toHaveLength(1)
      })
    )

    it.effect("a failed batch reports each bad record and leaves earlier data unchanged", () =>
      Effect.gen(function* () {
        const datasetId = yield* createDataset()
        yield* batch(datasetId, { "a.ndjson": record("f1", "Before") })
        const failed = yield* batch(datasetId, {
          "a.ndjson": [record("f1", "After"), record("f2", "New"), '{"identityMap":{"Email":{"id":"x"}}}', "{oops"].join("\n")
        })
        expect(failed.status).toBe("failed")
        expect(failed.metrics.failedRecordCount).toBe(2)
        const report = yield* raw("GET", `/data/foundation/export/batches/${failed.id}/failed`)
        expect(report.body.data.map((r: any) => r.row)).toEqual([2, 3])
        expect(report.body.data[0].message).toMatch(/identityMap.Email must be an array/)
        const client = yield* ProfileClient.ProfileClient
        expect((yield* client.getProfile(Identity.make("CRMID", "f1"))).entity).toMatchObject({ person: { name: { firstName: "Before" } } })
        expect((yield* Effect.flip(client.getProfile(Identity.make("CRMID", "f2"))))._tag).toBe("NotFound")
      })
    )

    it.effect("streams a record that is visible when the call returns, and refuses an invalid one", () =>
      Effect.gen(function* () {
        const datasetId = yield* createDataset()
        const message = (id: string) => ({
          header: { datasetId, schemaRef: { id: "https://ns.adobe.com/xdm/context/profile" } },
          body: { xdmMeta: {}, xdmEntity: { identityMap: { Email: [{ id, primary: true }] }, person: { name: { firstName: "Streamed" } } } }
        })
        const accepted = yield* raw("POST", "/collection/my-connection?syncValidation=true", json(message("s@x.com")))
        expect(accepted).toMatchObject({ status: 200, body: { inletId: "my-connection", syncValidation: { status: "pass" } } })
        const client = yield* ProfileClient.ProfileClient
        expect((yield* client.getProfile(Identity.make("Email", "s@x.com"))).entity).toMatchObject({ person: { name: { firstName: "Streamed" } } })
        const invalid = yield* raw("POST", "/collection/my-connection", json({ header: { datasetId }, body: { xdmEntity: { identityMap: { ECID: [{ id: "1" }] } } } }))
        expect(invalid.status).toBe(400)
        expect(invalid.body.detail).toMatch(/38 digits/)
      })
    )

    it.effect("bad input gets a clear 4xx with AEP's body", () =>
      Effect.gen(function* () {
        const malformed = yield* raw("POST", "/data/core/ups/config/mergePolicies", { body: "{not json", headers: { "content-type": "application/json" } })
        expect(malformed.status).toBe(400)
        expect(malformed.body).toMatchObject({ status: 400, title: expect.any(String), detail: expect.any(String) })
        const wrongType = yield* raw("POST", "/data/core/ups/config/mergePolicies", { body: "{}", headers: { "content-type": "text/plain" } })
        expect(wrongType).toMatchObject({ status: 400, body: { detail: "A valid content-type must be specified" } })
        const missingField = yield* raw("POST", "/data/core/ups/config/mergePolicies", json({ name: "x" }))
        expect(missingField.status).toBe(400)
        expect(missingField.body.detail).toMatch(/schema/)
        const unknownDataset = yield* raw("POST", "/data/foundation/import/batches", json({ datasetId: "nope" }))
        expect(unknownDataset.status).toBe(404)
        expect(unknownDataset.body.detail).toMatch(/nope/)
        const noClass = yield* raw("POST", "/data/foundation/catalog/dataSets", json({ name: "x", schemaRef: { id: "https://ns.adobe.com/tenant/schemas/123" } }))
        expect(noClass.status).toBe(400)
        expect(noClass.body.detail).toMatch(/xdmClass/)
        const huge = yield* raw("POST", "/data/core/ups/access/entities", {
          body: JSON.stringify({ "schema.name": "_xdm.context.profile", identities: [], pad: "x".repeat(11 * 1024 * 1024) }),
          headers: { "content-type": "application/json" }
        })
        expect(huge.status).toBe(413)
        // Read to its end first (else Node 24 cuts the connection under a client still sending), then closed.
        expect(huge.headers.connection).toBe("close")
        expect(huge.body.detail).toMatch(/limit/)
        const noSchema = yield* raw("GET", "/data/core/ups/access/entities?entityId=x")
        expect(noSchema.status).toBe(400)
        expect(noSchema.body.detail).toMatch(/schema.name/)
        const noNamespace = yield* raw("GET", "/data/core/ups/access/entities?schema.name=_xdm.context.profile")
        expect(noNamespace.status).toBe(400)
        // Trailing slashes route like none.
        expect((yield* raw("GET", "/data/core/ups/config/mergePolicies/")).status).toBe(200)
      })
    )

    it.effect("creates sandboxes whose data is isolated", () =>
      Effect.gen(function* () {
        const created = yield* raw("POST", "/data/foundation/sandbox-management/sandboxes", json({ name: "dev", title: "Dev", type: "development" }))
        expect(created).toMatchObject({ status: 201, body: { name: "dev", type: "development" } })
        const prodDataset = yield* createDataset()
        yield* batch(prodDataset, { "a.json": record("iso", "Prod") })
        const client = yield* ProfileClient.ProfileClient
        const { Platform } = yield* Effect.promise(() => import("@rtcp/core"))
        const inDev = yield* Effect.flip(client.getProfile(Identity.make("CRMID", "iso")).pipe(Platform.withSandbox("dev")))
        expect(inDev._tag).toBe("NotFound")
        const duplicate = yield* raw("POST", "/data/foundation/sandbox-management/sandboxes", json({ name: "dev" }))
        expect(duplicate.status).toBe(400)
      })
    )
  })
})
