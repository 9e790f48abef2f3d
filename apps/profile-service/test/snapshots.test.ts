/**
 * `--data :memory:` with `--seed demo`, `--export-on-exit` on SIGTERM, and
 * `--import` into another throw-away store: the state survives the round trip.
 */
import { describe, expect, it } from "@effect/vitest"
import { demoCustomer } from "@rtcp/seed"
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { platform, startService } from "./support/process.js"

const lookup = async (baseUrl: string) => {
  const call = await platform(baseUrl)
  return call("GET", `/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=${encodeURIComponent(demoCustomer.email)}&entityIdNS=Email`)
}

describe("snapshots from the command line", () => {
  it("exports an in-memory store on SIGTERM and imports it into another", { timeout: 180_000 }, async () => {
    const folder = mkdtempSync(join(tmpdir(), "rtcp-cli-snap-"))
    const snapshot = join(folder, "snap")
    try {
      const first = await startService(["--data", ":memory:", "--seed", "demo", "--seed-profiles", "30", "--export-on-exit", snapshot])
      const before = await lookup(first.baseUrl)
      expect(before.status).toBe(200)
      first.child.kill("SIGTERM")
      await first.exited
      expect(existsSync(join(snapshot, "manifest.json")), first.output()).toBe(true)
      expect(JSON.parse(readFileSync(join(snapshot, "manifest.json"), "utf8")).sandboxes).toEqual(["prod"])

      const second = await startService(["--data", ":memory:", "--import", snapshot])
      try {
        const after = await lookup(second.baseUrl)
        expect(after).toEqual(before)
      } finally {
        second.child.kill("SIGTERM")
        await second.exited
      }
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })

  it("refuses a folder that is not a snapshot in one line, exit code 2", async () => {
    const folder = mkdtempSync(join(tmpdir(), "rtcp-cli-nosnap-"))
    try {
      const app = join(dirname(fileURLToPath(import.meta.url)), "..")
      const failure = await promisify(execFile)(
        process.execPath,
        ["--conditions=@rtcp/source", "--import", "tsx", "src/main.ts", "--port", "0", "--data", ":memory:", "--import", folder],
        { cwd: app, timeout: 60_000 }
      ).then(
        () => undefined,
        (error: { code: number; stdout: string; stderr: string }) => error
      )
      expect(failure?.code).toBe(2)
      expect(failure?.stderr).toContain(`rtcp-service: ${folder} is not a snapshot: it has no manifest.json`)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })
})
