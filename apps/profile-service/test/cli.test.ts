import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const run = promisify(execFile)
const app = join(dirname(fileURLToPath(import.meta.url)), "..")
const cli = (...args: ReadonlyArray<string>) =>
  run(process.execPath, ["--conditions=@rtcp/source", "--import", "tsx", "src/main.ts", ...args], { cwd: app, timeout: 60_000 })

describe("npm run service", () => {
  it("documents every flag in --help", async () => {
    const { stdout } = await cli("--help")
    for (const flag of ["--port", "--host", "--data", "--database", "--job-lease", "--seed", "--seed-profiles", "--token-ttl", "--fault", "--admin"]) {
      expect(stdout).toContain(flag)
    }
  })

  it("refuses an invalid flag value with a message naming it", async () => {
    const failure = await cli("--port", "eighty").then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error
    )
    expect(failure?.code).toBe(2)
    expect(`${failure?.stdout}${failure?.stderr}`).toContain("'eighty' is not a integer")
    expect(`${failure?.stdout}${failure?.stderr}`).not.toContain('"_tag"')
  })
})
