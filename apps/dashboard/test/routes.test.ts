import { describe, expect, it } from "vitest"
import { execute } from "../src/commands/registry.js"
import { initialState, reducer } from "../src/state/reducer.js"
import { permalink, routeArgs, routeFromArgs } from "../src/state/routes.js"
import type { Route } from "../src/state/types.js"

const routes: ReadonlyArray<Route> = [
  { view: "overview" },
  { view: "profiles" },
  { view: "profiles", detail: { id: "Email:jane.doe@example.com", label: "Email:jane.doe@example.com" } },
  { view: "policies", detail: { id: "b1c2", label: "b1c2" } },
  { view: "jobs", detail: { id: "system:42ab", label: "system 42ab" } },
  { view: "jobs", detail: { id: "export:7", label: "export 7" } },
  { view: "attributes", detail: { id: "ca1", label: "ca1" } },
  { view: "edge", detail: { id: "destination:d-1", label: "destination d-1" } },
  { view: "edge", detail: { id: "projection:p-1", label: "projection p-1" } },
  { view: "messages" },
  { view: "requests", detail: { id: "12", label: "12" } },
  { view: "explain", detail: { id: "CRMID:crm-0000000", label: "explain CRMID:crm-0000000" } },
  { view: "diff", detail: { id: "Email:jane.doe@example.com", label: "diff Email:jane.doe@example.com" } }
]

describe("permalinks", () => {
  it("opens every view and item again from its words", () => {
    for (const route of routes) {
      const opened = routeFromArgs(routeArgs(route))
      expect("stack" in opened && opened.stack.at(-1)!.view).toBe(route.view)
      if ("stack" in opened) expect(opened.stack.at(-1)!.detail?.id).toBe(route.detail?.id)
    }
  })

  it("reads like a command line, with the sandbox when it is not prod", () => {
    expect(permalink(routes[2]!, "prod")).toBe("npm start -- profiles Email jane.doe@example.com")
    expect(permalink({ view: "profiles", detail: { id: "Email:a b", label: "" } }, "dev")).toBe("npm start -- --sandbox dev profiles Email 'a b'")
    expect(permalink({ view: "jobs" }, "prod")).toBe("npm start -- jobs")
  })

  it("says what to type when the words are wrong", () => {
    expect(routeFromArgs(["nope"])).toEqual({ error: expect.stringContaining('"nope" is not a view') })
    expect(routeFromArgs(["profiles", "Email"])).toEqual({ error: expect.stringContaining("profiles Email jane.doe@example.com") })
    expect(routeFromArgs(["jobs", "batch", "1"])).toEqual({ error: expect.stringContaining("system or export") })
  })

  it(":link copies the permalink of the screen", () => {
    const state = initialState({ sandbox: "prod", stack: [routes[1]!, routes[2]!] })
    const result = execute("link", state)
    expect("actions" in result && result.actions).toEqual([{ type: "copy", what: "the permalink", text: "npm start -- profiles Email jane.doe@example.com" }])
    const after = reducer(state, { type: "batch", actions: "actions" in result ? result.actions : [] })
    expect(after.copy).toMatchObject({ text: "npm start -- profiles Email jane.doe@example.com" })
  })
})
