import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { helpSections, isTyping, keymap, label, markdown, type Mode, resolve } from "../src/keymap.js"
import { plainKey } from "../src/input.js"
import { viewIds } from "../src/state/views.js"

const key = plainKey

const modes: ReadonlyArray<Mode> = ["normal", "filter", "command", "help", "confirm", "form"]

describe("keymap", () => {
  it("gives no key two meanings in one mode and view", () => {
    for (const mode of modes) {
      for (const view of viewIds) {
        const seen = new Map<string, string>()
        for (const entry of keymap.filter((e) => e.modes.includes(mode) && (e.views === undefined || e.views.includes(view)))) {
          for (const binding of entry.keys) {
            const id = label(binding)
            const other = seen.get(id)
            expect(other === undefined || other === entry.action, `${mode}/${view}: ${id} is both ${other} and ${entry.action}`).toBe(true)
            seen.set(id, entry.action)
          }
        }
      }
    }
  })

  it("moves with arrows and vi keys, pages with PgUp/PgDn", () => {
    expect(resolve("normal", "policies", "j", key())?.action).toBe("down")
    expect(resolve("normal", "policies", "", key({ downArrow: true }))?.action).toBe("down")
    expect(resolve("normal", "policies", "k", key())?.action).toBe("up")
    expect(resolve("normal", "policies", "g", key())?.action).toBe("top")
    expect(resolve("normal", "policies", "G", key({ shift: true }))?.action).toBe("bottom")
    expect(resolve("normal", "policies", "", key({ pageDown: true }))?.action).toBe("pageDown")
    expect(resolve("normal", "policies", "", key({ pageUp: true }))?.action).toBe("pageUp")
  })

  it("opens the modes with :, / and ?", () => {
    expect(resolve("normal", "overview", ":", key())?.action).toBe("command")
    expect(resolve("normal", "policies", "/", key())?.action).toBe("filter")
    expect(resolve("normal", "overview", "?", key())?.action).toBe("help")
  })

  it("quits with q in normal mode and Ctrl-C everywhere, but q is text in prompts", () => {
    expect(resolve("normal", "jobs", "q", key())?.action).toBe("quit")
    for (const mode of modes) expect(resolve(mode, "jobs", "c", key({ ctrl: true }))?.action).toBe("quit")
    expect(resolve("command", "jobs", "q", key())).toBeUndefined()
    expect(resolve("filter", "jobs", "q", key())).toBeUndefined()
  })

  it("keeps view actions to their views", () => {
    expect(resolve("normal", "policies", "*", key())?.action).toBe("setDefault")
    expect(resolve("normal", "jobs", "*", key())).toBeUndefined()
    expect(resolve("normal", "jobs", "x", key())?.action).toBe("cancelJob")
    expect(resolve("normal", "overview", "d", key())).toBeUndefined()
    expect(resolve("normal", "profiles", "p", key())?.action).toBe("cyclePolicy")
  })

  it("marks every upstream write, so read-only can refuse them", () => {
    const writes = keymap.filter((entry) => entry.write).map((entry) => entry.action)
    expect(new Set(writes)).toEqual(new Set(["create", "edit", "setDefault", "delete", "cancelJob"]))
  })

  it("answers y/n in a confirmation and nothing else", () => {
    expect(resolve("confirm", "policies", "y", key())?.action).toBe("accept")
    expect(resolve("confirm", "policies", "n", key())?.action).toBe("reject")
    expect(resolve("confirm", "policies", "", key({ escape: true }))?.action).toBe("reject")
    expect(resolve("confirm", "policies", "d", key())).toBeUndefined()
  })

  it("tells typing from control keys", () => {
    expect(isTyping("a", key())).toBe(true)
    expect(isTyping("é", key())).toBe(true)
    expect(isTyping("", key({ return: true }))).toBe(false)
    expect(isTyping("u", key({ ctrl: true }))).toBe(false)
    expect(isTyping("\u001b", key({ escape: true }))).toBe(false)
  })

  it("generates the help of a view from the same table", () => {
    const policies = helpSections("policies").flatMap((section) => section.rows.map((row) => row.description))
    expect(policies).toContain("Make it the default merge policy")
    const overview = helpSections("overview").flatMap((section) => section.rows.map((row) => row.description))
    expect(overview).not.toContain("Make it the default merge policy")
    expect(policies).toContain("Filter the list (kept across refreshes and view switches; starts empty, Esc restores)")
  })

  it("offers on the Overview (a page of charts) no key that does nothing there: no open, sort, filter or copy", () => {
    for (const input of ["/", "o", "O", "y", "Y"]) expect(resolve("normal", "overview", input, key())).toBeUndefined()
    expect(resolve("normal", "overview", "", key({ return: true }))).toBeUndefined()
    const overview = helpSections("overview").flatMap((section) => section.rows.map((row) => row.description))
    expect(overview.some((d) => d.startsWith("Filter the list"))).toBe(false)
    expect(overview.some((d) => d.startsWith("Sort by"))).toBe(false)
  })

  it("keeps p to an opened profile: on the list of profiles it acts on nothing", () => {
    expect(resolve("normal", "profiles", "p", key(), false)).toBeUndefined()
    expect(resolve("normal", "profiles", "p", key(), true)?.action).toBe("cyclePolicy")
  })

  it("is the key list of the README", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    const block = readme.split("<!-- keys:start -->")[1]?.split("<!-- keys:end -->")[0]?.trim()
    expect(block, "README.md: run `npm run keys -w @rtcp/dashboard` and paste between the markers").toBe(markdown().trim())
  })
})
