/**
 * Two real service processes on one Postgres database (a scratch schema of
 * the server at RTCP_TEST_DATABASE_URL): writes on one are read on the
 * other, concurrent stitching from both ends makes one graph, a job runs
 * once, and a job whose process is killed is taken over.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"

const url = process.env.RTCP_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"
const app = join(dirname(fileURLToPath(import.meta.url)), "..")

const answers = await new Promise<boolean>((resolve) => {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port || 5432), hostname)
  const done = (ok: boolean) => (socket.destroy(), resolve(ok))
  socket.once("connect", () => done(true))
  socket.once("error", () => done(false))
  socket.setTimeout(2000, () => done(false))
})
const inCi = process.env.CI === "true" || process.env.CI === "1"
if (!answers && inCi) throw new Error(`PostgreSQL does not answer at ${url}: CI runs the two-process tests on it`)

const schema = `rtcp_procs_${process.pid}_${Date.now().toString(36)}`
const withSchema = (() => {
  const u = new URL(url)
  u.searchParams.set("options", `-c search_path=${schema}`)
  return u.toString()
})()

const query = async (text: string, values: ReadonlyArray<unknown> = []) => {
  const client = new pg.Client({ connectionString: withSchema })
  await client.connect()
  try {
    return (await client.query(text, values as Array<unknown>)).rows
  } finally {
    await client.end()
  }
}

interface Service {
  readonly process: ChildProcess
  readonly baseUrl: string
  readonly log: () => string
  readonly headers: Record<string, string>
}

const folders: Array<string> = []
const started: Array<ChildProcess> = []

const startService = async (): Promise<Service> => {
  const data = mkdtempSync(join(tmpdir(), "rtcp-pg-service-"))
  folders.push(data)
  const child = spawn(
    process.execPath,
    ["--conditions=@rtcp/source", "--import", "tsx", "src/main.ts", "--port", "0", "--data", data, "--database", withSchema, "--job-lease", "2"],
    { cwd: app, stdio: ["ignore", "pipe", "pipe"] }
  )
  started.push(child)
  let output = ""
  child.stdout!.on("data", (chunk) => (output += String(chunk)))
  child.stderr!.on("data", (chunk) => (output += String(chunk)))
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start:\n${output}`)), 60_000)
    const check = () => {
      const found = /Listening on (http:\/\/[^\s]+)/.exec(output)
      if (found) {
        clearTimeout(timer)
        resolve(found[1]!)
      }
    }
    child.stdout!.on("data", check)
    child.once("exit", (code) => reject(new Error(`the service exited (${code}):\n${output}`)))
  })
  const token = await fetch(`${baseUrl}/ims/token/v3`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: "rtcp-local", client_secret: "rtcp-local-secret" })
  }).then((r) => r.json() as Promise<{ access_token: string }>)
  return {
    process: child,
    baseUrl,
    log: () => output,
    headers: {
      authorization: `Bearer ${token.access_token}`,
      "x-api-key": "rtcp-local",
      "x-gw-ims-org-id": "RTCPLOCAL@AdobeOrg",
      "x-sandbox-name": "prod"
    }
  }
}

const call = async (service: Service, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${service.baseUrl}${path}`, {
    method,
    headers: { ...service.headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body)
  })
  const text = await response.text()
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) }
}

const createDataset = async (service: Service, xdmClass: "profile" | "experienceevent") => {
  const created = await call(service, "POST", "/data/foundation/catalog/dataSets", {
    name: `${xdmClass}-${Math.random().toString(36).slice(2)}`,
    schemaRef: { id: `https://ns.adobe.com/xdm/context/${xdmClass}`, contentType: "application/vnd.adobe.xed+json;version=1" },
    tags: { unifiedProfile: ["enabled:true"] }
  })
  expect(created.status).toBe(201)
  return String(created.body[0]).replace("@/dataSets/", "")
}

const stream = (service: Service, datasetId: string, xdmEntity: unknown) =>
  call(service, "POST", "/collection/test-inlet", { header: { datasetId }, body: { xdmEntity } })

/** A batch of NDJSON records, completed and awaited. */
const batch = async (service: Service, datasetId: string, lines: ReadonlyArray<unknown>) => {
  const created = await call(service, "POST", "/data/foundation/import/batches", { datasetId, inputFormat: { format: "json" } })
  const id = created.body.id as string
  const put = await fetch(`${service.baseUrl}/data/foundation/import/batches/${id}/datasets/${datasetId}/files/part.ndjson`, {
    method: "PUT",
    headers: { ...service.headers, "content-type": "application/octet-stream" },
    body: lines.map((line) => JSON.stringify(line)).join("\n")
  })
  expect(put.status).toBe(200)
  await call(service, "POST", `/data/foundation/import/batches/${id}?action=COMPLETE`)
  for (;;) {
    const status = (await call(service, "GET", `/data/foundation/catalog/batches/${id}`)).body[id].status
    if (status !== "processing" && status !== "loading") return status as string
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const until = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 60_000): Promise<A> => {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const identity = (ns: string, id: string, primary = false) => ({ [ns]: [{ id, ...(primary ? { primary: true } : {}) }] })
const link = (a: string, b: string) => ({
  _id: `${a}-${b}`,
  identityMap: { CRMID: [{ id: a, primary: true }, { id: b }] }
})

describe.skipIf(!answers)("two service processes on one PostgreSQL database", () => {
  let a: Service
  let b: Service

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    await admin.end()
    a = await startService()
    b = await startService()
  }, 120_000)

  afterAll(async () => {
    await Promise.all(
      started.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            child.once("exit", () => resolve())
            child.kill("SIGKILL")
          })
      )
    )
    for (const folder of folders) rmSync(folder, { recursive: true, force: true })
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    // A statement of a killed process runs on until it next writes to its client: end it now.
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ANY($1)`, [
      started.map((child) => `rtcp-profile-store:${child.pid}`)
    ])
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
  })

  it("a write acknowledged by one process is read on the other, merge policies included", async () => {
    const datasetId = await createDataset(a, "profile")
    expect((await stream(a, datasetId, { _id: "w1", identityMap: identity("CRMID", "w1", true), person: { name: { firstName: "Ann" } } })).status).toBe(200)
    const read = await call(b, "GET", "/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=w1&entityIdNS=CRMID")
    expect(read.status).toBe(200)
    expect(JSON.stringify(read.body)).toContain("Ann")

    const policies = await call(b, "GET", "/data/core/ups/config/mergePolicies")
    const before = policies.body.children.find((p: any) => p.default)
    const created = await call(a, "POST", "/data/core/ups/config/mergePolicies", {
      name: "no stitching",
      schema: { name: "_xdm.context.profile" },
      identityGraph: { type: "none" },
      attributeMerge: { type: "timestampOrdered" },
      default: true
    })
    expect(created.status).toBe(200)
    const after = (await call(b, "GET", "/data/core/ups/config/mergePolicies")).body.children.find((p: any) => p.default)
    expect(after.id).toBe(created.body.id)
    expect(after.id).not.toBe(before.id)
    // Back to the stitching default for the tests below.
    expect((await call(b, "PATCH", `/data/core/ups/config/mergePolicies/${before.id}`, [{ op: "add", path: "/default", value: true }])).status).toBe(200)
  }, 60_000)

  it("records that join one graph from both ends, ingested on both processes at once, end in one graph", async () => {
    const datasetId = await createDataset(a, "profile")
    // A chain n0 - n1 - ... - n40: process A writes the even links, B the odd ones, all at once.
    const node = (i: number) => `chain-${i}`
    const links = Array.from({ length: 40 }, (_, i) => link(node(i), node(i + 1)))
    const writes = links.map((record, i) => stream(i % 2 === 0 ? a : b, datasetId, record))
    const answers = await Promise.all(writes)
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([])
    const graphs = await query(
      `SELECT COUNT(DISTINCT graph_id) AS graphs, COUNT(*) AS identities FROM identities WHERE value LIKE 'chain-%'`
    )
    expect(graphs[0]).toEqual({ graphs: "1", identities: "41" })
    // Every identity's graph id is a member of the graph (its root).
    const roots = await query(`SELECT DISTINCT graph_id FROM identities WHERE value LIKE 'chain-%'`)
    const root = await query(`SELECT value FROM identities WHERE id = $1`, [roots[0].graph_id])
    expect(root[0].value).toMatch(/^chain-/)
    for (const service of [a, b]) {
      const one = await call(service, "GET", "/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=chain-0&entityIdNS=CRMID")
      const other = await call(service, "GET", "/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=chain-40&entityIdNS=CRMID")
      expect(one.status).toBe(200)
      expect(Object.keys(one.body)).toEqual(Object.keys(other.body))
    }
  }, 120_000)

  it("a system job runs on one process only; killing that process mid-job lets the other take it over", async () => {
    const datasetId = await createDataset(a, "experienceevent")
    const events = Array.from({ length: 20_000 }, (_, i) => ({
      _id: `e${i}`,
      timestamp: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
      identityMap: identity("CRMID", `visitor-${i % 500}`, true)
    }))
    expect(await batch(a, datasetId, events)).toBe("success")

    const job = await call(b, "POST", "/data/core/ups/system/jobs", { dataSetId: datasetId })
    expect(job.status).toBe(200)
    const id = job.body.requestId as string
    // Whoever claimed it holds its lease: stop that process at once, then kill it.
    const watcher = new pg.Client({ connectionString: withSchema })
    await watcher.connect()
    const owner = await until("the job's lease", async () => {
      const rows = (await watcher.query(`SELECT owner FROM job_leases WHERE job = $1`, [`system-job:prod:${id}`])).rows
      return rows[0]?.owner as string | undefined
    }).finally(() => watcher.end())
    const pid = Number(owner.split(":")[1])
    const victim = [a, b].find((service) => service.process.pid === pid)!
    const survivor = victim === a ? b : a
    victim.process.kill("SIGSTOP")
    const state = await query(`SELECT status FROM system_jobs WHERE id = $1`, [id])
    expect(state[0].status).toBe("IN-PROGRESS")
    victim.process.kill("SIGKILL")

    const done = await until("the job to end on the other process", async () => {
      const answer = await call(survivor, "GET", `/data/core/ups/system/jobs/${id}`)
      return answer.body.status === "SUCCESS" || answer.body.status === "FAILED" ? answer.body : undefined
    }).catch(async (error) => {
      const activity = await query(`SELECT pid, state, wait_event_type, left(query, 120) AS query FROM pg_stat_activity WHERE datname = current_database()`)
      const lines = survivor.log().split("\n").filter((line) => /system job|lease|ERROR|WARN|Error/.test(line))
      const leases = await query(`SELECT * FROM job_leases`)
      const job = await query(`SELECT status, fragments_deleted, events_deleted, events_total FROM system_jobs`)
      throw new Error(`${error.message}\nsurvivor ${survivor.process.pid}:\n${lines.join("\n")}\n${JSON.stringify({ activity: activity.filter((a: any) => a.state !== "idle"), leases, job }, null, 1)}`)
    })
    expect(done.status).toBe("SUCCESS")
    expect(done.metrics.eventsDeleted).toBe(20_000)
    // The survivor took it up once (resumed, or started if the other was stopped before its first write).
    const runs = (service: Service) => service.log().match(new RegExp(`system job ${id} (started|resumed)`, "g"))?.length ?? 0
    expect(runs(survivor)).toBe(1)
    expect(runs(victim)).toBeLessThanOrEqual(1)
    const left = await query(`SELECT COUNT(*) AS n FROM events WHERE dataset_id = $1`, [datasetId])
    expect(left[0].n).toBe("0")
  }, 180_000)
})
