/**
 * The app in-process (`app.request`) over a scripted upstream: routing,
 * header hygiene, error mapping, lookups, limits and cancellation.
 */
import { afterEach, describe, expect, it } from "vitest"
import { ADOBE_TOKEN, callers, fakeProxy, hang, json, type Responder } from "./support/fake.js"
import { eventPage, mergePolicies, profileApi, xidOf } from "./support/profiles.js"

let disposers: Array<() => Promise<void>> = []
const proxy = (respond: Responder = profileApi, options: Parameters<typeof fakeProxy>[1] = {}) => {
  const made = fakeProxy(respond, options)
  disposers.push(made.dispose)
  return made
}
afterEach(async () => {
  await Promise.all(disposers.map((dispose) => dispose()))
  disposers = []
})

const eventually = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 500; i++) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe("caller authentication", () => {
  it("refuses a request without a key, before any upstream call", async () => {
    const p = proxy()
    const response = await p.request("/data/core/ups/config/mergePolicies", { as: null })
    expect(response.status).toBe(401)
    expect(response.headers.get("content-type")).toBe("application/problem+json")
    expect(response.headers.get("www-authenticate")).toContain("Bearer")
    expect(await response.json()).toMatchObject({ status: 401, title: "API key required" })
    expect(p.fake.requests).toHaveLength(0)
    expect(p.audit.at(-1)).toMatchObject({ caller: null, status: 401 })
  })

  it("refuses an unknown key", async () => {
    const p = proxy()
    const response = await p.request("/v1/profiles/Email/a@b.c", { headers: { "x-api-key": "nope" } })
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ title: "API key not valid" })
  })

  it("accepts the key as x-api-key or as a bearer token", async () => {
    const p = proxy()
    expect((await p.request("/data/core/ups/config/mergePolicies", { headers: { "x-api-key": callers.writer.key } })).status).toBe(200)
    expect((await p.request("/data/core/ups/config/mergePolicies", { headers: { authorization: `Bearer ${callers.writer.key}` } })).status).toBe(200)
    // An AEP client sends its (proxy) token as bearer and its client id as x-api-key.
    const both = await p.request("/data/core/ups/config/mergePolicies", {
      headers: { authorization: `Bearer ${callers.writer.key}`, "x-api-key": "some-client-id" }
    })
    expect(both.status).toBe(200)
  })

  it("answers 404 for an unknown route only to a caller with a key", async () => {
    const p = proxy()
    expect((await p.request("/nothing/here", { as: null })).status).toBe(401)
    const response = await p.request("/nothing/here")
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ type: "/rtcp/proxy/errors/not-found" })
  })

  it("exchanges a key for a bearer token on the IMS-compatible endpoint", async () => {
    const p = proxy()
    const form = (secret: string, id = "writer") =>
      p.request("/ims/token/v3", {
        as: null,
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `grant_type=client_credentials&client_id=${id}&client_secret=${encodeURIComponent(secret)}`
      })
    const ok = await form(callers.writer.key)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ access_token: callers.writer.key, token_type: "bearer", expires_in: 86400 })
    expect((await form("wrong")).status).toBe(401)
    expect((await form(callers.writer.key, "reader")).status).toBe(401)
    expect(JSON.stringify(p.audit)).not.toContain(callers.writer.key)
  })
})

describe("AEP-compatible surface", () => {
  it("passes a GET through with the proxy's credentials and none of the caller's", async () => {
    const p = proxy()
    const response = await p.request("/data/core/ups/config/mergePolicies?limit=5&orderBy=-name", {
      headers: {
        accept: "application/json",
        cookie: "session=abc",
        "x-gw-ims-org-id": "EVIL@AdobeOrg",
        "x-sandbox-id": "another-sandbox-uuid",
        "x-forwarded-for": "10.0.0.1",
        "x-sandbox-name": "prod"
      }
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual(mergePolicies)
    const sent = p.fake.requests[0]!
    expect(sent.url.toString()).toBe("http://aep.test/data/core/ups/config/mergePolicies?limit=5&orderBy=-name")
    expect(sent.headers["authorization"]).toBe(`Bearer ${ADOBE_TOKEN}`)
    expect(sent.headers["x-api-key"]).toBe("adobe-client-id")
    expect(sent.headers["x-gw-ims-org-id"]).toBe("ORG@AdobeOrg")
    expect(sent.headers["x-sandbox-name"]).toBe("prod")
    expect(sent.headers["accept"]).toBe("application/json")
    for (const dropped of ["cookie", "x-sandbox-id", "x-forwarded-for"]) expect(sent.headers[dropped]).toBeUndefined()
    // No span is made per call, so no trace context of ours travels to Adobe either.
    for (const tracing of ["traceparent", "b3"]) expect(sent.headers[tracing]).toBeUndefined()
    expect(JSON.stringify(sent.headers)).not.toContain(callers.writer.key)
    // Upstream's cookie stays upstream; its request id is renamed; other headers pass.
    expect(response.headers.get("set-cookie")).toBeNull()
    expect(response.headers.get("x-upstream-request-id")).toBe(sent.headers["x-request-id"])
    expect(response.headers.get("x-request-id")).not.toBe("up-123")
    expect(response.headers.get("etag")).toBe('"v1"')
  })

  it("passes bodies through byte for byte, both ways", async () => {
    const body = '{"name":"vip","schema":{"name":"_xdm.context.profile"},"identityGraph":{"type":"pdg"},"attributeMerge":{"type":"timestampOrdered"},"x-unknown":[1,{"y":null}]}'
    const answer = '{"id":"mp-9","name":"vip","zzz":{"nested":"kept"},"version":1}'
    const p = proxy((request) => ({ status: 200, body: request.method === "POST" ? answer : "{}", headers: { "content-type": "application/json" } }))
    const response = await p.request("/data/core/ups/config/mergePolicies", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body
    })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe(answer)
    expect(p.fake.requests[0]!.body).toBe(body)
    expect(p.fake.requests[0]!.headers["content-type"]).toBe("application/json")
  })

  it("serves the computed attributes base path too", async () => {
    const p = proxy((request) => json(200, { path: request.path }))
    const response = await p.request("/data/core/ca/attributes?limit=2")
    expect(await response.json()).toEqual({ path: "/data/core/ca/attributes" })
  })

  it.each([
    [400, { message: "UPS-MRG-1000001: bad request", statusCode: "400" }],
    [403, { message: "UPS-ACC-1000004: IMS Org is not provisioned.", statusCode: "403" }],
    [404, { statusCode: "404" }],
    [409, { type: "x", title: "version conflict", status: 409 }],
    [415, { type: "x", title: "wrong media type", status: 415 }],
    [422, { message: "Too many related identities", statusCode: "422" }]
  ])("passes upstream %i through with AEP's body, without retrying", async (status, body) => {
    const p = proxy(() => json(status, body))
    const response = await p.request("/data/core/ups/config/mergePolicies/mp-1")
    expect(response.status).toBe(status)
    expect(await response.json()).toEqual(body)
    expect(p.fake.requests).toHaveLength(1)
  })

  it.each([500, 502, 503, 504])("retries an idempotent call on %i, then passes the last answer through", async (status) => {
    const p = proxy(() => json(status, { message: "Unable to connect", statusCode: String(status) }))
    const response = await p.request("/data/core/ups/config/mergePolicies")
    expect(response.status).toBe(status)
    expect(await response.json()).toEqual({ message: "Unable to connect", statusCode: String(status) })
    expect(p.fake.requests).toHaveLength(3)
  })

  it("never retries a POST that writes", async () => {
    const p = proxy(() => json(503, { message: "unavailable" }))
    const response = await p.request("/data/core/ups/config/mergePolicies", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}"
    })
    expect(response.status).toBe(503)
    expect(p.fake.requests).toHaveLength(1)
  })

  it("recovers from a 429 storm honouring Retry-After, or passes the 429 on with its Retry-After", async () => {
    const storm = [{ message: "Too many requests", retryAfterMs: "0", statusCode: "429" }]
    let calls = 0
    const recovering = proxy(() => (++calls < 3 ? json(429, storm, { "retry-after": "0" }) : json(200, mergePolicies)))
    expect((await recovering.request("/data/core/ups/config/mergePolicies")).status).toBe(200)
    expect(calls).toBe(3)

    const p = proxy(() => json(429, storm, { "retry-after": "1" }))
    const response = await p.request("/data/core/ups/config/mergePolicies")
    expect(response.status).toBe(429)
    expect(response.headers.get("retry-after")).toBe("1")
    expect(await response.json()).toEqual(storm)
    expect(p.fake.requests).toHaveLength(3)
  })

  it("answers 502 when Adobe rejects the proxy's token (the caller's key was fine)", async () => {
    const p = proxy(() => json(401, { error_code: "401013", message: "Oauth token is not valid" }))
    const response = await p.request("/data/core/ups/config/mergePolicies")
    expect(response.status).toBe(502)
    const body = await response.json()
    expect(body).toMatchObject({ status: 502, title: "Upstream rejected the proxy's credentials" })
    expect(JSON.stringify(body)).not.toContain(ADOBE_TOKEN)
  })

  it("answers 502 when upstream drops the connection (after retrying a read)", async () => {
    const p = proxy(() => ({ drop: "socket hang up" }))
    const response = await p.request("/data/core/ups/config/mergePolicies")
    expect(response.status).toBe(502)
    expect(await response.json()).toMatchObject({ status: 502, title: "Upstream did not answer" })
    expect(p.fake.requests).toHaveLength(3)
  })

  it("answers a single-profile GET from the batching lookup, in Adobe's shape", async () => {
    const p = proxy()
    const response = await p.request(
      "/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=jane@example.com&entityIdNS=email&fields=person,_tenant"
    )
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, any>
    const entity = body[xidOf("jane@example.com")]
    expect(entity.someFieldAdobeAddsLater).toEqual({ x: 1 })
    expect(entity.entity._tenant.loyalty.unknownNested).toEqual({ a: [1, 2, 3] })
    expect(entity.entity.identities).toBeUndefined()
    const sent = p.fake.requests[0]!
    expect(sent.method).toBe("POST")
    expect(JSON.parse(sent.body!)).toMatchObject({ identities: [{ entityId: "jane@example.com", entityIdNS: { code: "email" } }] })
    // XIDs and anything unusual go through as Adobe's GET.
    await p.request("/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=BVrqzwVv")
    expect(p.fake.requests[1]!.method).toBe("GET")
  })

  it("answers a missing profile with 404 in UPS's shape", async () => {
    const p = proxy()
    const response = await p.request("/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=missing@x.com&entityIdNS=email")
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ statusCode: "404" })
  })

  it("forgets cached lookups after a write or an entity delete", async () => {
    const p = proxy()
    const lookup = () => p.request("/v1/profiles/Email/jane@example.com")
    expect((await lookup()).headers.get("cache-status")).toContain("miss")
    expect((await lookup()).headers.get("cache-status")).toContain("hit")
    await p.request("/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=xid-1", { method: "DELETE" })
    expect((await lookup()).headers.get("cache-status")).toContain("miss")
    expect((await lookup()).headers.get("cache-status")).toContain("hit")
    await p.request("/data/core/ups/config/mergePolicies/mp-1", { method: "PATCH", headers: { "content-type": "application/json" }, body: "[]" })
    expect((await lookup()).headers.get("cache-status")).toContain("miss")
    // Reads do not.
    await p.request("/data/core/ups/access/entities", { method: "POST", headers: { "content-type": "application/json" }, body: '{"schema":{"name":"_xdm.context.profile"},"identities":[]}' })
    expect((await lookup()).headers.get("cache-status")).toContain("hit")
  })
})

describe("internal API", () => {
  it("looks a profile up, keeping every field, and caches it", async () => {
    const p = proxy()
    const first = await p.request("/v1/profiles/Email/jane%40example.com?fields=person")
    expect(first.status).toBe(200)
    expect(first.headers.get("cache-status")).toBe("rtcp-proxy; fwd=miss")
    const profile = (await first.json()) as Record<string, any>
    expect(profile.entityId).toBe(xidOf("jane@example.com"))
    expect(profile.someFieldAdobeAddsLater).toEqual({ x: 1 })
    const second = await p.request("/v1/profiles/Email/jane%40example.com?fields=person")
    expect(second.headers.get("cache-status")).toBe("rtcp-proxy; hit")
    expect(p.fake.requests).toHaveLength(1)
    expect(p.audit.at(-1)).toMatchObject({ cache: "hit", route: "/v1/profiles/:namespace/:id", sandbox: "prod", status: 200 })
  })

  it("shares one upstream call between concurrent lookups, identical or not", async () => {
    const p = proxy()
    const ids = ["a@x.com", "b@x.com", "a@x.com", "c@x.com", "a@x.com"]
    const answers = await Promise.all(ids.map((id) => p.request(`/v1/profiles/Email/${id}`)))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200])
    expect(p.fake.requests).toHaveLength(1)
    const body = JSON.parse(p.fake.requests[0]!.body!) as { identities: Array<unknown> }
    expect(body.identities).toHaveLength(3)
    const results = p.metrics.lookupCache
    expect((await results.get()).values.find((v) => v.labels.result === "shared")?.value).toBe(2)
  })

  it("answers 404 for an identity without a profile, and 400 for a malformed one", async () => {
    const p = proxy()
    expect((await p.request("/v1/profiles/Email/missing@x.com")).status).toBe(404)
    const bad = await p.request("/v1/profiles/Em%20ail/x")
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ type: "/rtcp/proxy/errors/bad-request" })
  })

  it("pages events by time range and cursor", async () => {
    const p = proxy()
    const response = await p.request("/v1/profiles/Email/jane@example.com/events?startTime=2024-01-01T00:00:00Z&endTime=1800000000000&limit=10&order=desc&property=a%3D1")
    expect(response.status).toBe(200)
    const page = (await response.json()) as Record<string, any>
    expect(page.events).toEqual(eventPage.children)
    expect(page.page).toEqual({ count: 1, next: "cursor-2" })
    expect(page._links.next.href).toContain("cursor=cursor-2")
    const sent = p.fake.requests[0]!.url.searchParams
    expect(Object.fromEntries(sent)).toMatchObject({
      "schema.name": "_xdm.context.experienceevent",
      "relatedSchema.name": "_xdm.context.profile",
      relatedEntityId: "jane@example.com",
      relatedEntityIdNS: "Email",
      startTime: String(Date.parse("2024-01-01T00:00:00Z")),
      endTime: "1800000000000",
      limit: "10",
      orderby: "-timestamp",
      property: "a=1"
    })
    await p.request(`/v1/profiles/Email/jane@example.com/events?cursor=cursor-2`)
    expect(p.fake.requests[1]!.url.searchParams.get("start")).toBe("cursor-2")
    expect((await p.request("/v1/profiles/Email/x/events?limit=0")).status).toBe(400)
    expect((await p.request("/v1/profiles/Email/x/events?startTime=yesterday")).status).toBe(400)
  })

  it("looks many profiles up in one call, each with its own status", async () => {
    const p = proxy()
    const response = await p.request("/v1/profiles:batchGet", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identities: [{ namespace: "Email", id: "a@x.com" }, { namespace: "Email", id: "missing@x.com" }], fields: ["person"] })
    })
    expect(response.status).toBe(200)
    const { results } = (await response.json()) as { results: Array<Record<string, any>> }
    expect(results[0]).toMatchObject({ namespace: "Email", id: "a@x.com", status: 200, profile: { entityId: xidOf("a@x.com") } })
    expect(results[1]).toMatchObject({ id: "missing@x.com", status: 404, error: { status: 404 } })
    expect(p.fake.requests).toHaveLength(1)
    const tooMany = { identities: Array.from({ length: 101 }, (_, i) => ({ namespace: "Email", id: `${i}@x.com` })) }
    expect((await p.request("/v1/profiles:batchGet", { method: "POST", body: JSON.stringify(tooMany) })).status).toBe(400)
    expect((await p.request("/v1/profiles:batchGet", { method: "POST", body: "{not json" })).status).toBe(400)
  })

  it("serves its OpenAPI document", async () => {
    const p = proxy()
    const response = await p.request("/v1/openapi.json")
    const document = (await response.json()) as { paths: Record<string, unknown>; components: Record<string, any> }
    expect(Object.keys(document.paths).sort()).toEqual(["/v1/profiles/{namespace}/{id}", "/v1/profiles/{namespace}/{id}/events", "/v1/profiles:batchGet"])
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(["apiKey", "bearer"])
  })
})

describe("limits and cancellation", () => {
  it("limits each caller's rate with the standard headers and Retry-After", async () => {
    const p = proxy()
    for (let i = 0; i < 3; i++) {
      const ok = await p.request("/data/core/ups/config/mergePolicies", { as: "limited" })
      expect(ok.status).toBe(200)
      expect(ok.headers.get("ratelimit-limit")).toBe("3")
      expect(ok.headers.get("ratelimit-remaining")).toBe(String(2 - i))
    }
    const refused = await p.request("/data/core/ups/config/mergePolicies", { as: "limited" })
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0)
    expect(refused.headers.get("ratelimit-remaining")).toBe("0")
    expect(refused.headers.get("ratelimit-policy")).toBe("3;w=60")
    // AEP clients read retryAfterMs from AEP's 429 array.
    const [item] = (await refused.json()) as Array<Record<string, string>>
    expect(item).toMatchObject({ message: "Too many requests", statusCode: "429" })
    expect(Number(item!.retryAfterMs)).toBeGreaterThan(0)
    const internal = await p.request("/v1/profiles/Email/a@x.com", { as: "limited" })
    expect(internal.status).toBe(429)
    expect(await internal.json()).toMatchObject({ type: "/rtcp/proxy/errors/rate-limited", status: 429 })
    // Other callers are not affected.
    expect((await p.request("/data/core/ups/config/mergePolicies", { as: "reader" })).status).toBe(200)
    expect(p.fake.requests).toHaveLength(4)
  })

  it("refuses bodies over the limit, declared or streamed", async () => {
    const p = proxy(profileApi, { maxBodyBytes: 64 })
    const declared = await p.request("/data/core/ups/config/mergePolicies", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(100) })
    })
    expect(declared.status).toBe(413)
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("0123456789"))
        controller.close()
      }
    })
    const streamed = await p.request("/data/core/ups/config/mergePolicies", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunks,
      duplex: "half"
    } as RequestInit)
    expect(streamed.status).toBe(413)
    expect(p.fake.requests).toHaveLength(0)
  })

  it("times out with 504 and cancels the upstream call", async () => {
    const p = proxy((_, signal) => hang(signal), { timeoutMs: 100 })
    const response = await p.request("/data/core/ups/config/mergePolicies")
    expect(response.status).toBe(504)
    expect(await response.json()).toMatchObject({ type: "/rtcp/proxy/errors/timeout" })
    await eventually(() => p.fake.interrupted.length === 1, "the upstream call to be interrupted")
  })

  it("cancels the upstream call when the client goes away", async () => {
    const p = proxy((_, signal) => hang(signal))
    const controller = new AbortController()
    const pending = p.app.request(
      new Request("http://proxy.test/v1/profiles/Email/jane@example.com/events", {
        headers: { "x-api-key": callers.writer.key },
        signal: controller.signal
      })
    )
    await eventually(() => p.fake.requests.length === 1, "the upstream call")
    controller.abort()
    const response = await pending
    expect(response.status).toBe(499)
    await eventually(() => p.fake.interrupted.length === 1, "the upstream call to be interrupted")
    expect(p.audit.at(-1)).toMatchObject({ status: 499, route: "/v1/profiles/:namespace/:id/events" })
  })
})

describe("metrics and audit", () => {
  it("labels by route pattern and caller, never by raw path", async () => {
    const p = proxy()
    await p.request("/v1/profiles/Email/jane.secret@example.com")
    await p.request("/data/core/ups/config/mergePolicies/mp-1234")
    await p.request("/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=jane.secret@example.com&entityIdNS=email")
    const text = await p.metrics.render()
    expect(text).toContain('rtcp_proxy_requests_total{route="/v1/profiles/:namespace/:id",method="GET",status="200",caller="writer"} 1')
    expect(text).toContain('route="GET /data/core/ups/config/mergePolicies/:mergePolicyId"')
    expect(text).toContain('route="GET /data/core/ups/access/entities"')
    expect(text).toContain('rtcp_proxy_upstream_requests_total{endpoint="/data/core/ups/config/mergePolicies/:mergePolicyId",method="GET",status="200"} 1')
    expect(text).toContain("rtcp_lookup_batch_size_bucket")
    expect(text).toContain("rtcp_upstream_retries_total")
    expect(text).not.toContain("jane.secret")
    expect(text).not.toContain("mp-1234")
    expect(JSON.stringify(p.audit)).not.toContain("jane.secret")
    expect(JSON.stringify(p.audit)).not.toContain("mp-1234")
  })

  it("writes one audit line per request with caller, route, sandbox, status, upstream id and latency", async () => {
    const p = proxy()
    await p.request("/data/core/ups/config/mergePolicies", { headers: { "x-request-id": "caller-chosen-id" } })
    expect(p.audit).toHaveLength(1)
    const line = p.audit[0]!
    expect(line).toMatchObject({
      msg: "request",
      requestId: "caller-chosen-id",
      caller: "writer",
      method: "GET",
      route: "GET /data/core/ups/config/mergePolicies",
      sandbox: "prod",
      status: 200,
      upstreamRequestId: p.fake.requests[0]!.headers["x-request-id"]
    })
    expect(typeof line.latencyMs).toBe("number")
  })
})
