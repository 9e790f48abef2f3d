/**
 * The views no other Profile tool has: a profile diffed under two merge
 * policies, its explanation, the request inspector, and permalinks. All
 * against a real local service (with its inspector on).
 */
import { ProfileClient } from "@rtcp/core"
import { Effect, Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LocalExtensions } from "../../src/extensions.js"
import type { DashboardRuntime } from "../../src/runtime.js"
import { routeFromArgs } from "../../src/state/routes.js"
import { diffRows, diffSide } from "../../src/views/Diff.js"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { frame, keys, mount, press, startService, type, waitFor, withStaticToken } from "../support/harness.js"

let runtime: DashboardRuntime
/** Whether the local service of this checkout has the explain extension and the inspector yet. */
let explains = false
let inspects = false

beforeAll(async () => {
  const service = await startService({ profiles: 30, service: { admin: true } })
  runtime = service.runtime
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
  const probe = <A, E>(effect: Effect.Effect<A, E, LocalExtensions | ProfileClient.ProfileClient>) =>
    service.run(Effect.map(Effect.either(effect), (result) => Either.isRight(result) || (result.left as { _tag?: string })._tag !== "NotFound"))
  explains = await probe(Effect.flatMap(ProfileClient.ProfileClient, (client) => client.explainProfile({ entityId: "jane.doe@example.com", entityIdNS: "Email" })))
  inspects = await probe(Effect.flatMap(LocalExtensions, (admin) => admin.requests({ limit: 1 })))
})

afterAll(() => runtime.dispose())

describe("diff", () => {
  it("shows one profile under two merge policies side by side, differences first", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 140, rows: 35 })
    try {
      await press(instance, ":")
      await type(instance, "diff Email jane.doe@example.com")
      await press(instance, keys.enter)
      await waitFor(instance, "Diff › diff Email:jane.doe@example.com", "◀ Default Timebased (default)", "No stitching · none", /\d+ identity namespaces? and \d+ attributes? differ/)
      // Under "none" nothing stitches to the Email: the profile is not found there, and every identity differs.
      expect(frame(instance)).toMatch(/identity ECID\s+50710734271416325302186483425107286113, 71839\S*…?\s+–/)
      // P steps the left policy: both sides the same policy, nothing differs.
      await press(instance, "P")
      await waitFor(instance, /0 identity namespaces and 0 attributes differ/)
    } finally {
      cleanup()
    }
  })

  it("lists the identities only experience events carry, as the Identities tab does", async () => {
    const entity = { identityMap: { ECID: [{ id: "ecid-1", primary: true }] }, person: { name: { firstName: "Jane" } } }
    const rows = diffRows(diffSide(entity, [{ namespace: "ecid", id: "ecid-2", primary: true, state: "" }]), diffSide(entity, []))
    expect(rows[0]).toEqual({ path: "identity ECID", left: "ecid-1, ecid-2 (events only)", right: "ecid-1", differs: true })
    expect(rows.find((row) => row.path === "person.name.firstName")?.differs).toBe(false)

    // Jane's second ECID is only on her experience events: the left side (the default policy) lists it.
    const { instance, cleanup } = await mount(runtime, { columns: 240, rows: 35 })
    try {
      await press(instance, ":")
      await type(instance, "diff Email jane.doe@example.com")
      await press(instance, keys.enter)
      await waitFor(instance, /identity ECID\s+50710734271416325302186483425107286113, 71839027514382916475021938475610293847 \(events only\)\s+–/)
    } finally {
      cleanup()
    }
  })

  it("opens from a profile with D", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 35 })
    try {
      await press(instance, ":")
      await type(instance, "profiles Email jane.doe@example.com")
      await press(instance, keys.enter)
      await waitFor(instance, "person {", "D diff")
      await press(instance, "D")
      await waitFor(instance, "› diff Email:jane.doe@example.com", "◀ Default Timebased")
    } finally {
      cleanup()
    }
  })
})

describe("explain", () => {
  it("shows the winning fragment of each attribute and the values it beat, and how each identity joined", async () => {
    expect(explains).toBe(true)
    const { instance, cleanup } = await mount(runtime, { columns: 140, rows: 35 })
    try {
      await press(instance, ":")
      await type(instance, "explain Email jane.doe@example.com")
      await press(instance, keys.enter)
      await waitFor(instance, "Attributes", "WON FROM DATASET", "person.name.firstName", "won from")
      // Where the view lists something, its keys are offered.
      for (const hint of ["p policy", "Tab pane", "o sort", "/ filter", "y copy"]) expect(hintsOf(instance)).toContain(hint)
      await press(instance, keys.tab)
      await waitFor(instance, "JOINED THROUGH", "71839027514382916475021938475610293847", "joined the graph through")
    } finally {
      cleanup()
    }
  })
})

/** The key hint line (the frame's last line). */
const hintsOf = (instance: Parameters<typeof frame>[0]) => frame(instance).trimEnd().split("\n").at(-1) ?? ""

/** A page that lists nothing hints (and acts on) none of the view's keys: no Tab, sort, filter, copy or policy step. */
const expectNoViewKeys = async (instance: Parameters<typeof frame>[0]) => {
  const line = hintsOf(instance)
  expect(line).toMatch(/: command {2}(esc back {2})?\? help {2}q quit/)
  for (const hint of ["Tab pane", "o sort", "/ filter", "y copy", "p policy", "Enter open"]) expect(line).not.toContain(hint)
  // And they do nothing: no filter prompt opens, no pane is switched to.
  await press(instance, "/", "x")
  expect(frame(instance)).not.toContain("Enter keep · Esc cancel")
  await press(instance, keys.tab, "o", "y")
  expect(frame(instance)).not.toContain("Identities")
  expect(frame(instance)).not.toContain("nothing to copy")
}

describe("explain without the extension", () => {
  it("against Adobe says it needs the local service, and calls nothing", async () => {
    // The local service with its inspector on, which the dashboard is told is Adobe: the inspector shows what was called.
    const adobe = await startService({ profiles: 5, kind: "adobe", service: { admin: true } })
    const { instance, cleanup } = await mount(adobe.runtime, { kind: "adobe", columns: 120, rows: 35, stack: stackOf(["explain", "Email", "jane.doe@example.com"]) })
    try {
      await waitFor(instance, "Explain needs the local profile service: Adobe's Profile API does not say which fragment each value came from")
      await expectNoViewKeys(instance)
      // Long enough for a call the view would have made right after learning the upstream.
      await new Promise((resolve) => setTimeout(resolve, 300))
      const seen = await adobe.run(Effect.flatMap(LocalExtensions, (admin) => admin.requests({ limit: 200 })))
      expect(seen.length).toBeGreaterThan(0)
      expect(seen.filter((request) => request.path.startsWith("/rtcp/explain"))).toEqual([])
    } finally {
      cleanup()
      await adobe.runtime.dispose()
    }
  })

  it("says the upstream lacks the extension when it answers 404", async () => {
    // An upstream with no rtcp extension: every path answers 404 with AEP's error body.
    const paths: Array<string> = []
    const server = createServer((request, response) => {
      paths.push(request.url ?? "")
      response.writeHead(404, { "content-type": "application/json" })
      response.end(JSON.stringify({ type: "http://ns.adobe.com/aep/errors/UPS-0404-404", status: 404, title: "Not found", detail: `no route for ${request.url}` }))
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const bare = withStaticToken(url, "a-token")
    const { instance, cleanup } = await mount(bare, { kind: "url", columns: 120, rows: 35, stack: stackOf(["explain", "Email", "jane.doe@example.com"]) })
    try {
      await waitFor(instance, "Explain needs the local profile service's explain extension (GET /rtcp/explain/profile); this upstream answered:")
      await expectNoViewKeys(instance)
      expect(paths.some((path) => path.startsWith("/rtcp/explain/profile?"))).toBe(true)
    } finally {
      cleanup()
      await bare.dispose()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe("explain under a policy the profile is not found under", () => {
  it("says so (not that the extension is missing), and p steps on", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 140, rows: 35, stack: stackOf(["explain", "Email", "jane.doe@example.com"]) })
    try {
      await waitFor(instance, "WON FROM DATASET", "person.name.firstName")
      // Under "No stitching" nothing joins Jane's Email to her profile: the extension answers "no data found".
      await press(instance, "p")
      await waitFor(instance, "not found under merge policy No stitching: no profile has Email:jane.doe@example.com when merged this way (p tries the next policy)")
      expect(frame(instance)).not.toContain("explain extension")
      const line = hintsOf(instance)
      expect(line).toContain("p policy")
      for (const hint of ["Tab pane", "o sort", "/ filter", "y copy"]) expect(line).not.toContain(hint)
      await press(instance, "p")
      await waitFor(instance, "WON FROM DATASET", "person.name.firstName")
    } finally {
      cleanup()
    }
  })
})

describe("requests", () => {
  it("lists the inspector's requests live and opens one in full", async () => {
    expect(inspects).toBe(true)
    const { instance, cleanup } = await mount(runtime, { columns: 140, rows: 35, refreshMs: 500 })
    try {
      await press(instance, "8")
      if (inspects) {
        await waitFor(instance, "Requests", "/data/core/ups/config/mergePolicies", "200")
        await press(instance, "/")
        await type(instance, "mergePolicies")
        await press(instance, keys.enter, keys.enter)
        await waitFor(instance, "Request headers", "Response body", "→ 200 in")
      } else {
        await waitFor(instance, "Requests needs the local profile service with its inspector on")
      }
    } finally {
      cleanup()
    }
  })
})

describe("requests without the inspector", () => {
  it("says it needs the local service with --admin", async () => {
    const plain = await startService({ profiles: 5 })
    const { instance, cleanup } = await mount(plain.runtime, { columns: 120, rows: 35 })
    try {
      await press(instance, "8")
      await waitFor(instance, "Requests needs the local profile service with its inspector on")
      await expectNoViewKeys(instance)
    } finally {
      cleanup()
      await plain.runtime.dispose()
    }
  })
})

const stackOf = (args: ReadonlyArray<string>) => {
  const opened = routeFromArgs(args)
  if ("error" in opened) throw new Error(opened.error)
  return opened.stack
}

describe("permalinks", () => {
  it("opens straight at a profile, and : shows the permalink of the screen", async () => {
    const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 35, stack: stackOf(["profiles", "Email", "jane.doe@example.com"]) })
    try {
      await waitFor(instance, "Profiles › Email:jane.doe@example.com", "person {")
      await press(instance, ":")
      await waitFor(instance, "permalink: npm start -- profiles Email jane.doe@example.com")
      await press(instance, keys.escape)
    } finally {
      cleanup()
    }
  })

  it("opens every other view the same way", async () => {
    for (const [args, expected] of [
      [["policies"], "Default Timebased"],
      [["jobs"], "System jobs"],
      [["messages"], "no message yet"],
      [["diff", "Email", "jane.doe@example.com"], "◀ Default Timebased"]
    ] as const) {
      const { instance, cleanup } = await mount(runtime, { columns: 120, rows: 35, stack: stackOf(args) })
      try {
        await waitFor(instance, expected)
      } finally {
        cleanup()
      }
    }
  })
})
