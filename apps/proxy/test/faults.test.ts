/**
 * The proxy against a misbehaving upstream, using the local service's fault
 * injection: 429 storms, 5xx bursts, dropped connections, an IMS outage.
 */
import { AccessToken } from "@rtcp/core"
import { Redacted } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { type LocalProxy, demo, localProxy } from "./support/local.js"

const POLICIES = "/data/core/ups/config/mergePolicies"

describe("upstream faults", () => {
  let local: LocalProxy
  beforeAll(async () => {
    local = await localProxy()
  })
  afterEach(() => local.faults([]))
  afterAll(() => local?.close())

  it("rides out a short 429 storm, honouring Retry-After", async () => {
    await local.faults([`GET ${POLICIES} 429 retry-after=1 times=2`])
    const response = await local.request(POLICIES)
    expect(response.status).toBe(200)
    expect((await local.counters())[0]).toMatchObject({ fired: 2 })
  })

  it("passes a lasting 429 on to the caller with AEP's body and Retry-After", async () => {
    await local.faults([`GET ${POLICIES} 429 retry-after=1`])
    const response = await local.request(POLICIES)
    expect(response.status).toBe(429)
    expect(response.headers.get("retry-after")).toBe("1")
    const [item] = (await response.json()) as Array<Record<string, string>>
    expect(item).toMatchObject({ statusCode: "429", retryAfterMs: "1000" })
    // Three attempts (the test policy), then the answer as Adobe sent it.
    expect((await local.counters())[0]).toMatchObject({ fired: 3 })
  })

  it("retries batched lookups through a 429 as well", async () => {
    await local.faults(["POST /data/core/ups/access/entities 429 retry-after=1 times=1"])
    const response = await local.request("/v1/profiles/Email/jane.doe@example.com?fields=person")
    expect(response.status).toBe(200)
    expect((await local.counters())[0]).toMatchObject({ fired: 1 })
  })

  it("retries reads through a 5xx burst; passes a lasting 5xx on", async () => {
    await local.faults([`GET ${POLICIES} 503 times=2`])
    expect((await local.request(POLICIES)).status).toBe(200)
    for (const status of [500, 502, 503]) {
      await local.faults([`GET ${POLICIES} ${status}`])
      const response = await local.request(POLICIES)
      expect(response.status).toBe(status)
      expect(await response.json()).toMatchObject({ statusCode: String(status) })
    }
  })

  it("does not retry a write through a 5xx (it may have happened)", async () => {
    await local.faults([`POST ${POLICIES} 500 times=1`])
    const response = await local.request(POLICIES, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "once", schema: { name: "_xdm.context.profile" }, identityGraph: { type: "none" }, attributeMerge: { type: "timestampOrdered" } })
    })
    expect(response.status).toBe(500)
    expect((await local.counters())[0]).toMatchObject({ matched: 1, fired: 1 })
  })

  it("retries a read over a dropped connection; answers 502 when upstream keeps hanging up", async () => {
    await local.faults([`GET ${POLICIES} drop times=1`])
    expect((await local.request(POLICIES)).status).toBe(200)
    await local.faults([`GET ${POLICIES} drop`])
    const response = await local.request(POLICIES)
    expect(response.status).toBe(502)
    expect(await response.json()).toMatchObject({ title: "Upstream did not answer", status: 502 })
  })
})

describe("IMS outage", () => {
  let local: LocalProxy
  afterEach(async () => {
    await local?.close()
  })

  it("keeps serving while the cached token is valid, and says clearly when it is not", async () => {
    local = await localProxy()
    expect((await local.request(POLICIES)).status).toBe(200)
    await local.faults(["POST /ims/token/v3 503"])
    // The cached token still works: no IMS call needed.
    for (let i = 0; i < 3; i++) expect((await local.request(`${POLICIES}?limit=${i + 1}`)).status).toBe(200)
    expect((await local.counters())[0]).toMatchObject({ matched: 0 })
    // Now the token stops working (the local IMS rotates its key) while IMS is down.
    await local.faults(["POST /ims/token/v3 503", `GET ${POLICIES} expire-tokens times=1`])
    const response = await local.request(POLICIES)
    expect(response.status).toBe(503)
    const body = (await response.json()) as Record<string, string>
    expect(body).toMatchObject({ type: "/rtcp/proxy/errors/token-unavailable", title: "Adobe access token unavailable", status: 503 })
    expect(body.detail).toContain("IMS answered 503")
    expect(response.headers.get("retry-after")).not.toBeNull()
    const internal = await local.request("/v1/profiles/Email/jane.doe@example.com")
    expect(internal.status).toBe(503)
    expect(await internal.json()).toMatchObject({ type: "/rtcp/proxy/errors/token-unavailable" })
    const ready = await local.upstream.readiness()
    expect(ready).toMatchObject({ ready: false, token: { ok: false, state: "unavailable" } })
    // IMS back: the proxy recovers on its own.
    await local.faults([])
    let recovered = 0
    for (let i = 0; i < 50 && recovered !== 200; i++) {
      recovered = (await local.request(POLICIES)).status
      if (recovered !== 200) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(recovered).toBe(200)
  })

  it("uses the current token when a due refresh fails, until Platform rejects it", async () => {
    // Refresh on every call (refreshBefore = the whole lifetime), so each request asks IMS.
    local = await localProxy({
      tokenTtlSeconds: 3600,
      token: (url) => AccessToken.layerOAuth({ clientId: demo.clientId, clientSecret: Redacted.make("rtcp-local-secret"), imsUrl: url, refreshBefore: "3600 seconds" })
    })
    expect((await local.request(POLICIES)).status).toBe(200)
    await local.faults(["POST /ims/token/v3 503"])
    for (let i = 0; i < 3; i++) expect((await local.request(`${POLICIES}?limit=${i + 1}`)).status).toBe(200)
    const ready = await local.upstream.readiness()
    expect(ready).toMatchObject({ ready: true, token: { ok: true, state: "stale" } })
    expect(ready.token.detail).toContain("IMS answered 503")
  })
})
