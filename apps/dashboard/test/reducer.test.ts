import { describe, expect, it } from "vitest"
import * as Forms from "../src/state/forms.js"
import {
  type AppAction,
  type AppState,
  cursorOf,
  filterOf,
  initialState,
  isModal,
  pane,
  reducer,
  route,
  sortOf
} from "../src/state/reducer.js"
import { policyForm } from "../src/views/MergePolicies.js"

const run = (state: AppState, ...actions: ReadonlyArray<AppAction>) => actions.reduce(reducer, state)
const typeText = (text: string): ReadonlyArray<AppAction> => [...text].map((char) => ({ type: "type", text: char }))
const start = initialState({ sandbox: "prod" })

describe("reducer: navigation", () => {
  it("starts on the overview in normal mode", () => {
    expect(start.mode).toBe("normal")
    expect(route(start)).toEqual({ view: "overview" })
  })

  it("drills down and comes back, keeping the list's cursor", () => {
    const s = run(start, { type: "goto", view: "policies" }, { type: "move", delta: 2, count: 5 }, {
      type: "push",
      route: { view: "policies", detail: { id: "p1", label: "One" } }
    })
    expect(s.stack).toHaveLength(2)
    expect(cursorOf(s)).toBe(0)
    const back = run(s, { type: "back" })
    expect(route(back)).toEqual({ view: "policies" })
    expect(cursorOf(back)).toBe(2)
  })

  it("clamps the cursor to the list", () => {
    const s = run(start, { type: "move", delta: 50, count: 10 })
    expect(cursorOf(s)).toBe(9)
    expect(cursorOf(run(s, { type: "move", delta: -100, count: 10 }))).toBe(0)
    expect(cursorOf(run(s, { type: "move", to: "top", count: 10 }))).toBe(0)
    expect(cursorOf(run(start, { type: "move", to: "bottom", count: 10_000 }))).toBe(9_999)
    expect(cursorOf(run(start, { type: "move", to: "bottom", count: 0 }))).toBe(0)
  })

  it("cycles panes of views that have them only", () => {
    const jobs = run(start, { type: "goto", view: "jobs" })
    expect(pane(run(jobs, { type: "pane", delta: 1 }))).toBe(1)
    expect(pane(run(jobs, { type: "pane", delta: 1 }, { type: "pane", delta: 1 }))).toBe(0)
    expect(pane(run(jobs, { type: "pane", delta: -1 }))).toBe(1)
    const policies = run(start, { type: "goto", view: "policies" }, { type: "pane", delta: 1 })
    expect(pane(policies)).toBe(0)
  })

  it("sorts by the next column, then reverses", () => {
    const s = run(start, { type: "goto", view: "policies" }, { type: "sort", columns: 3 })
    expect(sortOf(s)).toEqual({ column: 0, descending: false })
    const next = run(s, { type: "sort", columns: 3 }, { type: "sort", columns: 3 }, { type: "sort", columns: 3 })
    expect(sortOf(next)).toEqual({ column: 0, descending: false })
    expect(sortOf(run(s, { type: "sort", columns: 3, reverse: true }))).toEqual({ column: 0, descending: true })
  })
})

describe("reducer: filter mode", () => {
  it("filters as you type and keeps the filter with Enter", () => {
    const s = run(start, { type: "goto", view: "policies" }, { type: "filterOpen" }, ...typeText("time"))
    expect(s.mode).toBe("filter")
    expect(filterOf(s)).toBe("time")
    const kept = run(s, { type: "submit" })
    expect(kept.mode).toBe("normal")
    expect(filterOf(kept)).toBe("time")
  })

  it("reopens empty, so what is typed replaces the old filter, and goes back to it with Esc", () => {
    const s = run(start, { type: "filterOpen" }, ...typeText("city"), { type: "submit" }, { type: "filterOpen" }, ...typeText("gold"))
    expect(filterOf(s)).toBe("gold")
    expect(filterOf(run(s, { type: "cancel" }))).toBe("city")
  })

  it("survives refreshes and view switches", () => {
    const s = run(start, { type: "goto", view: "policies" }, { type: "filterOpen" }, ...typeText("pdg"), { type: "submit" })
    const away = run(s, { type: "refresh" }, { type: "goto", view: "jobs" })
    expect(filterOf(away)).toBe("")
    expect(filterOf(run(away, { type: "goto", view: "policies" }))).toBe("pdg")
  })

  it("edits with Backspace and Ctrl-U, and moves the cursor to the first match", () => {
    const s = run(start, { type: "move", delta: 3, count: 10 }, { type: "filterOpen" }, ...typeText("abc"), { type: "deleteChar" })
    expect(filterOf(s)).toBe("ab")
    expect(cursorOf(s)).toBe(0)
    expect(filterOf(run(s, { type: "clearLine" }))).toBe("")
  })

  it("clears the filter on Esc before going back", () => {
    const s = run(
      start,
      { type: "goto", view: "policies" },
      { type: "push", route: { view: "policies", detail: { id: "x", label: "x" } } },
      { type: "filterOpen" },
      ...typeText("name"),
      { type: "submit" }
    )
    const once = run(s, { type: "back" })
    expect(route(once).detail?.id).toBe("x")
    expect(filterOf(once)).toBe("")
    expect(route(run(once, { type: "back" }))).toEqual({ view: "policies" })
  })
})

describe("reducer: command mode", () => {
  it("runs a command with Enter and remembers it", () => {
    const s = run(start, { type: "commandOpen" }, ...typeText("jobs"), { type: "submit" })
    expect(s.mode).toBe("normal")
    expect(route(s).view).toBe("jobs")
    expect(s.command.history).toEqual(["jobs"])
  })

  it("switches sandbox and drops items of the old one", () => {
    const s = run(
      start,
      { type: "goto", view: "policies" },
      { type: "push", route: { view: "policies", detail: { id: "p", label: "p" } } },
      { type: "commandOpen" },
      ...typeText("sandbox dev"),
      { type: "submit" }
    )
    expect(s.sandbox).toBe("dev")
    expect(s.stack).toEqual([{ view: "policies" }])
    expect(s.sandboxes).toEqual(["prod", "dev"])
  })

  it("refuses a sandbox name the API would refuse", () => {
    const s = run(start, { type: "sandbox", name: "Dev Box" })
    expect(s.sandbox).toBe("prod")
    expect(s.status?.kind).toBe("error")
  })

  it("shows an unknown command as an error", () => {
    const s = run(start, { type: "commandOpen" }, ...typeText("nope"), { type: "submit" })
    expect(s.status).toMatchObject({ kind: "error", text: expect.stringContaining("unknown command :nope") })
  })

  it("completes with Tab", () => {
    const s = run(start, { type: "commandOpen" }, ...typeText("sand"), { type: "complete" }, ...typeText("dev"))
    expect(s.command.text).toBe("sandbox dev")
  })

  it("walks the history with the arrows", () => {
    const s = run(
      start,
      { type: "commandOpen" },
      ...typeText("jobs"),
      { type: "submit" },
      { type: "commandOpen" },
      ...typeText("mp"),
      { type: "submit" },
      { type: "commandOpen" },
      { type: "history", delta: -1 }
    )
    expect(s.command.text).toBe("mp")
    expect(run(s, { type: "history", delta: -1 }).command.text).toBe("jobs")
    expect(run(s, { type: "history", delta: 1 }).command.text).toBe("")
  })

  it("leaves command mode on Esc, and on Backspace when empty", () => {
    expect(run(start, { type: "commandOpen" }, ...typeText("x"), { type: "cancel" }).mode).toBe("normal")
    expect(run(start, { type: "commandOpen" }, { type: "deleteChar" }).mode).toBe("normal")
  })

  it("quits with :q", () => {
    expect(run(start, { type: "commandOpen" }, ...typeText("q"), { type: "submit" }).quit).toBe(true)
  })
})

describe("reducer: help mode", () => {
  it("opens, scrolls within bounds and closes", () => {
    const s = run(start, { type: "help" })
    expect(s.mode).toBe("help")
    expect(isModal(s.mode)).toBe(true)
    expect(run(s, { type: "helpScroll", delta: 5, max: 3 }).helpScroll).toBe(3)
    expect(run(s, { type: "helpScroll", delta: -5, max: 3 }).helpScroll).toBe(0)
    expect(run(s, { type: "closeModal" }).mode).toBe("normal")
  })
})

describe("reducer: confirm mode and read-only", () => {
  const deletion = { kind: "deletePolicy", id: "p1", name: "Old" } as const

  it("asks before a destructive intent and queues it on yes", () => {
    const asked = run(start, { type: "request", intent: deletion })
    expect(asked.mode).toBe("confirm")
    expect(asked.confirm?.message).toContain('Delete merge policy "Old"')
    expect(asked.queue).toEqual([])
    const yes = run(asked, { type: "accept" })
    expect(yes.mode).toBe("normal")
    expect(yes.queue).toEqual([{ id: 1, intent: deletion }])
  })

  it("does nothing on no", () => {
    const no = run(start, { type: "request", intent: deletion }, { type: "reject" })
    expect(no.mode).toBe("normal")
    expect(no.queue).toEqual([])
    expect(no.confirm).toBeUndefined()
  })

  it("queues a harmless write at once", () => {
    const input = Forms.toIntent(Forms.make("destination", "x", [Forms.text("dataCenters", "Data centers", "OR1")]))
    if ("error" in input) throw new Error(input.error)
    const s = run(start, { type: "request", intent: input })
    expect(s.mode).toBe("normal")
    expect(s.queue).toHaveLength(1)
  })

  it("refuses every write under --read-only, confirmed or not", () => {
    const ro = initialState({ sandbox: "prod", readOnly: true })
    const s = run(ro, { type: "request", intent: deletion })
    expect(s.mode).toBe("normal")
    expect(s.queue).toEqual([])
    expect(s.status).toMatchObject({ kind: "error", text: expect.stringContaining("read-only") })
    const form = run(ro, { type: "formOpen", form: policyForm(), write: true })
    expect(form.mode).toBe("normal")
    expect(form.status?.text).toContain("read-only")
  })

  it("turns read-only on with :readonly, even while a confirmation waits", () => {
    const s = run(start, { type: "request", intent: deletion }, { type: "readOnly" }, { type: "accept" })
    expect(s.queue).toEqual([])
    expect(s.status?.text).toContain("read-only")
  })

  it("still looks profiles up under --read-only", () => {
    const ro = initialState({ sandbox: "prod", readOnly: true })
    const s = run(ro, { type: "request", intent: { kind: "lookupProfile", namespace: "Email", id: "a@b.c" } })
    expect(s.stack).toEqual([{ view: "profiles" }, { view: "profiles", detail: { id: "Email:a@b.c", label: "Email:a@b.c" } }])
    expect(s.recents).toEqual([{ namespace: "Email", id: "a@b.c" }])
  })
})

describe("reducer: form mode", () => {
  it("edits fields, cycles choices and submits a create", () => {
    const s = run(
      start,
      { type: "goto", view: "policies" },
      { type: "formOpen", form: policyForm(), write: true },
      ...typeText("Loyalty first"),
      { type: "formField", delta: 1 },
      { type: "formChoice", delta: 1 },
      { type: "submit" }
    )
    expect(s.mode).toBe("normal")
    expect(s.queue).toHaveLength(1)
    expect(s.queue[0]!.intent).toMatchObject({
      kind: "createPolicy",
      input: { name: "Loyalty first", identityGraph: { type: "none" }, attributeMerge: { type: "timestampOrdered" } }
    })
  })

  it("keeps the form open with the reason when a field is missing", () => {
    const s = run(start, { type: "formOpen", form: policyForm(), write: true }, { type: "submit" })
    expect(s.mode).toBe("form")
    expect(s.form?.error).toBe("Name is required")
  })

  it("asks before a delete job the form describes", () => {
    const form = Forms.make("deleteJob", "x", [Forms.choice("dataset", "Dataset", [{ value: "ds1", label: "Web" }]), Forms.text("batchId", "Batch id")])
    const s = run(start, { type: "formOpen", form, write: true }, { type: "submit" })
    expect(s.mode).toBe("confirm")
    expect(s.confirm?.intent).toEqual({ kind: "createDeleteJob", datasetId: "ds1", datasetName: "Web" })
  })

  it("cancels with Esc", () => {
    const s = run(start, { type: "formOpen", form: policyForm(), write: true }, { type: "cancel" })
    expect(s.mode).toBe("normal")
    expect(s.form).toBeUndefined()
  })
})

describe("forms", () => {
  it("needs the dataset order for dataSetPrecedence", () => {
    const form = { ...policyForm(), fields: policyForm().fields.map((f) => (f.name === "name" ? { ...f, value: "x" } : f.name === "attributeMerge" ? { ...f, value: "dataSetPrecedence" } : f)) }
    expect(Forms.toIntent(form)).toEqual({ error: expect.stringContaining("dataset order") })
  })

  it("validates computed attribute names and lookbacks", () => {
    const base = Forms.make("attribute", "x", [
      Forms.text("name", "Name", "9lives"),
      Forms.text("expression", "PQL", "x"),
      Forms.text("lookback", "Lookback", "30"),
      Forms.choice("unit", "Unit", ["DAYS"]),
      Forms.choice("status", "Status", ["DRAFT"])
    ])
    expect(Forms.toIntent(base)).toEqual({ error: expect.stringContaining("Name must start with a letter") })
    const fixed = { ...base, fields: base.fields.map((f) => (f.name === "name" ? { ...f, value: "lives" } : f.name === "lookback" ? { ...f, value: "0" } : f)) }
    expect(Forms.toIntent(fixed)).toEqual({ error: "Lookback must be a whole number above 0" })
  })

  it("edits an existing merge policy with PUT", () => {
    const form = policyForm({
      id: "p1",
      name: "Old",
      schema: { name: "_xdm.context.profile" },
      version: 2,
      identityGraph: { type: "pdg" },
      attributeMerge: { type: "timestampOrdered" },
      default: false
    })
    expect(Forms.toIntent(form)).toMatchObject({ kind: "replacePolicy", id: "p1", input: { name: "Old" } })
  })
})

describe("reducer: profile merge policy", () => {
  const policies = [
    { id: "p1", name: "Default Timebased", default: true },
    { id: "p2", name: "No stitching" }
  ]
  const cycle: AppAction = { type: "cycleProfilePolicy", policies }

  it("steps from the default to each other policy and back, each press counting", () => {
    const once = run(start, cycle)
    expect(once.profilePolicy).toBe("p2")
    expect(once.status?.text).toBe("merged with No stitching")
    // Two presses dispatched before any render still land two steps on.
    const twice = run(start, cycle, cycle)
    expect(twice.profilePolicy).toBeUndefined()
    expect(twice.status?.text).toBe("merged with Default Timebased (default)")
  })

  it("with one policy says so instead of flipping between two names for it", () => {
    const s = run(start, { type: "cycleProfilePolicy", policies: [policies[0]!] })
    expect(s.profilePolicy).toBeUndefined()
    expect(s.status?.text).toBe("only one merge policy in this sandbox: Default Timebased (default)")
    expect(run(s, { type: "cycleProfilePolicy", policies: [policies[0]!] }).profilePolicy).toBeUndefined()
  })

  it("does nothing while the policies are not known yet", () => {
    expect(run(start, { ...cycle, policies: [] })).toBe(start)
  })
})

describe("reducer: purity", () => {
  it("gives the same state when run twice on one action (React may do that): no clock inside", async () => {
    const actions: ReadonlyArray<AppAction> = [
      { type: "sandbox", name: "dev" },
      { type: "readOnly" },
      { type: "request", intent: { kind: "deletePolicy", id: "p1", name: "One" } },
      { type: "cycleProfilePolicy", policies: [{ id: "a", name: "A", default: true }, { id: "b", name: "B" }] }
    ]
    for (const action of actions) {
      const first = reducer(start, action)
      await new Promise((resolve) => setTimeout(resolve, 3))
      expect(reducer(start, action)).toEqual(first)
    }
  })

  it("stamps a status with the time its action carries", () => {
    const s = reducer(start, { type: "sandbox", name: "dev", at: 1234 })
    expect(s.status).toMatchObject({ text: "sandbox dev", at: 1234 })
  })
})
