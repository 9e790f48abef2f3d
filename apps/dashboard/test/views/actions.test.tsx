import { ProfileClient } from "@rtcp/core"
import { Chunk, Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { DashboardRuntime } from "../../src/runtime.js"
import { frame, keys, mount, press, startService, type, waitFor, waitForGone, waitForSample } from "../support/harness.js"

let runtime: DashboardRuntime
let run: Awaited<ReturnType<typeof startService>>["run"]

const policy = (name: string, graph: "pdg" | "none" = "pdg") =>
  Effect.flatMap(ProfileClient.ProfileClient, (client) =>
    client.createMergePolicy({
      name,
      schema: { name: "_xdm.context.profile" },
      identityGraph: { type: graph },
      attributeMerge: { type: "timestampOrdered" }
    })
  )

const policyNames = Effect.flatMap(ProfileClient.ProfileClient, (client) =>
  Effect.map(Stream.runCollect(client.mergePolicies()), (all) => Chunk.toReadonlyArray(all).map((p) => p.name))
)

beforeAll(async () => {
  const service = await startService({ profiles: 30 })
  runtime = service.runtime
  run = service.run
  for (const name of ["Loyalty first", "Loyalty recent", "Web only"]) await run(policy(name))
  await waitForSample(runtime)
})

afterAll(() => runtime.dispose())

describe("filter", () => {
  it("narrows the list as you type, and keeps it across refreshes and view switches", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "3")
      await waitFor(instance, "Web only", "Loyalty first")
      await press(instance, "/")
      await type(instance, "loyal")
      await waitForGone(instance, "Web only")
      await waitFor(instance, "Loyalty first", "Loyalty recent")
      await press(instance, keys.enter, "r")
      await waitFor(instance, "/loyal", "Loyalty first")
      expect(frame(instance)).not.toContain("Web only")
      await press(instance, "4")
      await waitFor(instance, "System jobs")
      expect(frame(instance)).not.toContain("/loyal")
      await press(instance, "3")
      await waitFor(instance, "/loyal", "Loyalty recent")
      expect(frame(instance)).not.toContain("Web only")
      // Esc clears it.
      await press(instance, keys.escape)
      await waitFor(instance, "Web only")
    } finally {
      cleanup()
    }
  })

  it("goes back to the previous filter on Esc while typing", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "3", "/")
      await type(instance, "web")
      await press(instance, keys.enter)
      await waitFor(instance, "/web")
      await press(instance, "/")
      await type(instance, "zzz")
      // The prompt starts empty: what is typed replaces the old filter.
      await waitFor(instance, "nothing matches /zzz")
      await press(instance, keys.escape)
      await waitFor(instance, "Web only", "/web")
    } finally {
      cleanup()
    }
  })
})

describe("confirmation", () => {
  it("asks before deleting, does nothing on n, deletes on y", async () => {
    await run(policy("Throwaway"))
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "3", "/")
      await type(instance, "throwaway")
      await press(instance, keys.enter)
      await waitFor(instance, "Throwaway")
      await press(instance, "d")
      await waitFor(instance, "Confirm", 'Delete merge policy "Throwaway"', "paused")
      await press(instance, "n")
      await waitForGone(instance, "Confirm")
      await waitFor(instance, "cancelled")
      expect(await run(policyNames)).toContain("Throwaway")
      await press(instance, "d")
      await waitFor(instance, "Confirm")
      await press(instance, "y")
      await waitFor(instance, 'deleted merge policy "Throwaway"')
      expect(await run(policyNames)).not.toContain("Throwaway")
    } finally {
      cleanup()
    }
  })

  it("creates a merge policy from the form", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "3")
      await waitFor(instance, "Web only")
      await press(instance, "n")
      await waitFor(instance, "New merge policy", "Identity graph")
      await press(instance, keys.enter)
      await waitFor(instance, "Name is required")
      await type(instance, "From the form")
      await press(instance, keys.down, keys.right)
      await waitFor(instance, "none (no stitching)")
      await press(instance, keys.enter)
      await waitFor(instance, 'created merge policy "From the form"')
      await waitFor(instance, "From the form")
      expect(await run(policyNames)).toContain("From the form")
    } finally {
      cleanup()
    }
  })

  it("creates a delete job for a dataset after asking, and shows it in Jobs", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "4")
      await waitFor(instance, "no system job")
      // The dataset choices come from the sample's dataset report, fetched with the view:
      // until it answers the form asks for an id instead.
      for (let attempt = 0; attempt < 50 && !frame(instance).includes("‹ Luma"); attempt++) {
        if (frame(instance).includes("New delete job")) await press(instance, keys.escape)
        await new Promise((resolve) => setTimeout(resolve, 100))
        await press(instance, "n")
        await waitFor(instance, "New delete job")
      }
      await waitFor(instance, "‹ Luma")
      await press(instance, keys.enter)
      await waitFor(instance, "Confirm", "Delete dataset")
      await press(instance, "y")
      await waitFor(instance, /delete job \S+ created/)
      await waitFor(instance, "TRUNCATE_DATASET")
    } finally {
      cleanup()
    }
  })

  it("refuses writes under --read-only without asking", async () => {
    const { instance, cleanup } = await mount(runtime, { readOnly: true })
    try {
      await waitFor(instance, "READ-ONLY")
      await press(instance, "3")
      await waitFor(instance, "Web only")
      expect(frame(instance)).not.toContain("d delete")
      await press(instance, "d")
      await waitFor(instance, "read-only: delete is disabled")
      expect(frame(instance)).not.toContain("Confirm")
      await press(instance, "n")
      await waitFor(instance, "read-only: create is disabled")
      expect(frame(instance)).not.toContain("New merge policy")
    } finally {
      cleanup()
    }
  })
})
