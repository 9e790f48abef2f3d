import { ProfileClient } from "@rtcp/core"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { DashboardRuntime } from "../../src/runtime.js"
import { frame, keys, mount, press, startService, type, waitFor, waitForGone } from "../support/harness.js"

let runtime: DashboardRuntime

beforeAll(async () => {
  const service = await startService({ profiles: 60 })
  runtime = service.runtime
  // A second merge policy, to switch the merge of a profile.
  await service.run(
    Effect.flatMap(ProfileClient.ProfileClient, (client) =>
      client.createMergePolicy({
        name: "No stitching",
        schema: { name: "_xdm.context.profile" },
        identityGraph: { type: "none" },
        attributeMerge: { type: "timestampOrdered" }
      })
    )
  )
})

afterAll(() => runtime.dispose())

describe("navigation", () => {
  it("shows the upstream in the header and the overview first", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await waitFor(instance, /local http:\/\/127\.0\.0\.1:\d+/, "org RTCPLOCAL@AdobeOrg", "sandbox prod", "Overview", "Merged profiles")
    } finally {
      cleanup()
    }
  })

  it("jumps to views with number keys and with : commands, and lists their rows", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "3")
      await waitFor(instance, "Merge policies", "Default Timebased", "No stitching")
      await press(instance, ":")
      await type(instance, "jobs")
      await press(instance, keys.enter)
      await waitFor(instance, "System jobs", "Export jobs", "no system job")
      await press(instance, keys.tab)
      await waitFor(instance, "no export job")
      await press(instance, ":")
      await type(instance, "ca")
      await press(instance, keys.enter)
      await waitFor(instance, "Computed attributes", "computed attributes")
      await press(instance, "6")
      await waitFor(instance, "Destinations", "Projections")
    } finally {
      cleanup()
    }
  })

  it("completes commands with Tab", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, ":")
      await type(instance, "pol")
      await waitFor(instance, ":policies")
      await press(instance, keys.tab, keys.enter)
      await waitFor(instance, "Default Timebased")
    } finally {
      cleanup()
    }
  })

  it("drills down with Enter, shows breadcrumbs, and goes back with Esc", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "3")
      await waitFor(instance, "Default Timebased")
      await press(instance, "o") // sort by name: Default Timebased, No stitching
      await press(instance, keys.down, keys.enter)
      await waitFor(instance, "Merge policies › No stitching", "identityGraph {1}", "type: none")
      await press(instance, keys.escape)
      await waitFor(instance, "2 merge policies")
      expect(frame(instance)).not.toContain("›")
    } finally {
      cleanup()
    }
  })

  it("acts on the row a key moved to, even when the keys come faster than frames", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "3")
      await waitFor(instance, "Default Timebased")
      await press(instance, "o") // sort by name: Default Timebased, No stitching
      await waitFor(instance, /sorted|▲|↑/)
      // One write: nothing is drawn between the move and Enter.
      instance.stdin.write(keys.down + keys.enter)
      await waitFor(instance, "Merge policies › No stitching")
    } finally {
      cleanup()
    }
  })

  it("looks a profile up and shows its tree, identities, events and merge policy", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "2")
      await waitFor(instance, "jane.doe@example.com", "example")
      await press(instance, keys.enter)
      await waitFor(instance, "Profiles › Email:jane.doe@example.com", "Attributes", "person {", "loyalty {")
      await press(instance, keys.tab)
      await waitFor(instance, "crm-0000000", "LoyaltyId")
      await press(instance, keys.tab)
      // The header names the default policy once the policies are known; only then can p step through them.
      await waitFor(instance, "web.webpagedetails.pageViews", "policy Default Timebased (default)")
      await press(instance, "p")
      await waitFor(instance, "policy No stitching", "merged with No stitching")
      await press(instance, "p")
      await waitFor(instance, "policy Default Timebased (default)", "merged with Default Timebased (default)")
      await press(instance, keys.escape)
      await waitForGone(instance, "Profiles ›")
      await waitFor(instance, "recent")
    } finally {
      cleanup()
    }
  })

  it("pages the event timeline in as the cursor scrolls down", async () => {
    const { instance, cleanup } = await mount(runtime, { rows: 12, eventPageSize: 2 })
    try {
      await press(instance, ":")
      await type(instance, "profiles Email jane.doe@example.com")
      await press(instance, keys.enter)
      await waitFor(instance, "Attributes")
      await press(instance, keys.tab, keys.tab)
      // A screen's worth is fetched, not more.
      await waitFor(instance, "4+ events")
      await press(instance, "j", "j")
      await waitFor(instance, "6+ events")
      await press(instance, "G")
      await waitFor(instance, /· 6 events/)
      expect(frame(instance)).toContain("Crown Summit Backpack")
      // Enter opens the event; Esc comes back to the timeline.
      await press(instance, keys.enter)
      await waitFor(instance, "› event crm-0000000-pv-0", "entity {")
      await press(instance, keys.escape)
      await waitFor(instance, "Crown Summit Backpack")
    } finally {
      cleanup()
    }
  })

  it("folds and unfolds the profile tree", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, ":")
      await type(instance, "profiles Email jane.doe@example.com")
      await press(instance, keys.enter)
      await waitFor(instance, "▾ person", "▸ name {2}", "birthDate")
      await press(instance, keys.enter) // the cursor is on "person"
      await waitFor(instance, "▸ person {")
      expect(frame(instance)).not.toContain("birthDate")
      await press(instance, keys.right)
      await waitFor(instance, "▾ person", "birthDate")
      await press(instance, keys.down, "l")
      await waitFor(instance, "▾ name {2}", "firstName")
      await press(instance, "h")
      await waitForGone(instance, "firstName")
      // Folded and unfolded again in one write: each key acts on the folds the one before left.
      instance.stdin.write(keys.up + keys.enter + keys.down + "l")
      await waitFor(instance, "▸ person {")
      expect(frame(instance)).not.toContain("firstName")
    } finally {
      cleanup()
    }
  })

  it("opens help generated from the keymap, for the view on screen", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "3")
      await waitFor(instance, "Default Timebased")
      await press(instance, "?")
      await waitFor(instance, "Help", "Make it the default merge policy")
      await press(instance, "G")
      await waitFor(instance, ":sandbox <name>", "Switch sandbox")
      await press(instance, keys.escape)
      await waitFor(instance, "Default Timebased")
      await press(instance, "1", "?")
      await waitFor(instance, "Help")
      expect(frame(instance)).not.toContain("Make it the default merge policy")
    } finally {
      cleanup()
    }
  })

  it("switches sandbox with :sandbox and says which one in the header", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "3")
      await waitFor(instance, "Default Timebased")
      await press(instance, ":")
      await type(instance, "sandbox dev")
      await press(instance, keys.enter)
      await waitFor(instance, "sandbox dev")
      // The dev sandbox does not exist on the local service: the error is shown, the app keeps working.
      await press(instance, ":")
      await type(instance, "sandbox prod")
      await press(instance, keys.enter)
      await waitFor(instance, "sandbox prod", "Default Timebased")
    } finally {
      cleanup()
    }
  })
})
