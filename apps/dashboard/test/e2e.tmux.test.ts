/**
 * End to end: the real `npm start` in a detached tmux session (100×30),
 * driven with `send-keys` and read with `capture-pane`, through every view;
 * then `q`, and the local profile service it started must be gone.
 *
 * Skipped, with a message saying so, only when tmux is not installed.
 * `RTCP_E2E_SCREENS=<dir>` keeps every captured screen as a text file.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const tmuxVersion = spawnSync("tmux", ["-V"], { encoding: "utf8" })
const hasTmux = tmuxVersion.status === 0
if (!hasTmux) console.warn("e2e: tmux is not installed, so the end-to-end test of `npm start` is skipped")

const root = new URL("../../../", import.meta.url).pathname
const socket = `rtcp-e2e-${process.pid}`
const session = "dashboard"
const data = mkdtempSync(join(tmpdir(), "rtcp-dashboard-e2e-"))
const screens = process.env.RTCP_E2E_SCREENS

const tmux = (...args: ReadonlyArray<string>) => {
  const result = spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8" })
  if (result.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${result.stderr}`)
  return result.stdout
}

const screen = () => tmux("capture-pane", "-p", "-t", session)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls the pane until every text shows (bounded); answers the screen. */
const waitFor = async (texts: ReadonlyArray<string | RegExp>, timeoutMs = 20_000): Promise<string> => {
  const deadline = Date.now() + timeoutMs
  let last = ""
  while (Date.now() < deadline) {
    last = screen()
    if (texts.every((text) => (typeof text === "string" ? last.includes(text) : text.test(last)))) return last
    await sleep(100)
  }
  throw new Error(`e2e: timed out waiting for ${texts.map(String).join(", ")}; the screen was:\n${last}`)
}

const keys = (...names: ReadonlyArray<string>) => tmux("send-keys", "-t", session, ...names)
const text = (value: string) => tmux("send-keys", "-t", session, "-l", value)

const keep = (name: string, content: string) => {
  if (!screens) return
  mkdirSync(screens, { recursive: true })
  writeFileSync(join(screens, `${name}.txt`), content.replace(/\s+$/gm, "").trimEnd() + "\n")
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy()
      resolve(false)
    })
    socket.on("error", () => resolve(true))
  })

afterAll(() => {
  if (hasTmux) {
    spawnSync("tmux", ["-L", socket, "kill-server"])
    // tmux leaves the socket file of a killed server behind.
    const uid = process.getuid?.() ?? 0
    rmSync(join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${uid}`, socket), { force: true })
  }
  rmSync(data, { recursive: true, force: true })
})

describe("npm start under tmux", () => {
  it.skipIf(!hasTmux)(
    "opens the dashboard on a local service, goes through every view, and stops the service on q",
    async () => {
      // No AEP_* variable may reach it (it must start the local service), nor CI: Ink draws only
      // the last frame when it believes it runs in CI, and a person at a terminal is not in CI.
      const command =
        `env -u CI -u AEP_CLIENT_ID -u AEP_CLIENT_SECRET -u AEP_ACCESS_TOKEN -u AEP_ORG_ID ` +
        // The root's `npm start`, as the README says: it builds the dashboard (a cache hit once built), then runs it.
        `npm start --silent -- --data ${data} --profiles 200 --refresh 2; ` +
        `echo "RTCP_EXIT=$?"; sleep 120`
      tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", "-c", root, command)

      const first = await waitFor([/ rtcp local http:\/\/127\.0\.0\.1:\d+/, "org RTCPLOCAL@AdobeOrg", "Merged profiles"], 120_000)
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(first)![1])
      keep("overview", await waitFor(["Profiles by dataset", "Profiles by namespace", "Dataset overlap", "Namespace overlap"], 30_000))

      // Profiles: the demo customer, her tree, identities, events, computed attributes.
      keys("2")
      await waitFor(["jane.doe@example.com", "example"])
      keys("Enter")
      keep("profile-attributes", await waitFor(["Profiles › Email:jane.doe@example.com", "▾ person", "loyalty {"]))
      keys("Tab")
      keep("profile-identities", await waitFor(["crm-0000000", "LoyaltyId", "PRIMARY"]))
      keys("Tab")
      keep("profile-events", await waitFor(["web.webpagedetails.pageViews", /\d+\+? events/]))
      keys("Tab")
      await waitFor(["COMPUTED ATTRIBUTE"])
      keys("Escape")
      await waitFor(["recent"])

      // Merge policies, a detail, back.
      keys("3")
      keep("merge-policies", await waitFor(["Default Timebased", "timestampOrdered"]))
      keys("Enter")
      keep("merge-policy", await waitFor(["Merge policies › Default Timebased", "identityGraph {1}"]))
      keys("Escape")
      await waitFor(["1 merge policy"])

      // Jobs through the command line, both panes.
      keys(":")
      text("jobs")
      keys("Enter")
      keep("system-jobs", await waitFor(["System jobs", "Export jobs", "no system job"]))
      keys("Tab")
      keep("export-jobs", await waitFor(["no export job"]))

      keys("5")
      keep("computed-attributes", await waitFor(["Computed attributes", "computed attributes"]))
      keys("6")
      keep("edge-destinations", await waitFor(["Destinations", "Projections", "destinations"]))
      keys("Tab")
      keep("edge-projections", await waitFor(["projections"]))

      // Help and the filter.
      keys("3", "/")
      text("nothing-like-this")
      await waitFor(["nothing matches /nothing-like-this"])
      // Esc then ? in one write would read as Alt-?: one key at a time.
      keys("Escape")
      await waitFor(["Default Timebased"])
      keys("?")
      keep("help", await waitFor(["Help", "Make it the default merge policy"]))
      keys("Escape")
      await waitFor(["Default Timebased"])

      keys("q")
      const after = await waitFor(["RTCP_EXIT=0"], 30_000)
      expect(after).toContain(`rtcp: stopped the local profile service at http://127.0.0.1:${port}`)
      expect(await refused(port)).toBe(true)
    },
    240_000
  )
})
