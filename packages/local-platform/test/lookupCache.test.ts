/**
 * Lookup answers kept between writes (LookupCache.ts): a repeated lookup is
 * served from the cache, and after any write (a streamed record, a new
 * default merge policy, a deletion) the next lookup reads the store again.
 */
import { HttpServer } from "@effect/platform"
import { Context, Effect, Exit, Layer, Redacted, Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demoClient } from "../src/ImsTokens.js"
import * as LookupCache from "../src/LookupCache.js"
import { seedDemo } from "../src/Seed.js"
import * as Server from "../src/Server.js"
import { dialect } from "./support/harness.js"

const PROFILE = "_xdm.context.profile"
const entities = "/data/core/ups/access/entities"
const jane = `${entities}?schema.name=${PROFILE}&entityId=jane.doe%40example.com&entityIdNS=Email`
const janeEvents = `${entities}?schema.name=_xdm.context.experienceevent&relatedSchema.name=${PROFILE}&relatedEntityId=jane.doe%40example.com&relatedEntityIdNS=Email`

describe.skipIf(dialect === "postgres")("lookup cache", () => {
  let folder: string
  let scope: Scope.CloseableScope
  let base: string
  let headers: Record<string, string>
  const cache = LookupCache.make(8)!

  const send = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? null : JSON.stringify(body)
    })
    return { status: response.status, text: await response.text() }
  }

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "rtcp-lookup-cache-"))
    scope = Effect.runSync(Scope.make())
    const context = await Effect.runPromise(
      Layer.buildWithScope(
        Server.serve(
          { directory: folder, port: 0, host: "127.0.0.1", lookupCache: cache },
          seedDemo({ sandbox: "prod", profiles: 20, anchor: new Date("2026-01-01T00:00:00Z") })
        ),
        scope
      )
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    base = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
    const token = await fetch(`${base}/ims/token/v3`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: demoClient.clientId,
        client_secret: Redacted.value(demoClient.clientSecret)
      })
    })
    headers = {
      authorization: `Bearer ${((await token.json()) as { access_token: string }).access_token}`,
      "x-api-key": demoClient.clientId,
      "x-gw-ims-org-id": demoClient.orgId,
      "x-sandbox-name": "prod"
    }
  }, 60_000)

  afterAll(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(folder, { recursive: true, force: true })
  })

  it("serves a repeated lookup from the cache, and reads the store again after every write", async () => {
    const first = await send("GET", jane)
    expect(first.status).toBe(200)
    const before = cache.stats().hits
    expect((await send("GET", jane)).text).toBe(first.text)
    expect((await send("GET", janeEvents)).status).toBe(200)
    const events = await send("GET", janeEvents)
    expect(cache.stats().hits).toBe(before + 2)
    expect(events.status).toBe(200)
    // Another sandbox's answer is its own: the same URL is not found there.
    const elsewhere = await fetch(`${base}${jane}`, { headers: { ...headers, "x-sandbox-name": "dev" } })
    expect(elsewhere.status).not.toBe(200)

    // A streamed record changes her name: the next lookup has it.
    const datasets = JSON.parse((await send("GET", "/data/foundation/catalog/dataSets")).text) as Record<string, { name: string }>
    const datasetId = Object.entries(datasets).find(([, d]) => d.name === "Luma CRM Profiles")![0]
    const streamed = await send("POST", "/collection/cache-test", {
      header: { datasetId },
      body: { xdmEntity: { _id: "renamed", identityMap: { Email: [{ id: "jane.doe@example.com", primary: true }] }, person: { name: { firstName: "Renamed" } } } }
    })
    expect(streamed.status).toBe(200)
    const renamed = await send("GET", jane)
    expect(renamed.text).not.toBe(first.text)
    expect(renamed.text).toContain("Renamed")
    const hits = cache.stats().hits
    expect((await send("GET", jane)).text).toBe(renamed.text)
    expect(cache.stats().hits).toBe(hits + 1)

    // A new default merge policy (no stitching) changes what a lookup without a policy merges.
    const policy = await send("POST", "/data/core/ups/config/mergePolicies", {
      name: "no stitching",
      schema: { name: PROFILE },
      identityGraph: { type: "none" },
      attributeMerge: { type: "timestampOrdered" },
      default: true
    })
    expect(policy.status).toBe(200)
    const id = (JSON.parse(policy.text) as { id: string }).id
    const underNew = await send("GET", jane)
    expect(underNew.text).not.toBe(renamed.text)
    expect(underNew.text).toBe((await send("GET", `${jane}&mergePolicyId=${id}`)).text)

    // Deleted: not found at once, though her answer was kept.
    expect((await send("GET", jane)).status).toBe(200)
    expect((await send("DELETE", jane)).status).toBe(202)
    const kept = cache.stats().hits
    expect((await send("GET", jane)).status).toBe(404)
    // Her events are read again too (those of her other identities stay: the deletion went by this policy, without stitching).
    await send("GET", janeEvents)
    expect(cache.stats().hits).toBe(kept)
  }, 60_000)

  it("keeps nothing with a size of 0", () => {
    expect(LookupCache.make(0)).toBeUndefined()
  })

  it("drops the least recently used answers past its size", () => {
    const small = LookupCache.make(1 / 1024)! // 1 KiB
    small.set("a", "v1", "x".repeat(400))
    small.set("b", "v1", "y".repeat(400))
    expect(small.get("a", "v1")).toBeDefined()
    small.set("c", "v1", "z".repeat(400))
    // b was the least recently used.
    expect(small.get("b", "v1")).toBeUndefined()
    expect(small.get("a", "v1")).toBeDefined()
    // An answer read at another version is not served.
    expect(small.get("a", "v2")).toBeUndefined()
  })
})
