import { describe, expect, it } from "@effect/vitest"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, expectUsageError } from "./support/cli.js"

const listening = () =>
  new Promise<{ server: Server; port: number }>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resolve({ server, port: typeof address === "object" && address !== null ? address.port : 0 })
    })
  })

describe("rtcp-service --help", { timeout: 120_000 }, () => {
  it("lists every flag once with its default, in plain text off a terminal", async () => {
    const { code, stdout } = await cli(["--help"])
    expect(code).toBe(0)
    expect(stdout).not.toMatch(/\u001b\[/)
    const options = stdout.slice(stdout.indexOf("OPTIONS"))
    for (const flag of ["--port", "--host", "--data", "--database", "--job-lease", "--seed", "--seed-profiles", "--token-ttl", "--fault", "--fault-latency", "--fault-seed", "--admin", "--log-level"]) {
      expect(options.match(new RegExp(`^${flag}( |$)`, "gm")) ?? [], flag).toHaveLength(1)
    }
    for (const shown of ["(default 8080)", "(default 127.0.0.1)", "(default .rtcp/data)", "(default none)", "(default 1000)", "(default 86400)"]) {
      expect(stdout).toContain(shown)
    }
  })
})

describe("rtcp-service: a mistake is one line on stderr and exit code 2", { timeout: 120_000 }, () => {
  it("--port 99999", async () => {
    expect(expectUsageError(await cli(["--port", "99999"]), "rtcp-service")).toBe(
      "rtcp-service: --port 99999 is not a port: use a whole number from 0 to 65535 (0 picks a free one)"
    )
  })

  it("--port abc", async () => {
    expect(expectUsageError(await cli(["--port", "abc"]), "rtcp-service")).toBe("rtcp-service: --port abc: not an integer")
  })

  it("an unknown flag", async () => {
    expect(expectUsageError(await cli(["--prot", "8080", "--bogus"]), "rtcp-service")).toContain("--prot")
    expect(expectUsageError(await cli(["--bogus"]), "rtcp-service")).toBe("rtcp-service: unknown flag --bogus (--help lists the flags)")
  })

  it("a value outside a flag's choices", async () => {
    expect(expectUsageError(await cli(["--seed", "nope"]), "rtcp-service")).toBe("rtcp-service: --seed nope: use one of demo, none")
  })

  it("a port in use, named, before anything is seeded", async () => {
    const { server, port } = await listening()
    try {
      const finished = await cli(["--port", String(port), "--data", ":memory:", "--seed", "demo"])
      expect(expectUsageError(finished, "rtcp-service")).toBe(
        `rtcp-service: port ${port} is already in use on 127.0.0.1: stop what uses it or pick another (0 picks a free one)`
      )
      expect(finished.stdout).not.toContain("demo data ready")
    } finally {
      server.close()
    }
  })

  it("--data pointing at a file", async () => {
    const folder = mkdtempSync(join(tmpdir(), "rtcp-service-cli-"))
    const file = join(folder, "not-a-folder")
    writeFileSync(file, "")
    try {
      expect(expectUsageError(await cli(["--port", "0", "--data", file]), "rtcp-service")).toBe(
        `rtcp-service: --data ${file} is a file, not a folder: give a folder (created if missing) or :memory:`
      )
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })

  it("a fault rule that does not parse", async () => {
    expect(expectUsageError(await cli(["--fault", "GET /x 418"]), "rtcp-service")).toContain('fault rule "GET /x 418"')
  })
})
