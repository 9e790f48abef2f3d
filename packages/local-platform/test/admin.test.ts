/**
 * The emulator's admin endpoints (`--admin`): the request inspector, reset
 * and state snapshots.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { AccessToken, LocalAdmin, ProfileClient } from "@rtcp/core"
import { Sandboxes } from "@rtcp/profile-store"
import { Effect, Layer, Redacted } from "effect"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { demoClient } from "../src/ImsTokens.js"
import { seedDemo } from "../src/Seed.js"
import { ingest, layer as serviceLayer } from "./support/harness.js"
import { json, raw } from "./support/raw.js"

const live = { excludeTestServices: true } as const
const person = (id: string, first: string) => ({
  _id: id,
  identityMap: { CRMID: [{ id, primary: true }], Email: [{ id: `${id}@example.com` }] },
  person: { name: { firstName: first } }
})
const lookup = (id: string, sandbox = "prod") =>
  raw("GET", `/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=${id}&entityIdNS=CRMID`, { sandbox })

describe("the request inspector", () => {
  layer(Layer.fresh(serviceLayer({ admin: true })), live)((it) => {
    it.effect("shows what clients sent and got, newest first, with every secret redacted", () =>
      Effect.gen(function* () {
        const token = Redacted.value(yield* (yield* AccessToken.AccessToken).get)
        const client = yield* ProfileClient.ProfileClient
        yield* client.listMergePolicies()
        // A form body and a JSON body that carry secrets where they do not belong.
        yield* raw("POST", "/ims/token/v3", {
          auth: false,
          body: `grant_type=client_credentials&client_id=${demoClient.clientId}&client_secret=wrong-secret-123`,
          headers: { "content-type": "application/x-www-form-urlencoded", cookie: "session=cookie-secret-456" }
        })
        yield* raw("POST", "/data/core/ups/config/mergePolicies", json({ name: "x", client_secret: "json-secret-789", access_token: token }))
        const answer = yield* raw("GET", "/rtcp/admin/requests", { auth: false })
        expect(answer.status).toBe(200)
        const requests: Array<any> = answer.body.requests
        const text = JSON.stringify(requests)
        for (const secret of [token, Redacted.value(demoClient.clientSecret), "wrong-secret-123", "cookie-secret-456", "json-secret-789"]) {
          expect(text).not.toContain(secret)
        }
        expect(requests.map((r) => r.seq)).toEqual([...requests.map((r) => r.seq)].sort((a, b) => b - a))
        const ims = requests.filter((r) => r.path === "/ims/token/v3")
        expect(ims.length).toBe(2)
        const issued = ims.find((r) => r.status === 200)
        expect(issued.request.body).toContain("client_secret=[redacted]")
        expect(issued.response.body).toContain('"access_token":"[redacted]"')
        const refused = ims.find((r) => r.status === 401)
        expect(refused.request.headers.cookie).toBe("[redacted]")
        const policies = requests.find((r) => r.method === "GET" && r.path === "/data/core/ups/config/mergePolicies")
        expect(policies).toMatchObject({
          status: 200,
          sandbox: "prod",
          caller: demoClient.clientId,
          request: { headers: { authorization: "Bearer [redacted]", "x-api-key": "rtcp…[redacted]" }, body: null }
        })
        expect(policies.requestId).toBe(policies.response.headers["x-request-id"])
        expect(policies.latencyMs).toBeGreaterThanOrEqual(0)
        expect(JSON.parse(policies.response.body).children.length).toBeGreaterThan(0)
        const posted = requests.find((r) => r.method === "POST" && r.path === "/data/core/ups/config/mergePolicies")
        expect(posted.request.body).toContain('"client_secret":"[redacted]"')
        expect(posted.request.body).toContain('"access_token":"[redacted]"')
        // The inspector does not show its own calls; limit and since page it.
        expect(requests.some((r) => r.path.startsWith("/rtcp/admin"))).toBe(false)
        const newest = (yield* raw("GET", "/rtcp/admin/requests?limit=1", { auth: false })).body.requests
        expect(newest.map((r: any) => r.seq)).toEqual([requests[0].seq])
        const after = (yield* raw("GET", `/rtcp/admin/requests?since=${requests[1].seq}`, { auth: false })).body.requests
        expect(after.map((r: any) => r.seq)).toEqual([requests[0].seq])
        expect((yield* raw("GET", "/rtcp/admin/requests?limit=-1", { auth: false })).status).toBe(400)
      }))

    it.effect("truncates long bodies", () =>
      Effect.gen(function* () {
        yield* raw("POST", "/data/core/ups/config/mergePolicies", json({ name: "y".repeat(10_000) }))
        const [latest] = (yield* raw("GET", "/rtcp/admin/requests?limit=1", { auth: false })).body.requests
        expect(latest.request.body.length).toBeLessThan(5000)
        expect(latest.request.body).toContain("[truncated: 10")
      }))
  })

  layer(Layer.fresh(serviceLayer()), live)((it) => {
    it.effect("is not served without admin", () =>
      Effect.gen(function* () {
        expect((yield* raw("GET", "/rtcp/admin/requests", { auth: false })).status).toBe(404)
        expect((yield* raw("POST", "/rtcp/admin/reset", { auth: false, ...json({}) })).status).toBe(404)
        expect((yield* raw("POST", "/rtcp/admin/snapshots/export", { auth: false, ...json({ directory: "x" }) })).status).toBe(404)
      }))
  })
})

describe("reset", () => {
  layer(Layer.fresh(serviceLayer({ admin: true })), live)((it) => {
    it.effect("empties one sandbox, then everything, leaving prod with its default merge policy", () =>
      Effect.gen(function* () {
        yield* Effect.flatMap(Sandboxes.Sandboxes, (s) => s.create({ name: "dev" }))
        yield* ingest({ name: "CRM", xdmClass: "profile" }, [person("p1", "Ada")])
        yield* ingest({ name: "CRM", xdmClass: "profile", sandbox: "dev" }, [person("d1", "Dev")])
        expect((yield* lookup("p1")).status).toBe(200)
        expect((yield* lookup("d1", "dev")).status).toBe(200)

        expect((yield* raw("POST", "/rtcp/admin/reset", { auth: false, ...json({ sandbox: "nope" }) })).status).toBe(404)
        const one = yield* raw("POST", "/rtcp/admin/reset", { auth: false, ...json({ sandbox: "dev" }) })
        expect(one).toMatchObject({ status: 200, body: { reset: "dev" } })
        expect((yield* lookup("d1", "dev")).status).toBe(404)
        expect((yield* lookup("p1")).status).toBe(200)
        const devPolicies = yield* raw("GET", "/data/core/ups/config/mergePolicies?default=true", { sandbox: "dev" })
        expect(devPolicies.body.children.length).toBe(1)
        expect((yield* raw("GET", "/data/foundation/catalog/dataSets", { sandbox: "dev" })).body).toEqual({})

        const all = yield* raw("POST", "/rtcp/admin/reset", { auth: false })
        expect(all).toMatchObject({ status: 200, body: { reset: "all" } })
        expect((yield* lookup("p1")).status).toBe(404)
        expect((yield* raw("GET", "/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=d1&entityIdNS=CRMID", { sandbox: "dev" })).status).toBe(403)
        const sandboxes = yield* raw("GET", "/data/foundation/sandbox-management/sandboxes")
        expect(sandboxes.body.sandboxes.map((s: any) => s.name)).toEqual(["prod"])
        const policies = yield* raw("GET", "/data/core/ups/config/mergePolicies?default=true")
        expect(policies.body.children).toMatchObject([{ name: "Default Timebased", version: 1, default: true }])
        // The store works as new afterwards.
        yield* ingest({ name: "CRM again", xdmClass: "profile" }, [person("p2", "Bo")])
        expect((yield* lookup("p2")).status).toBe(200)
      }))
  })
})

/** Everything a client can read, plus every table's rows: two stores are the same when these are equal. */
const observe = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const tables = (yield* sql.onDialectOrElse({
    sqlite: () => sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
    orElse: () =>
      sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
  }))
    .map((r) => r.name)
    .filter((name) => name !== "rtcp_migrations" && name !== "job_leases")
  const rows: Record<string, Array<string>> = {}
  for (const table of tables) rows[table] = (yield* sql<Record<string, unknown>>`SELECT * FROM ${sql(table)}`).map((row) => JSON.stringify(row)).sort()
  const answers: Record<string, unknown> = {}
  for (const sandbox of ["prod", "dev"]) {
    const identities = yield* sql<{ ns: string; value: string }>`SELECT ns, value FROM identities WHERE sandbox = ${sandbox} ORDER BY ns, value`
    for (const { ns, value } of identities) {
      const q = `entityId=${encodeURIComponent(value)}&entityIdNS=${ns}`
      answers[`${sandbox} profile ${ns}:${value}`] = (yield* raw("GET", `/data/core/ups/access/entities?schema.name=_xdm.context.profile&${q}`, { sandbox })).body
      answers[`${sandbox} events ${ns}:${value}`] = (yield* raw(
        "GET",
        `/data/core/ups/access/entities?schema.name=_xdm.context.experienceevent&relatedSchema.name=_xdm.context.profile&relatedEntityId=${encodeURIComponent(value)}&relatedEntityIdNS=${ns}`,
        { sandbox }
      )).body
    }
    for (const path of [
      "/data/core/ups/config/mergePolicies",
      "/data/core/ups/export/jobs",
      "/data/core/ca/attributes",
      "/data/core/ups/system/jobs",
      "/data/foundation/catalog/dataSets",
      "/data/foundation/catalog/batches"
    ]) {
      answers[`${sandbox} ${path}`] = (yield* raw("GET", path, { sandbox })).body
    }
  }
  return { rows, answers, identities: Object.keys(answers).length }
})

/**
 * Equal rows in every table; the preview sample job writes `sample_snapshots`
 * on its own schedule (3 seconds after an import or a batch), and a sample
 * replaces the snapshot of its sandbox and day, so there the expected
 * snapshots (sandbox and day) need only be present.
 */
const expectSameRows = (actual: Record<string, Array<string>>, expected: Record<string, Array<string>>) => {
  const { sample_snapshots: actualSamples, ...actualRest } = actual
  const { sample_snapshots: expectedSamples, ...expectedRest } = expected
  expect(actualRest).toEqual(expectedRest)
  const days = (rows: ReadonlyArray<string> | undefined) =>
    (rows ?? []).map((row) => {
      const { day, sandbox } = JSON.parse(row) as { readonly sandbox: string; readonly day: string }
      return `${sandbox} ${day}`
    })
  expect(days(actualSamples)).toEqual(expect.arrayContaining(days(expectedSamples)))
}

describe("snapshots", () => {
  const folders = { a: mkdtempSync(join(tmpdir(), "rtcp-a-")), b: mkdtempSync(join(tmpdir(), "rtcp-b-")), snap: mkdtempSync(join(tmpdir(), "rtcp-snap-")) }
  const exported = { value: undefined as undefined | Effect.Effect.Success<typeof observe> }

  layer(Layer.fresh(serviceLayer({ admin: true, directory: folders.a })), live)((it) => {
    it.effect("export writes every table of every sandbox", () =>
      Effect.gen(function* () {
        yield* Effect.flatMap(Sandboxes.Sandboxes, (s) => s.create({ name: "dev" }))
        yield* seedDemo({ sandbox: "prod", profiles: 20 })
        yield* ingest({ name: "CRM", xdmClass: "profile", sandbox: "dev" }, [person("d1", "Dev")])
        const created = yield* raw("POST", "/data/core/ups/config/mergePolicies", json({
          name: "No stitching",
          identityGraph: { type: "none" },
          attributeMerge: { type: "timestampOrdered" },
          schema: { name: "_xdm.context.profile" }
        }))
        expect(created.status).toBe(200)
        const answer = yield* raw("POST", "/rtcp/admin/snapshots/export", { auth: false, ...json({ directory: folders.snap }) })
        expect(answer.status).toBe(200)
        expect(answer.body.manifest).toMatchObject({ format: "rtcp-profile-store-snapshot", formatVersion: 1, sandboxes: ["dev", "prod"] })
        expect(answer.body.manifest.migration).toMatch(/^\d{4}_/)
        expect(answer.body.manifest.tables.fragments).toBeGreaterThan(20)
        exported.value = yield* observe
      }))
  })

  layer(Layer.fresh(serviceLayer({ admin: true, directory: folders.b })), live)((it) => {
    it.effect("import into a fresh folder answers every lookup the same", () =>
      Effect.gen(function* () {
        const answer = yield* raw("POST", "/rtcp/admin/snapshots/import", { auth: false, ...json({ directory: folders.snap }) })
        expect(answer.status).toBe(200)
        const imported = yield* observe
        expect(imported.identities).toBeGreaterThan(40)
        expectSameRows(imported.rows, exported.value!.rows)
        expect(imported.answers).toEqual(exported.value!.answers)
        // New identities after an import get ids of their own (on Postgres the id sequences move past the imported rows).
        yield* ingest({ name: "CRM after import", xdmClass: "profile" }, [person("after-import", "New")])
        expect((yield* lookup("after-import")).status).toBe(200)
        expect((yield* lookup("d1", "dev")).status).toBe(200)
      }))

    it.effect("import refuses another format version or migration level, and changes nothing", () =>
      Effect.gen(function* () {
        const manifestFile = join(folders.snap, "manifest.json")
        const manifest = JSON.parse(readFileSync(manifestFile, "utf8"))
        const before = yield* observe
        writeFileSync(manifestFile, JSON.stringify({ ...manifest, formatVersion: 99 }))
        const version = yield* raw("POST", "/rtcp/admin/snapshots/import", { auth: false, ...json({ directory: folders.snap }) })
        expect(version).toMatchObject({ status: 400, body: { status: 400 } })
        expect(version.body.detail).toContain("format version 99")
        writeFileSync(manifestFile, JSON.stringify({ ...manifest, migration: "0001_platform" }))
        const level = yield* raw("POST", "/rtcp/admin/snapshots/import", { auth: false, ...json({ directory: folders.snap }) })
        expect(level.status).toBe(400)
        expect(level.body.detail).toContain("migration 0001_platform")
        const missing = yield* raw("POST", "/rtcp/admin/snapshots/import", { auth: false, ...json({ directory: join(folders.snap, "nope") }) })
        expect(missing.status).toBe(400)
        expect(missing.body.detail).toContain("no manifest.json")
        expectSameRows((yield* observe).rows, before.rows)
        writeFileSync(manifestFile, JSON.stringify(manifest))
        for (const folder of Object.values(folders)) rmSync(folder, { recursive: true, force: true })
      }))
  })
})

describe("the core's LocalAdmin client", () => {
  const snapshotFolder = mkdtempSync(join(tmpdir(), "rtcp-core-snap-"))
  layer(Layer.fresh(LocalAdmin.layer.pipe(Layer.provideMerge(serviceLayer({ admin: true })))), live)((it) => {
    it.effect("reads the inspector, exports and imports a snapshot, and resets", () =>
      Effect.gen(function* () {
        const admin = yield* LocalAdmin.LocalAdmin
        const client = yield* ProfileClient.ProfileClient
        yield* ingest({ name: "CRM", xdmClass: "profile" }, [person("p9", "Ida")])
        yield* client.listMergePolicies()
        const [newest] = yield* admin.requests({ limit: 1 })
        expect(newest).toMatchObject({ method: "GET", path: "/data/core/ups/config/mergePolicies", status: 200, caller: demoClient.clientId })
        expect(yield* admin.requests({ since: newest!.seq })).toEqual([])
        const manifest = yield* admin.exportSnapshot(snapshotFolder)
        expect(manifest.sandboxes).toEqual(["prod"])
        yield* admin.reset()
        expect((yield* lookup("p9")).status).toBe(404)
        yield* admin.importSnapshot(snapshotFolder)
        expect((yield* lookup("p9")).status).toBe(200)
        yield* admin.reset("prod")
        expect((yield* lookup("p9")).status).toBe(404)
        const wrong = yield* Effect.flip(admin.importSnapshot(join(snapshotFolder, "missing")))
        expect(wrong._tag).toBe("BadRequest")
        rmSync(snapshotFolder, { recursive: true, force: true })
      }))
  })

  layer(Layer.fresh(LocalAdmin.layer.pipe(Layer.provideMerge(serviceLayer()))), live)((it) => {
    it.effect("fails with NotFound where there are no admin endpoints", () =>
      Effect.gen(function* () {
        const admin = yield* LocalAdmin.LocalAdmin
        const failure = yield* Effect.flip(admin.requests())
        expect(failure._tag).toBe("NotFound")
      }))
  })
})
