import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { DashboardRuntime } from "../../src/runtime.js"
import { frame, keys, mount, press, startService, type, waitFor, waitForGone } from "../support/harness.js"

let runtime: DashboardRuntime

beforeAll(async () => {
  runtime = (await startService({ profiles: 30 })).runtime
})

afterAll(() => runtime.dispose())

describe("computed attributes", () => {
  it("creates one from the form, opens it, and deletes it after asking", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "5")
      await waitFor(instance, "no computed attribute")
      await press(instance, "n")
      await waitFor(instance, "New computed attribute", "PQL expression")
      await type(instance, "purchases30d")
      await press(instance, keys.down, keys.down, keys.down)
      await type(instance, 'xEvent[eventType = "commerce.purchases"].count()')
      // 30 days is more than AEP allows: the service refuses it and the form comes back with the reason.
      await press(instance, keys.down, keys.ctrlU)
      await type(instance, "30")
      await press(instance, keys.down, keys.right, keys.right, keys.enter)
      await waitFor(instance, "New computed attribute", "duration.count must be")
      await press(instance, keys.up, keys.ctrlU)
      await type(instance, "7")
      await press(instance, keys.enter)
      await waitFor(instance, 'created computed attribute "purchases30d"')
      await waitFor(instance, "purchases30d", "7 days")
      await press(instance, keys.enter)
      await waitFor(instance, "Computed attributes › purchases30d", "expression {")
      await press(instance, "d")
      await waitFor(instance, "Confirm", 'Delete computed attribute "purchases30d"')
      await press(instance, "y")
      await waitFor(instance, 'deleted computed attribute "purchases30d"')
      await waitForGone(instance, "›")
    } finally {
      cleanup()
    }
  })
})

describe("edge projections", () => {
  it("creates a destination and a projection on it, then deletes the projection", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "6")
      await waitFor(instance, "no edge destination")
      // n acts on the pane on screen: wait for the switch to be drawn.
      await press(instance, keys.tab)
      await waitFor(instance, "no edge projection")
      await press(instance, "n")
      await waitFor(instance, "a projection needs a destination")
      await press(instance, keys.tab)
      await waitFor(instance, "no edge destination")
      await press(instance, "n")
      await waitFor(instance, "New edge destination", "OR1,VA5")
      await press(instance, keys.enter)
      await waitFor(instance, "created edge destination", "OR1,VA5", "1 destination")
      await press(instance, keys.tab)
      await waitFor(instance, "0 projections")
      await press(instance, "n")
      await waitFor(instance, "New edge projection", "Selector")
      await type(instance, "loyalty-on-edge")
      await press(instance, keys.down)
      await type(instance, "loyalty(tier,points)")
      await press(instance, keys.enter)
      await waitFor(instance, 'created edge projection "loyalty-on-edge"')
      await waitFor(instance, "1 projection", "loyalty(tier,points)")
      await press(instance, "d")
      await waitFor(instance, "Confirm", 'Delete edge projection "loyalty-on-edge"')
      await press(instance, "y")
      await waitFor(instance, "0 projections")
    } finally {
      cleanup()
    }
  })
})

describe("keys faster than the screen", () => {
  it("sends a key typed right after a pane switch to the new pane's list, not the one still drawn", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "4")
      await waitFor(instance, "System jobs", "n new")
      // Tab and n in one read: n is handled before the Export jobs pane is drawn.
      instance.stdin.write("\tn")
      await waitFor(instance, "New export job (merged profiles to a dataset)")
      expect(frame(instance)).not.toContain("New delete job")
      await press(instance, keys.escape)
      // Back to System jobs the same way: n there is a delete job.
      instance.stdin.write("\tn")
      await waitFor(instance, "New delete job (removes data from the profile store)")
      await press(instance, keys.escape)
    } finally {
      cleanup()
    }
  })
})
