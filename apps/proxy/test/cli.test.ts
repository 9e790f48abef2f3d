import { describe, expect, it } from "@effect/vitest"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, expectUsageError, start } from "./support/cli.js"

const listening = () =>
  new Promise<{ server: Server; port: number }>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resolve({ server, port: typeof address === "object" && address !== null ? address.port : 0 })
    })
  })

/** A port nothing listens on (taken, then released). */
const closedPort = async () => {
  const { server, port } = await listening()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const withKeyFile = async <A>(use: (path: string) => Promise<A>) => {
  const folder = mkdtempSync(join(tmpdir(), "rtcp-proxy-cli-"))
  const path = join(folder, "keys.json")
  writeFileSync(path, JSON.stringify({ keys: [] }))
  try {
    return await use(path)
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
}

describe("rtcp-proxy --help", { timeout: 120_000 }, () => {
  it("lists every flag once with its default, in plain text off a terminal", async () => {
    const { code, stdout } = await cli(["--help"])
    expect(code).toBe(0)
    expect(stdout).not.toMatch(/\u001b\[/)
    const options = stdout.slice(stdout.indexOf("OPTIONS"), stdout.indexOf("COMMANDS"))
    for (const flag of ["--port", "--host", "--ops-port", "--upstream", "--keys", "--cache-ttl", "--timeout", "--rate-limit", "--seed-profiles", "--log-level"]) {
      expect(options.match(new RegExp(`^${flag}( |$)`, "gm")) ?? [], flag).toHaveLength(1)
    }
    expect(stdout).toContain("(default 8081; env RTCP_PROXY_PORT)")
    expect(stdout).toContain("default 2s")
  })
})

describe("rtcp-proxy: a mistake is one line on stderr and exit code 2", { timeout: 120_000 }, () => {
  it("--port 99999", async () => {
    expect(expectUsageError(await cli(["--port", "99999"]), "rtcp-proxy")).toBe(
      "rtcp-proxy: --port 99999 is not a port: use a whole number from 0 to 65535 (0 picks a free one)"
    )
  })

  it("--port abc", async () => {
    expect(expectUsageError(await cli(["--port", "abc"]), "rtcp-proxy")).toBe("rtcp-proxy: --port abc: not an integer")
  })

  it("an unknown flag (not 'Invalid subcommand')", async () => {
    expect(expectUsageError(await cli(["--bogus"]), "rtcp-proxy")).toBe("rtcp-proxy: unknown flag --bogus (--help lists the flags)")
  })

  it("a flag value that does not parse, named", async () => {
    expect(expectUsageError(await cli(["--cache-ttl", "forever"]), "rtcp-proxy")).toBe(
      'rtcp-proxy: --cache-ttl: "forever" is not a duration such as 500ms, 2s or 1m'
    )
    expect(expectUsageError(await cli(["--log-level", "loud"]), "rtcp-proxy")).toContain("--log-level loud: use one of")
    expect(expectUsageError(await cli(["--upstream", "127.0.0.1:8080"]), "rtcp-proxy")).toContain("--upstream 127.0.0.1:8080")
  })

  it("a port in use, named, before the demo data is seeded", async () => {
    const { server, port } = await listening()
    try {
      const finished = await cli(["--port", String(port), "--ops-port", "0"])
      expect(expectUsageError(finished, "rtcp-proxy")).toBe(
        `rtcp-proxy: port ${port} is already in use on 127.0.0.1: stop what uses it or pick another (0 picks a free one)`
      )
      expect(finished.stdout).not.toContain("seeded")
    } finally {
      server.close()
    }
  })

  it("a missing key file", async () => {
    const finished = await cli(["--port", "0", "--ops-port", "0", "--upstream", "http://127.0.0.1:9", "--keys", "/nonexistent/keys.json"])
    expect(expectUsageError(finished, "rtcp-proxy")).toContain("key file /nonexistent/keys.json not found: create one")
  })

  it("a key file that does not parse", async () => {
    const folder = mkdtempSync(join(tmpdir(), "rtcp-proxy-cli-"))
    const path = join(folder, "keys.json")
    writeFileSync(path, "{ not json")
    try {
      const finished = await cli(["--port", "0", "--ops-port", "0", "--upstream", "http://127.0.0.1:9", "--keys", path])
      expect(expectUsageError(finished, "rtcp-proxy")).toContain(`${path}: not JSON`)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })
})

describe("rtcp-proxy with an upstream that does not answer", { timeout: 120_000 }, () => {
  it("starts, and says so in one warning line within seconds", async () => {
    const port = await closedPort()
    await withKeyFile(async (keys) => {
      const proxy = await start(["--port", "0", "--ops-port", "0", "--upstream", `http://127.0.0.1:${port}`, "--keys", keys], /"level":"warn"/, { timeoutMs: 60_000 })
      try {
        const warning = proxy.stdout().split("\n").find((line) => line.includes('"level":"warn"'))!
        expect(JSON.parse(warning).msg).toMatch(new RegExp(`^upstream http://127\\.0\\.0\\.1:${port} is not usable: .*Transport error.*/readyz says not ready$`))
      } finally {
        expect(await proxy.stop()).toBe(0)
      }
    })
  })
})
