/**
 * What a new user hit (issue 13), each against a real local service: the
 * merge policy key, messages in full, the TTL form, key hints, identities,
 * missing actions, the help overlay, the hint bar at 80 columns and copying.
 */
import { ProfileClient } from "@rtcp/core"
import { Faults } from "@rtcp/local-platform"
import { Effect } from "effect"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { DashboardRuntime } from "../../src/runtime.js"
import { frame, keys, mount, press, startService, type, waitFor, waitForGone, waitForSample } from "../support/harness.js"

let runtime: DashboardRuntime
let run: Awaited<ReturnType<typeof startService>>["run"]
const copies = mkdtempSync(join(tmpdir(), "rtcp-copies-"))

beforeAll(async () => {
  const service = await startService({
    profiles: 40,
    service: { faults: { rules: [Faults.parseRule("GET /data/core/ca/attributes 500")] } }
  })
  runtime = service.runtime
  run = service.run
  await waitForSample(runtime)
})

afterAll(() => runtime.dispose())

const noStitching = Effect.flatMap(ProfileClient.ProfileClient, (client) =>
  client.createMergePolicy({
    name: "No stitching",
    schema: { name: "_xdm.context.profile" },
    identityGraph: { type: "none" },
    attributeMerge: { type: "timestampOrdered" }
  })
)

const openJane = async (instance: Parameters<typeof press>[0]) => {
  await press(instance, ":")
  await type(instance, "profiles Email jane.doe@example.com")
  await press(instance, keys.enter)
  await waitFor(instance, "Profiles › Email:jane.doe@example.com", "person {")
}

describe("1. p, the next merge policy", () => {
  it("with one policy says so and keeps one name; a policy that does not find the profile says so, and p moves on", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 35 })
    try {
      await openJane(instance)
      await waitFor(instance, "policy Default Timebased (default)")
      await press(instance, "p")
      await waitFor(instance, "only one merge policy in this sandbox: Default Timebased (default)")
      expect(frame(instance)).toContain("policy Default Timebased (default)")
      expect(frame(instance)).not.toMatch(/policy Default Timebased(?! \(default\))/)
    } finally {
      cleanup()
    }
    await run(noStitching)
    const second = await mount(runtime, { columns: 120, rows: 35 })
    try {
      await openJane(second.instance)
      await waitFor(second.instance, "policy Default Timebased (default) (p)")
      await press(second.instance, "p")
      await waitFor(second.instance, "policy No stitching")
      // Under "none" the lookup either finds the fragment or says plainly it found nothing: never stuck.
      await until(() => /not found under merge policy No stitching|person \{/.test(frame(second.instance)))
      await press(second.instance, "p")
      await waitFor(second.instance, "policy Default Timebased (default)", "person {")
    } finally {
      second.cleanup()
    }
  })
})

const until = async (check: () => boolean) => {
  const deadline = Date.now() + 15_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out")
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe("2. messages in full", () => {
  it("says where a cut status line is in full, and the Messages view shows it with the request id", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 70, rows: 24 })
    try {
      await press(instance, "5")
      await waitFor(instance, "500 server error", "m full text")
      await press(instance, "m")
      await waitFor(instance, "Messages", /request id [0-9a-f-]{36}/)
      // The full text, wrapped under the list.
      expect(frame(instance).replace(/\s+/g, " ")).toMatch(/500 server error: .*\(request id [0-9a-f-]{36}\)/)
    } finally {
      cleanup()
    }
  })
})

describe("3. edge destination TTL", () => {
  it("asks for seconds, shows the valid range, and refuses 1 in the form", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 35 })
    try {
      await press(instance, "6")
      await waitFor(instance, "Destinations")
      await press(instance, "n")
      await waitFor(instance, "TTL (seconds)", "600–604800")
      await press(instance, keys.tab)
      await type(instance, "1")
      await press(instance, keys.enter)
      await waitFor(instance, "TTL is in seconds: 600 to 604800")
      expect(frame(instance)).not.toContain("TTL (days)")
      await press(instance, keys.escape)
    } finally {
      cleanup()
    }
  })
})

describe("4. key hints that act", () => {
  it("offers on the Overview no open, sort or filter, and / does nothing there", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 35 })
    try {
      await waitFor(instance, "Profiles by dataset")
      const hints = frame(instance).split("\n").at(-1) ?? ""
      expect(hints).not.toContain("open")
      expect(hints).not.toContain("o sort")
      expect(hints).not.toContain("/ filter")
      await press(instance, "/")
      await type(instance, "Luma")
      expect(frame(instance)).not.toContain("/Luma")
    } finally {
      cleanup()
    }
  })

  it("shows p only on an opened profile, and / starts empty", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 35 })
    try {
      await press(instance, "2")
      await waitFor(instance, "jane.doe@example.com")
      expect(frame(instance)).not.toContain("p policy")
      await press(instance, "3")
      await waitFor(instance, "Default Timebased")
      await press(instance, "/")
      await type(instance, "city")
      await press(instance, keys.enter)
      await waitFor(instance, "/city")
      await press(instance, "/")
      await type(instance, "gold")
      await press(instance, keys.enter)
      await waitFor(instance, "/gold")
      expect(frame(instance)).not.toContain("citygold")
    } finally {
      cleanup()
    }
  })
})

describe("5. identities agree", () => {
  it("lists both of Jane's ECIDs, AEP's namespace codes everywhere, every namespace in completion", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 35 })
    try {
      await waitFor(instance, "Profiles by namespace", "CRMID", "LoyaltyId")
      expect(frame(instance)).not.toMatch(/\bcrmid\b|\bloyaltyid\b/)
      await openJane(instance)
      expect(frame(instance)).not.toMatch(/\b1 sources\b/)
      await press(instance, keys.tab)
      await waitFor(instance, "50710734271416325302186483425107286113", "71839027514382916475021938475610293847", "LoyaltyId", "CRMID")
      await press(instance, ":")
      await type(instance, "profiles ")
      await press(instance, keys.tab)
      await waitFor(instance, "ECID", "Phone", "LoyaltyId")
      await press(instance, keys.escape)
    } finally {
      cleanup()
    }
  })
})

describe("6. missing actions", () => {
  it("starts an export job from the Jobs view", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 35 })
    try {
      await press(instance, "4")
      await waitFor(instance, "System jobs", "n new")
      await press(instance, keys.tab)
      await waitFor(instance, "no export job (n starts one)")
      await press(instance, "n")
      await waitFor(instance, "New export job", "Target dataset id")
      // → picks a dataset by name: the export writes into a profile dataset that exists.
      await waitFor(instance, "←/→ picks: Luma")
      for (let i = 0; i < 8 && !/Target dataset id\s+Luma CRM Profiles/.test(frame(instance)); i++) await press(instance, keys.right)
      await waitFor(instance, /Target dataset id\s+Luma CRM Profiles/)
      // The merge policy is filled in with the default once the policies are known.
      await waitFor(instance, /Merge policy\s+Default Timebased \(default\)/)
      await press(instance, keys.enter)
      await waitFor(instance, /export job \d+ created/)
    } finally {
      cleanup()
    }
  })

  it("deletes a profile after asking", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 35 })
    try {
      await press(instance, ":")
      await type(instance, "profiles CRMID crm-0000007")
      await press(instance, keys.enter)
      await waitFor(instance, "person {", "d delete")
      await press(instance, "d")
      await waitFor(instance, "Confirm", "Delete the profile CRMID:crm-0000007")
      await press(instance, "y")
      await waitFor(instance, "deleted the profile CRMID:crm-0000007")
      await waitForGone(instance, "Profiles › CRMID:crm-0000007")
    } finally {
      cleanup()
    }
  })

  it("picks datasets by name for dataSetPrecedence", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 35 })
    try {
      await press(instance, "3")
      await waitFor(instance, "Default Timebased")
      await press(instance, "n")
      await waitFor(instance, "New merge policy")
      await type(instance, "By dataset")
      await press(instance, keys.tab, keys.tab, keys.right, keys.tab)
      await waitFor(instance, "dataSetPrecedence (dataset order)", "→ adds, ← removes")
      await press(instance, keys.right, keys.right)
      await waitFor(instance, /Dataset order\s+\S.*, \S/)
      await press(instance, keys.enter)
      await waitFor(instance, 'created merge policy "By dataset"')
    } finally {
      cleanup()
    }
  })

  it("shows the help whole at 120 columns and keeps q quit at 80×24", async () => {
    const wide = await mount(runtime, { columns: 120, rows: 35 })
    try {
      await press(wide.instance, "3")
      await waitFor(wide.instance, "Default Timebased")
      await press(wide.instance, "?")
      await press(wide.instance, "G")
      await waitFor(wide.instance, ":profiles [namespace id]")
    } finally {
      wide.cleanup()
    }
    const narrow = await mount(runtime, { columns: 80, rows: 24 })
    try {
      await openJane(narrow.instance)
      const lines = frame(narrow.instance).split("\n").filter((line) => line.trim() !== "")
      expect(lines.at(-1)!.trimEnd()).toMatch(/q quit$/)
    } finally {
      narrow.cleanup()
    }
  })
})

describe("7. copy", () => {
  it("copies the row under the cursor and the profile as JSON to a file the status line names", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 160, rows: 35, copyDirectory: copies })
    try {
      await press(instance, "3")
      await waitFor(instance, "Default Timebased")
      await press(instance, "y")
      await waitFor(instance, `copied the row to ${copies}`)
      await openJane(instance)
      await press(instance, "Y")
      await waitFor(instance, `copied the profile as JSON to ${copies}`)
      const files = readdirSync(copies).map((name) => readFileSync(join(copies, name), "utf8"))
      // The row: its cells, tab-separated.
      expect(files.some((text) => text.includes("\t") && /timestampOrdered|dataSetPrecedence/.test(text))).toBe(true)
      const profile = files.find((text) => text.trimStart().startsWith("{"))
      expect(JSON.parse(profile!).entity).toBeDefined()
      expect(profile).toContain("jane.doe@example.com")
    } finally {
      cleanup()
    }
  })
})
