import { describe, expect, it } from "@effect/vitest"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, expectUsageError, proxyCommand, start } from "./support/cli.js"

/** A port nothing listens on (taken, then released). */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })

// Without AEP_* variables the dashboard would not go to Adobe; the tests never do.
const env = { AEP_CLIENT_ID: undefined, AEP_ACCESS_TOKEN: undefined, RTCP_PROXY_KEY: undefined }

describe("rtcp --help", { timeout: 120_000 }, () => {
  it("lists every flag once with its default, in plain text off a terminal", async () => {
    const { code, stdout } = await cli(["--help"], { env })
    expect(code).toBe(0)
    expect(stdout).not.toMatch(/\u001b\[/)
    const options = stdout.slice(stdout.indexOf("OPTIONS"))
    for (const flag of ["--upstream", "--proxy-key", "--sandbox", "--read-only", "--data", "--profiles", "--refresh", "--view", "--log-level"]) {
      expect(options.match(new RegExp(`^${flag}( |$)`, "gm")) ?? [], flag).toHaveLength(1)
    }
    for (const shown of ["(default .rtcp/dashboard)", "(default 1000)", "(default 5)"]) expect(stdout).toContain(shown)
  })
})

describe("rtcp: a mistake is one line on stderr and exit code 2", { timeout: 120_000 }, () => {
  it("--data pointing at a file", async () => {
    const folder = mkdtempSync(join(tmpdir(), "rtcp-dashboard-cli-"))
    const file = join(folder, "not-a-folder")
    writeFileSync(file, "")
    try {
      expect(expectUsageError(await cli(["--data", file], { env }), "rtcp")).toBe(`rtcp: --data ${file} is a file, not a folder: give a folder (created if missing)`)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })

  it("an unknown flag, a value that is not a number", async () => {
    expect(expectUsageError(await cli(["--bogus"], { env }), "rtcp")).toBe("rtcp: unknown flag --bogus (--help lists the flags)")
    expect(expectUsageError(await cli(["--refresh", "often"], { env }), "rtcp")).toBe("rtcp: --refresh often: not an integer")
  })

  it("an upstream that does not answer, said at start", async () => {
    const port = await closedPort()
    const line = expectUsageError(await cli(["--upstream", `http://127.0.0.1:${port}`], { env }), "rtcp")
    expect(line).toMatch(new RegExp(`^rtcp: the upstream http://127\\.0\\.0\\.1:${port} does not answer \\(.*\\): check the URL and that it runs`))
  })

  it("--proxy-key without --upstream", async () => {
    expect(expectUsageError(await cli(["--proxy-key", "k"], { env }), "rtcp")).toContain("--proxy-key needs --upstream URL")
  })
})

describe("rtcp with the proxy as its upstream", { timeout: 240_000 }, () => {
  it("reads through the proxy with --proxy-key, and says what is missing without it", async () => {
    const folder = mkdtempSync(join(tmpdir(), "rtcp-dashboard-proxy-"))
    // No key file and the embedded upstream: the proxy accepts its demo key.
    const proxy = await start(
      ["--port", "0", "--ops-port", "0", "--seed-profiles", "20", "--keys", join(folder, "no-keys.json")],
      /"msg":"proxy listening".*\n/,
      { command: proxyCommand, env, timeoutMs: 120_000 }
    )
    try {
      const url = /"msg":"proxy listening","url":"([^"]+)"/.exec(proxy.stdout())![1]!
      const summary = await cli(["--upstream", url, "--proxy-key", "rtcp-proxy-demo"], { env })
      expect(summary.stderr).toBe("")
      expect(summary.code).toBe(0)
      expect(summary.stdout).toContain(`upstream            url ${url}  org (the proxy's)  sandbox prod`)
      expect(summary.stdout).toContain("merge policies      1 (default: Default Timebased)")

      expect(expectUsageError(await cli(["--upstream", url], { env }), "rtcp")).toBe(
        `rtcp: the upstream ${url} is an rtcp proxy: give your proxy key with --proxy-key KEY (or RTCP_PROXY_KEY)`
      )
      expect(expectUsageError(await cli(["--upstream", url], { env: { ...env, RTCP_PROXY_KEY: "not-the-key" } }), "rtcp")).toContain(
        `rtcp: the upstream ${url} refused the key given with --proxy-key (401`
      )
    } finally {
      await proxy.stop()
      rmSync(folder, { recursive: true, force: true })
    }
  })
})
