import { HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { EdgeProjection, ProfileClient } from "@rtcp/core"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { authHeaders, http, layer } from "./support/harness.js"

const fixture = (name: string): any =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../../packages/core/test/fixtures/projections/${name}.json`, import.meta.url)), "utf8")
  )

const keys = (o: object) => Object.keys(o).sort()

/** A raw POST/PUT with the given Content-Type (undefined: none at all). */
const send = (method: "POST" | "PUT", url: string, body: unknown, contentType: string | undefined) =>
  Effect.gen(function* () {
    const client = yield* http
    const headers = yield* authHeaders()
    const bytes = new TextEncoder().encode(JSON.stringify(body))
    const request = HttpClientRequest.make(method)(url).pipe(
      HttpClientRequest.setHeaders(headers),
      // An empty content type leaves the header out.
      HttpClientRequest.bodyUint8Array(bytes, contentType ?? "")
    )
    const response = yield* client.execute(request)
    return { status: response.status, headers: response.headers, body: (yield* response.json) as any }
  })

describe("edge projections through the core client", () => {
  it.layer(layer())((it) => {
    it.effect("destinations: create, read, list, update with versions, and answer AEP's envelopes", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const created = yield* client.createDestination(fixture("destination-create-request"))
        expect(created).toMatchObject({ type: "EDGE", dataCenters: ["OR1"], ttl: 3600, version: 1, replicationPolicy: "REACTIVE" })
        expect(created.self).toEqual({ href: `/data/core/ups/config/destinations/${created.id}`, templated: false })
        expect(keys(created)).toEqual(keys({ ...fixture("destination-create-response"), replicationPolicy: "" }))

        expect(yield* client.getDestination(created.id)).toEqual(created)

        const list = yield* client.listDestinations()
        expect(list._links?.self).toEqual(fixture("destinations-list")._links.self)
        const listed = list._embedded.projectionDestinations.find((d) => d.id === created.id)!
        expect(listed._links?.self?.href).toBe(created.self!.href)
        expect(listed.self).toBeUndefined()

        const put = yield* client.replaceDestination(created.id, { ...fixture("destination-put-request"), currentVersion: 1 })
        expect(put).toMatchObject({ dataCenters: ["OR1", "VA5"], ttl: 3600, version: 2 })
        expect(keys(put)).toEqual(keys({ ...fixture("destination-put-response"), replicationPolicy: "" }))

        const stale = yield* Effect.flip(client.replaceDestination(created.id, fixture("destination-put-request")))
        expect(stale._tag).toBe("BadRequest")
        expect(stale.status).toBe(409)
        expect(stale.message).toMatch(/at version 2, not 1/)

        const invalid = yield* Effect.flip(client.createDestination({ type: "EDGE", dataCenters: ["OR1"], ttl: 60 }))
        expect(invalid).toMatchObject({ _tag: "BadRequest", status: 400 })
        expect((invalid.body as any).detail).toMatch(/ttl 60 is out of range: use 600 to 604800/)

        const missing = yield* Effect.flip(client.getDestination("nope"))
        expect(missing._tag).toBe("NotFound")
      })
    )

    it.effect("projections: create, list by class and name, PUT create-or-update, and delete with references checked", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const destination = yield* client.createDestination(fixture("destination-create-request"))
        const input = { ...fixture("projection-create-request"), destinationId: destination.id }
        const created = yield* client.createProjection("_xdm.context.profile", input)
        expect(created).toMatchObject({
          selector: "emails,person(firstName)",
          name: "my_test_projection",
          schemaName: "_xdm.context.profile",
          destinationId: destination.id,
          version: 1
        })
        expect(keys(created)).toEqual(keys(fixture("projection-create-response")))
        expect(created._links).toEqual({
          destination: { href: `/data/core/ups/config/destinations/${destination.id}`, templated: false },
          self: { href: `/data/core/ups/config/projections/${created.id}`, templated: false }
        })
        expect(created._embedded?.destination).toEqual(destination)

        const byName = yield* client.listProjections({ schemaName: "_xdm.context.profile", name: "my_test_projection" })
        expect(byName._embedded.projectionConfigs.map((p) => p.id)).toEqual([created.id])
        expect(byName._links?.self?.href).toBe("/data/core/ups/config/projections")
        expect((yield* client.listProjections({ schemaName: "_xdm.context.experienceevent" }))._embedded.projectionConfigs).toEqual([])
        const nameOnly = yield* Effect.flip(client.listProjections({ name: "my_test_projection" }))
        expect(nameOnly).toMatchObject({ _tag: "BadRequest", status: 400 })

        const duplicate = yield* Effect.flip(client.createProjection("_xdm.context.profile", input))
        expect(duplicate.status).toBe(409)
        const badSelector = yield* Effect.flip(client.createProjection("_xdm.context.profile", { ...input, name: "x", selector: "emails, person" }))
        expect(badSelector).toMatchObject({ _tag: "BadRequest", status: 400 })
        expect((badSelector.body as any).detail).toMatch(/must not contain spaces/)
        const noDestination = yield* Effect.flip(client.createProjection("_xdm.context.profile", { ...input, name: "x", destinationId: "gone" }))
        expect(noDestination._tag).toBe("Unprocessable")
        expect(noDestination.message).toMatch(/Destination "gone" does not exist/)
        const noPolicy = yield* Effect.flip(client.createProjection("_xdm.context.profile", { ...input, name: "x", mergePolicyId: "gone" }))
        expect(noPolicy._tag).toBe("Unprocessable")

        const updated = yield* client.replaceProjection(created.id, { ...input, selector: "emails", currentVersion: 1 })
        expect(updated).toMatchObject({ selector: "emails", version: 2 })
        const stale = yield* Effect.flip(client.replaceProjection(created.id, { ...input, currentVersion: 1 }))
        expect(stale.status).toBe(409)
        const fresh = yield* client.replaceProjection("projection-by-put", { ...input, name: "made_by_put" })
        expect(fresh).toMatchObject({ id: "projection-by-put", version: 1, schemaName: "_xdm.context.profile" })
        expect((yield* client.getProjection("projection-by-put")).name).toBe("made_by_put")

        const inUse = yield* Effect.flip(client.deleteDestination(destination.id))
        expect(inUse._tag).toBe("Unprocessable")
        expect(inUse.message).toContain('"my_test_projection"')
        expect(inUse.message).toContain('"made_by_put"')

        yield* client.deleteProjection(created.id)
        yield* client.deleteProjection("projection-by-put")
        expect((yield* Effect.flip(client.getProjection(created.id)))._tag).toBe("NotFound")
        yield* client.deleteDestination(destination.id)
        expect((yield* Effect.flip(client.getDestination(destination.id)))._tag).toBe("NotFound")
      })
    )

    it.effect("content types: vendor type with or without version, application/json; 415 otherwise; 400 when missing", () =>
      Effect.gen(function* () {
        const url = "/data/core/ups/config/destinations"
        const body = fixture("destination-create-request")
        const withVersion = yield* send("POST", url, body, EdgeProjection.MediaType.destination)
        expect(withVersion.status).toBe(200)
        expect(withVersion.headers["content-type"]).toBe(EdgeProjection.MediaType.destination)
        expect(withVersion.body.self.href).toBe(`${url}/${withVersion.body.id}`)
        expect((yield* send("POST", url, body, "application/vnd.adobe.platform.projectionDestination+json")).status).toBe(200)
        expect((yield* send("POST", url, body, "APPLICATION/VND.ADOBE.PLATFORM.PROJECTIONDESTINATION+JSON;version=1")).status).toBe(200)
        expect((yield* send("POST", url, body, "application/json; charset=utf-8")).status).toBe(200)

        for (const wrong of [
          "text/plain",
          "application/x-www-form-urlencoded",
          EdgeProjection.MediaType.projection,
          EdgeProjection.MediaType.destinationList,
          "application/vnd.adobe.platform.projectionDestination+json; version=2"
        ]) {
          const answer = yield* send("POST", url, body, wrong)
          expect(answer.status, wrong).toBe(415)
          expect(answer.headers["content-type"]).toBe("application/problem+json")
          expect(answer.body).toMatchObject({ status: 415, title: "Unsupported media type" })
          expect(answer.body.detail).toContain(EdgeProjection.MediaType.destination)
        }
        const put = yield* send("PUT", `${url}/${withVersion.body.id}`, body, "text/plain")
        expect(put.status).toBe(415)

        const projection = { ...fixture("projection-create-request"), destinationId: withVersion.body.id }
        const projections = "/data/core/ups/config/projections?schemaName=_xdm.context.profile"
        expect((yield* send("POST", projections, projection, EdgeProjection.MediaType.destination)).status).toBe(415)
        const ok = yield* send("POST", projections, projection, "application/vnd.adobe.platform.projectionConfig+json")
        expect(ok.status).toBe(200)
        expect(ok.headers["content-type"]).toBe(EdgeProjection.MediaType.projection)
        expect((yield* send("PUT", `/data/core/ups/config/projections/${ok.body.id}`, projection, "text/plain")).status).toBe(415)

        const none = yield* send("POST", url, body, undefined)
        expect(none.status).toBe(400)
        expect(none.body).toMatchObject({ title: "BadRequestError", detail: "A valid content-type must be specified" })
      })
    )
  })
})
