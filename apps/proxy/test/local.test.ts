/**
 * Both surfaces against the real local profile service: the proxy's answers
 * are Adobe's answers (compared with the service called directly), scopes
 * hold, and an unmodified AEP client (the core's own) works through it.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Identity, ProfileClient } from "@rtcp/core"
import { Chunk, ConfigProvider, Effect, Layer, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { callers } from "./support/fake.js"
import { type LocalProxy, localProxy } from "./support/local.js"

const JANE = "jane.doe@example.com"
const profileQuery = (email: string, extra = "") =>
  `/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=${encodeURIComponent(email)}&entityIdNS=Email${extra}`

/** AEP error bodies carry the request id, which differs per call. */
const withoutRequestId = (body: unknown) => {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body
  const { requestId: _ignored, ...rest } = body as Record<string, unknown>
  return rest
}

let local: LocalProxy
beforeAll(async () => {
  local = await localProxy()
  // A second sandbox for scope tests.
  const created = await local.direct.request("/data/foundation/sandbox-management/sandboxes", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "dev", title: "Development", type: "development" })
  })
  expect(created.status).toBeLessThan(300)
})
afterAll(() => local?.close())

describe("AEP-compatible surface against the local service", () => {
  it("answers a profile lookup exactly as the service does", async () => {
    const direct = await local.direct.request(profileQuery(JANE))
    const proxied = await local.request(profileQuery(JANE))
    expect(proxied.status).toBe(200)
    expect(await proxied.json()).toEqual(await direct.json())
    // With fields (identities pseudo-field included) too.
    const fields = "&fields=person.name,identities"
    expect(await (await local.request(profileQuery(JANE, fields))).json()).toEqual(
      await (await local.direct.request(profileQuery(JANE, fields))).json()
    )
  })

  it("passes events, merge policies and computed attributes through unchanged", async () => {
    const xid = Object.keys((await (await local.direct.request(profileQuery(JANE))).json()) as object)[0]!
    for (const path of [
      `/data/core/ups/access/entities?schema.name=_xdm.context.experienceevent&relatedSchema.name=_xdm.context.profile&relatedEntityId=${xid}&limit=3`,
      "/data/core/ups/config/mergePolicies",
      "/data/core/ca/attributes",
      "/data/core/ups/previewsamplestatus"
    ]) {
      const direct = await local.direct.request(path)
      const proxied = await local.request(path)
      expect(proxied.status, path).toBe(direct.status)
      expect(await proxied.text(), path).toBe(await direct.text())
    }
  })

  it.each([
    ["400: missing schema.name", "/data/core/ups/access/entities?entityId=x&entityIdNS=Email", undefined],
    ["404: no such profile", profileQuery("nobody@example.com"), undefined],
    ["404: no such merge policy", "/data/core/ups/config/mergePolicies/00000000-0000-0000-0000-000000000000", undefined],
    ["400: invalid merge policy", "/data/core/ups/config/mergePolicies", { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"x"}' }],
    ["400: no content type", "/data/core/ups/config/mergePolicies", { method: "POST", body: "{}" }],
    [
      "415: wrong vendor media type",
      "/data/core/ups/config/destinations",
      { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" }
    ]
  ] as Array<[string, string, RequestInit | undefined]>)("maps %s to the same status", async (_, path, init) => {
    const direct = await local.direct.request(path, { ...init })
    const proxied = await local.request(path, { ...init })
    expect(proxied.status).toBe(direct.status)
    expect(proxied.status).toBeGreaterThanOrEqual(400)
    if (!path.includes("entityIdNS=Email&") && !path.startsWith(profileQuery("nobody@example.com"))) {
      expect(withoutRequestId(await proxied.json())).toEqual(withoutRequestId(await direct.json()))
    }
  })

  it("writes with a read-write key, and forgets cached lookups after an entity delete", async () => {
    const email = "delete.me@example.com"
    // Make a profile for this test only.
    const dataset = await local.direct.request("/data/foundation/catalog/dataSets", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "proxy-test", schemaRef: { id: "https://ns.adobe.com/xdm/context/profile" }, tags: { unifiedProfile: ["enabled:true"] } })
    })
    expect(dataset.status).toBeLessThan(300)
    const [datasetPath] = (await dataset.json()) as Array<string>
    const datasetId = datasetPath!.split("/").pop()!
    const ingested = await local.direct.request(`/data/foundation/import/batches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ datasetId, inputFormat: { format: "json" } })
    })
    expect(ingested.status).toBeLessThan(300)
    const { id: batchId } = (await ingested.json()) as { id: string }
    const record = { identityMap: { Email: [{ id: email, primary: true }] }, person: { name: { firstName: "Del" } } }
    expect((await local.direct.request(`/data/foundation/import/batches/${batchId}/datasets/${datasetId}/files/one.json`, { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: JSON.stringify([record]) })).status).toBeLessThan(300)
    expect((await local.direct.request(`/data/foundation/import/batches/${batchId}?action=COMPLETE`, { method: "POST" })).status).toBeLessThan(300)

    const lookup = () => local.request(`/v1/profiles/Email/${email}`)
    let first: Response | undefined
    for (let i = 0; i < 100; i++) {
      first = await lookup()
      if (first.status === 200) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(first!.status).toBe(200)
    expect((await lookup()).headers.get("cache-status")).toContain("hit")
    const deleted = await local.request(`/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=${email}&entityIdNS=Email`, { method: "DELETE" })
    expect(deleted.status).toBe(202)
    let after: Response | undefined
    for (let i = 0; i < 100; i++) {
      after = await lookup()
      if (after.status === 404) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(after!.status).toBe(404)
  })
})

describe("scopes against the local service", () => {
  it("runs a key's requests in its own sandbox, whatever the caller sends", async () => {
    const sandboxOf = async (response: Response) =>
      ((await response.json()) as { children: Array<{ sandbox: { sandboxName: string } }> }).children[0]?.sandbox.sandboxName
    // dev-only key, no header: its own sandbox.
    expect(await sandboxOf(await local.request("/data/core/ups/config/mergePolicies", { as: "dev" }))).toBe("dev")
    const tricks: Array<Record<string, string>> = [
      { "x-sandbox-name": "prod" },
      { "x-sandbox-name": "PROD" },
      { "x-sandbox-name": "dev, prod" },
      { "x-sandbox-name": "dev,prod" },
      { "x-sandbox-name": " prod" },
      { "x-sandbox-name": "prod%00" },
      { "x-sandbox-name": "*" }
    ]
    for (const headers of tricks) {
      const response = await local.request("/data/core/ups/config/mergePolicies", { as: "dev", headers })
      expect([400, 403], JSON.stringify(headers)).toContain(response.status)
    }
    // x-sandbox-id and a query parameter cannot pick another sandbox.
    const byId = await local.request("/data/core/ups/config/mergePolicies?x-sandbox-name=prod", {
      as: "dev",
      headers: { "x-sandbox-id": "prod" }
    })
    expect(await sandboxOf(byId)).toBe("dev")
    const twice = new Headers({ "x-api-key": callers.dev.key })
    twice.append("x-sandbox-name", "dev")
    twice.append("x-sandbox-name", "prod")
    expect((await local.request("/data/core/ups/config/mergePolicies", { headers: twice })).status).toBe(400)
    // The internal API too.
    expect((await local.request(`/v1/profiles/Email/${JANE}`, { as: "dev", headers: { "x-sandbox-name": "prod" } })).status).toBe(403)
  })

  it("keeps a read-only key from writing, and lets it read (read-only POSTs included)", async () => {
    const before = await (await local.direct.request("/data/core/ups/config/mergePolicies")).text()
    const policy = JSON.stringify({ name: "ro", schema: { name: "_xdm.context.profile" }, identityGraph: { type: "none" }, attributeMerge: { type: "timestampOrdered" } })
    const writes: Array<[string, string]> = [
      ["POST", "/data/core/ups/config/mergePolicies"],
      ["PUT", "/data/core/ups/config/mergePolicies/x"],
      ["PATCH", "/data/core/ups/config/mergePolicies/x"],
      ["DELETE", "/data/core/ups/config/mergePolicies/x"],
      ["DELETE", `/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=${JANE}&entityIdNS=Email`],
      ["POST", "/data/core/ups/system/jobs"],
      ["POST", "/data/core/ca/attributes"],
      ["POST", "/data/core/ups/export/jobs"]
    ]
    for (const [method, path] of writes) {
      const response = await local.request(path, { as: "reader", method, headers: { "content-type": "application/json" }, body: policy })
      expect(response.status, `${method} ${path}`).toBe(403)
      expect(await response.json()).toMatchObject({ type: "/rtcp/proxy/errors/read-only-key" })
    }
    expect(await (await local.direct.request("/data/core/ups/config/mergePolicies")).text()).toBe(before)
    const batch = await local.request("/data/core/ups/access/entities", {
      as: "reader",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ schema: { name: "_xdm.context.profile" }, identities: [{ entityId: JANE, entityIdNS: { code: "Email" } }] })
    })
    expect(batch.status).toBe(200)
    expect((await local.request(`/v1/profiles/Email/${JANE}`, { as: "reader" })).status).toBe(200)
  })
})

describe("internal API against the local service", () => {
  it("answers the merged profile and every event page", async () => {
    const direct = (await (await local.direct.request(profileQuery(JANE))).json()) as Record<string, unknown>
    const profile = await (await local.request(`/v1/profiles/Email/${JANE}`)).json()
    expect(profile).toEqual(Object.values(direct)[0])

    const xid = Object.keys(direct)[0]!
    const all = await (await local.direct.request(
      `/data/core/ups/access/entities?schema.name=_xdm.context.experienceevent&relatedSchema.name=_xdm.context.profile&relatedEntityId=${xid}&limit=1000`
    )).json() as { children: Array<unknown> }
    expect(all.children.length).toBeGreaterThan(3)
    const paged: Array<unknown> = []
    let href: string | null = `/v1/profiles/Email/${JANE}/events?limit=2`
    while (href !== null) {
      const page = (await (await local.request(href)).json()) as { events: Array<unknown>; _links: { next: { href: string } | null } }
      paged.push(...page.events)
      href = page._links.next?.href ?? null
    }
    expect(paged).toEqual(all.children)
  })

  it("answers batches with one status per identity", async () => {
    const response = await local.request("/v1/profiles:batchGet", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identities: [{ namespace: "Email", id: JANE }, { namespace: "Email", id: "nobody@example.com" }], fields: ["person.name"] })
    })
    const { results } = (await response.json()) as { results: Array<{ status: number; profile?: { entity: unknown } }> }
    expect(results.map((r) => r.status)).toEqual([200, 404])
    expect(Object.keys(results[0]!.profile!.entity as object)).toEqual(["person"])
  })
})

describe("an existing AEP client, unchanged", () => {
  it("works through the proxy by changing only its base URLs", async () => {
    const running = await local.listen()
    try {
      const config = ConfigProvider.fromMap(
        new Map([
          ["AEP_CLIENT_ID", "writer"],
          ["AEP_CLIENT_SECRET", callers.writer.key],
          ["AEP_ORG_ID", "WHATEVER@AdobeOrg"],
          ["AEP_PLATFORM_URL", running.url],
          ["AEP_IMS_URL", running.url]
        ])
      )
      const Client = ProfileClient.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici), Layer.provide(Layer.setConfigProvider(config)))
      const program = Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const jane = yield* client.getProfile(Identity.make("Email", JANE))
        const many = yield* client.getProfiles([Identity.make("Email", JANE), Identity.xid(jane.entityId)])
        const events = yield* Stream.runCollect(Stream.take(client.experienceEvents(Identity.xid(jane.entityId), { limit: 2 }), 5))
        const policies = yield* Stream.runCollect(client.mergePolicies())
        const created = yield* client.createMergePolicy({
          name: "through the proxy",
          schema: { name: "_xdm.context.profile" },
          identityGraph: { type: "pdg" },
          attributeMerge: { type: "timestampOrdered" }
        })
        const fetched = yield* client.getMergePolicy(created.id)
        yield* client.deleteMergePolicy(created.id)
        const gone = yield* Effect.flip(client.getMergePolicy(created.id))
        return { jane, many, events: Chunk.size(events), policies: Chunk.size(policies), fetched, gone }
      })
      const result = await Effect.runPromise(program.pipe(Effect.provide(Client)))
      const direct = (await (await local.direct.request(profileQuery(JANE))).json()) as Record<string, unknown>
      expect(result.jane).toEqual(Object.values(direct)[0])
      expect(Object.keys(result.many)).toEqual([result.jane.entityId])
      expect(result.events).toBe(5)
      expect(result.policies).toBeGreaterThan(0)
      expect(result.fetched.name).toBe("through the proxy")
      expect(result.gone._tag).toBe("NotFound")
    } finally {
      await running.close()
    }
  })
})
