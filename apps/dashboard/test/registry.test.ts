import { describe, expect, it } from "vitest"
import { canExecute, commands, complete, execute, find, parse, suggestion } from "../src/commands/registry.js"
import { initialState, reducer } from "../src/state/reducer.js"
import { views } from "../src/state/views.js"

const state = initialState({ sandbox: "prod" })

describe("command registry", () => {
  it("has a command for every view, reachable by id and by every alias", () => {
    for (const view of views) {
      expect(find(view.id)?.id).toBe(view.id)
      for (const alias of view.aliases) expect(find(alias)?.id).toBe(view.id)
    }
  })

  it("never gives one name to two commands", () => {
    const names = commands.flatMap((command) => [command.id, ...command.aliases].map((name) => name.toLowerCase()))
    expect(new Set(names).size).toBe(names.length)
  })

  it("resolves names case-insensitively", () => {
    expect(find("MP")?.id).toBe("policies")
    expect(find("Sandbox")?.id).toBe("sandbox")
  })

  it("parses a command line with or without the colon", () => {
    expect(parse(":sandbox  dev ")).toEqual({ name: "sandbox", args: ["dev"] })
    expect(parse("profiles Email jane@example.com")).toEqual({ name: "profiles", args: ["Email", "jane@example.com"] })
    expect(parse("")).toEqual({ name: "", args: [] })
  })

  it("turns a view command into a goto", () => {
    expect(execute("mp", state)).toEqual({ actions: [{ type: "goto", view: "policies" }] })
    expect(execute("jobs", state)).toEqual({ actions: [{ type: "goto", view: "jobs" }] })
  })

  it("switches sandbox with :sandbox NAME and explains the usage without one", () => {
    expect(execute("sandbox dev", state)).toEqual({ actions: [{ type: "sandbox", name: "dev" }] })
    expect(execute("sandbox", state)).toEqual({ error: expect.stringContaining("usage: :sandbox") })
  })

  it("looks a profile up with :profiles NAMESPACE ID", () => {
    expect(execute("profiles Email jane.doe@example.com", state)).toEqual({
      actions: [{ type: "request", intent: { kind: "lookupProfile", namespace: "Email", id: "jane.doe@example.com" } }]
    })
    expect(execute("profiles Email", state)).toEqual({ error: expect.stringContaining("usage") })
  })

  it("refuses unknown commands and arguments a view command does not take", () => {
    expect(execute("frobnicate", state)).toEqual({ error: expect.stringContaining("unknown command :frobnicate") })
    expect(execute("overview now", state)).toEqual({ error: expect.stringContaining("takes no argument") })
  })

  it("checks canExecute before running", () => {
    const readonly = find("readonly")!
    expect(canExecute(readonly, state)).toBe(true)
    const ro = initialState({ sandbox: "prod", readOnly: true })
    expect(canExecute(readonly, ro)).toBe("already read-only")
    expect(execute("ro", ro)).toEqual({ error: ":readonly: already read-only" })
  })

  it("completes a unique command name, with a space when an argument follows", () => {
    expect(complete("sand", state)).toEqual({ text: "sandbox ", candidates: [] })
    expect(complete("ove", state)).toEqual({ text: "overview", candidates: [] })
  })

  it("completes aliases of one command to that command", () => {
    // "merge" and "mergepolicies" are both aliases of policies.
    expect(complete("merge", state)).toEqual({ text: "policies", candidates: [] })
  })

  it("lists the candidates when several commands match", () => {
    const result = complete("p", state)
    expect(result.candidates).toEqual(expect.arrayContaining(["policies", "profiles", "projections"]))
    expect(result.text).toBe("p")
  })

  it("completes the sandbox argument from the sandboxes seen", () => {
    const seen = reducer(reducer(state, { type: "sandbox", name: "dev" }), { type: "sandbox", name: "prod" })
    expect(complete("sandbox d", seen)).toEqual({ text: "sandbox dev", candidates: [] })
    expect(complete("sandbox ", seen).candidates).toEqual(["prod", "dev"])
  })

  it("offers the rest of the single candidate as a suggestion", () => {
    expect(suggestion("polic", state)).toBe("ies")
    expect(suggestion("p", state)).toBe("")
    expect(suggestion("", state)).toBe("")
  })

  it("hides commands that cannot run from completion", () => {
    const ro = initialState({ sandbox: "prod", readOnly: true })
    expect(complete("read", ro)).toEqual({ text: "read", candidates: [] })
    expect(complete("read", state)).toEqual({ text: "readonly", candidates: [] })
  })
})
