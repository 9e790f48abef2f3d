import { Retry } from "@rtcp/core"
import { Faults } from "@rtcp/local-platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Layer, ManagedRuntime } from "effect"
import { createServer } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { DashboardRuntime } from "../../src/runtime.js"
import { demoCredential, type Services, Upstream } from "../../src/upstream.js"
import { fits, frame, keys, mount, press, resize, startService, waitFor, waitForGone, waitForSample, withBadToken } from "../support/harness.js"

let runtime: DashboardRuntime
let url: string

beforeAll(async () => {
  const service = await startService({
    profiles: 40,
    service: {
      faults: {
        rules: [
          Faults.parseRule("GET /data/core/ups/config/mergePolicies 503 times=1"),
          Faults.parseRule("GET /data/core/ups/system/jobs 429 retry-after=2"),
          Faults.parseRule("GET /data/core/ca/attributes 500")
        ]
      }
    }
  })
  runtime = service.runtime
  url = service.info.url
  await waitForSample(runtime)
})

afterAll(() => runtime.dispose())

describe("errors", () => {
  it("shows a 5xx in the status line, keeps working, and clears it once a refresh succeeds", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "3")
      await waitFor(instance, "✗", "503 server error")
      await press(instance, "1")
      await waitFor(instance, "Profiles by dataset")
      await press(instance, "3", "r")
      await waitFor(instance, "Default Timebased")
      await waitForGone(instance, "503 server error")
    } finally {
      cleanup()
    }
  })

  it("shows a 429 with its Retry-After", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "4")
      await waitFor(instance, "429 rate limited", "retry after 2s")
      await press(instance, keys.tab)
      await waitFor(instance, "no export job")
    } finally {
      cleanup()
    }
  })

  it("shows a 500 on another family while the rest answers", async () => {
    const { instance, cleanup } = await mount(runtime)
    try {
      await press(instance, "5")
      await waitFor(instance, "500 server error")
      await press(instance, "6")
      await waitFor(instance, "Destinations")
    } finally {
      cleanup()
    }
  })

  it("shows a 401 when the token is refused", async () => {
    const bad = withBadToken(url)
    const { instance, cleanup } = await mount(bad)
    try {
      await waitFor(instance, "401 unauthorized")
      await press(instance, "3")
      await waitFor(instance, "401 unauthorized")
    } finally {
      cleanup()
      await bad.dispose()
    }
  })

  it("shows a network error when the upstream is gone", async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address()
        server.close(() => resolve(typeof address === "object" && address ? address.port : 1))
      })
    })
    const gone = `http://127.0.0.1:${port}`
    const offline: DashboardRuntime = ManagedRuntime.make(
      Layer.mergeAll(
        demoCredential(gone, "prod").pipe(Layer.provide(NodeHttpClient.layerUndici)),
        Layer.succeed(Upstream, { kind: "url", url: gone, orgId: "x", sandbox: "prod", examples: [] }),
        Layer.succeed(Retry.CurrentRetryPolicy, Retry.none)
      ) as Layer.Layer<Services>
    )
    const { instance, cleanup } = await mount(offline)
    try {
      await waitFor(instance, "network:")
      await press(instance, "?")
      await waitFor(instance, "Help")
    } finally {
      cleanup()
      await offline.dispose()
    }
  })
})

describe("terminal size", () => {
  it("fits 80×24 and adapts when the terminal is resized", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 40 })
    try {
      // The 503 rule may have fired here first: refresh.
      await press(instance, "3", "r")
      await waitFor(instance, "Default Timebased", "UPDATED")
      expect(fits(instance, 120, 40).ok).toBe(true)
      resize(instance, 80, 24)
      await waitForGone(instance, "UPDATED")
      await waitFor(instance, "Default Timebased")
      expect(fits(instance, 80, 24)).toMatchObject({ ok: true })
      expect(frame(instance).split("\n")).toHaveLength(23)
      resize(instance, 50, 14)
      await until(() => fits(instance, 50, 14).ok && frame(instance).split("\n").length === 13)
      await waitFor(instance, "Default Time")
      resize(instance, 30, 8)
      await waitFor(instance, "rtcp needs at least 40×10")
      resize(instance, 80, 24)
      await waitFor(instance, "Default Timebased")
    } finally {
      cleanup()
    }
  })

  it("draws the overview at 80×24 with its charts one under the other", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 80, rows: 24 })
    try {
      await waitFor(instance, "Merged profiles", "Profiles by dataset", "Luma CRM Profiles")
      expect(fits(instance, 80, 24).ok).toBe(true)
      // Scrolling down reaches the namespace overlap.
      await press(instance, "G")
      await waitFor(instance, "Namespace overlap")
      expect(fits(instance, 80, 24).ok).toBe(true)
    } finally {
      cleanup()
    }
  })
})

const until = async (check: () => boolean) => {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out")
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
