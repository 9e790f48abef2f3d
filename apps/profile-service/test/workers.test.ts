/**
 * `--workers 2` over a data folder: one writer and two readers on the same
 * port. A write acknowledged through the port is what the next read sees,
 * whichever reader answers (each read on its own connection, so both
 * readers answer; `RTCP_WORKER_HEADER=1` names the reader's pid in
 * `x-rtcp-worker`); a killed primary takes its readers with it; a bad
 * `--workers` is one line and exit code 2.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { request } from "node:http"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, expectUsageError } from "./support/cli.js"
import { demo, type RunningService, startService } from "./support/process.js"

interface Answer {
  readonly status: number
  readonly worker: string | undefined
  readonly body: any
}

/** One request on a connection of its own (the cluster hands connections to readers in turn). */
const send = (baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: unknown) =>
  new Promise<Answer>((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const req = request(
      `${baseUrl}${path}`,
      { method, agent: false, headers: { ...headers, ...(text === undefined ? {} : { "content-type": "application/json" }) } },
      (response) => {
        let data = ""
        response.on("data", (chunk: Buffer) => (data += chunk.toString()))
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            worker: response.headers["x-rtcp-worker"] as string | undefined,
            body: data === "" ? undefined : JSON.parse(data)
          })
        )
      }
    )
    req.on("error", reject)
    req.end(text)
  })

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1")
    socket.once("connect", () => (socket.destroy(), resolve(false)))
    socket.once("error", () => resolve(true))
  })

describe("rtcp-service --workers 2", { timeout: 180_000 }, () => {
  let folder: string
  let service: RunningService
  let headers: Record<string, string>

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "rtcp-workers-"))
    process.env.RTCP_WORKER_HEADER = "1"
    service = await startService(["--data", folder, "--seed", "demo", "--seed-profiles", "20", "--workers", "2"])
    const token = await fetch(`${service.baseUrl}/ims/token/v3`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: demo.clientId, client_secret: demo.clientSecret })
    })
    headers = {
      authorization: `Bearer ${((await token.json()) as { access_token: string }).access_token}`,
      "x-api-key": demo.clientId,
      "x-gw-ims-org-id": demo.orgId,
      "x-sandbox-name": "prod"
    }
  }, 180_000)

  afterAll(() => {
    if (service.child.exitCode === null) service.child.kill("SIGKILL")
    rmSync(folder, { recursive: true, force: true })
  })

  const lookup = (email: string) =>
    send(service.baseUrl, "GET", `/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=${encodeURIComponent(email)}&entityIdNS=Email`, headers)

  it("a write through the port is what the next read sees on every reader", async () => {
    const datasets = await send(service.baseUrl, "GET", "/data/foundation/catalog/dataSets", headers)
    const datasetId = Object.values(datasets.body as Record<string, { id: string; name: string }>).find((d) => d.name === "Luma CRM Profiles")!.id
    const workers = new Set<string>()
    for (let round = 0; round < 3; round++) {
      const email = `new.${round}@example.com`
      const before = await lookup(email)
      expect(before.status).toBe(404)
      const written = await send(service.baseUrl, "POST", "/collection/test-inlet", headers, {
        header: { datasetId },
        body: { xdmEntity: { _id: `w${round}`, identityMap: { Email: [{ id: email, primary: true }] }, person: { name: { firstName: `Round${round}` } } } }
      })
      expect(written.status).toBe(200)
      for (let i = 0; i < 6; i++) {
        const read = await lookup(email)
        expect(read.status).toBe(200)
        expect(JSON.stringify(read.body)).toContain(`Round${round}`)
        if (read.worker !== undefined) workers.add(read.worker)
      }
      // And deleted through the writer, gone on every reader.
      const deleted = await send(service.baseUrl, "DELETE", `/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=${encodeURIComponent(email)}&entityIdNS=Email`, headers)
      expect(deleted.status).toBe(202)
      for (let i = 0; i < 4; i++) expect((await lookup(email)).status).toBe(404)
    }
    expect(workers.size).toBe(2)
  })

  it("a merge policy written through the port is what the next lookup on every reader resolves", async () => {
    const jane = (policy: string) =>
      send(service.baseUrl, "GET", `/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=jane.doe%40example.com&entityIdNS=Email&mergePolicyId=${policy}`, headers)
    // Readers resolve the default policy first (the reader's policy cache, if any, is filled).
    const before = JSON.stringify((await lookup("jane.doe@example.com")).body)
    for (let i = 0; i < 4; i++) expect(JSON.stringify((await lookup("jane.doe@example.com")).body)).toBe(before)
    const created = await send(service.baseUrl, "POST", "/data/core/ups/config/mergePolicies", headers, {
      name: "no stitching",
      schema: { name: "_xdm.context.profile" },
      identityGraph: { type: "none" },
      attributeMerge: { type: "timestampOrdered" },
      default: true
    })
    expect(created.status).toBe(200)
    const id = created.body.id as string
    const workers = new Set<string>()
    const after = new Set<string>()
    for (let i = 0; i < 6; i++) {
      // The new default (no stitching) answers every lookup without a policy id, as naming it does.
      const read = await lookup("jane.doe@example.com")
      const named = await jane(id)
      expect(JSON.stringify(read.body)).not.toBe(before)
      expect(JSON.stringify(read.body)).toBe(JSON.stringify(named.body))
      after.add(JSON.stringify(read.body))
      for (const answer of [read, named]) if (answer.worker !== undefined) workers.add(answer.worker)
    }
    expect(after.size).toBe(1)
    expect(workers.size).toBe(2)
    // Back to the stitching default; the policy is then deleted, and unknown on every reader.
    const back = await send(service.baseUrl, "GET", "/data/core/ups/config/mergePolicies", headers)
    const original = (back.body.children as Array<{ id: string }>).find((p) => p.id !== id)!.id
    expect((await send(service.baseUrl, "PATCH", `/data/core/ups/config/mergePolicies/${original}`, headers, [{ op: "add", path: "/default", value: true }])).status).toBe(200)
    for (let i = 0; i < 4; i++) expect(JSON.stringify((await lookup("jane.doe@example.com")).body)).toBe(before)
    expect((await send(service.baseUrl, "DELETE", `/data/core/ups/config/mergePolicies/${id}`, headers)).status).toBeLessThan(300)
    for (let i = 0; i < 4; i++) expect((await jane(id)).body.title).toBe("Merge policy not found")
  })

  it("a killed primary takes its readers with it and frees the port", async () => {
    const port = Number(new URL(service.baseUrl).port)
    const pids = new Set<number>()
    for (let i = 0; i < 6; i++) pids.add(Number((await lookup("jane.doe@example.com")).worker))
    expect(pids.size).toBe(2)
    service.child.kill("SIGKILL")
    await service.exited.catch(() => undefined)
    for (let i = 0; i < 100 && ([...pids].some(alive) || !(await refuses(port))); i++) await new Promise((r) => setTimeout(r, 100))
    expect([...pids].filter(alive)).toEqual([])
    expect(await refuses(port)).toBe(true)
  })
})

describe("rtcp-service --workers: a mistake is one line and exit code 2", { timeout: 120_000 }, () => {
  it("--workers 0", async () => {
    expect(expectUsageError(await cli(["--workers", "0"]), "rtcp-service")).toBe(
      "rtcp-service: --workers 0 is not a number of processes: use a whole number from 1 to 64"
    )
  })
  it("--workers many", async () => {
    expect(expectUsageError(await cli(["--workers", "many"]), "rtcp-service")).toBe("rtcp-service: --workers many: not an integer")
  })
})
