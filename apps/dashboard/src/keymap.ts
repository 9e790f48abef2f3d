/**
 * The one keymap: every key the dashboard reacts to, in every mode. The
 * input handler resolves keys through it, the `?` overlay is generated from
 * it, and so is the key list in the README (a test keeps that in sync).
 * A binding that is not in this table does not exist.
 */
import type { Key } from "ink"
import type { ViewId } from "./state/views.js"
import { views } from "./state/views.js"

export type Mode = "normal" | "filter" | "command" | "help" | "confirm" | "form"

export type Action =
  // global
  | "quit"
  | "help"
  | "command"
  | "filter"
  | "back"
  | "refresh"
  | "goto"
  // navigation
  | "up"
  | "down"
  | "top"
  | "bottom"
  | "pageUp"
  | "pageDown"
  | "nextPane"
  | "prevPane"
  | "open"
  | "expand"
  | "collapse"
  | "sortNext"
  | "sortReverse"
  // view actions
  | "create"
  | "edit"
  | "delete"
  | "setDefault"
  | "cancelJob"
  | "lookup"
  | "cyclePolicy"
  | "cycleLeftPolicy"
  | "diff"
  | "explain"
  | "yank"
  | "yankAll"
  | "messages"
  // prompts and forms
  | "submit"
  | "cancel"
  | "complete"
  | "historyUp"
  | "historyDown"
  | "deleteChar"
  | "clearLine"
  | "nextField"
  | "prevField"
  | "nextChoice"
  | "prevChoice"
  // modals
  | "close"
  | "accept"
  | "reject"

export type SpecialKey =
  | "up"
  | "down"
  | "left"
  | "right"
  | "pageUp"
  | "pageDown"
  | "home"
  | "end"
  | "return"
  | "escape"
  | "tab"
  | "backspace"

export interface KeyBinding {
  /** A printable key (`j`, `G`, `?`, ` `). */
  readonly key?: string
  readonly name?: SpecialKey
  readonly ctrl?: boolean
  readonly shift?: boolean
}

export type Group = "Global" | "Views" | "Navigation" | "Actions" | "Filter and command line" | "Help" | "Confirmation" | "Forms"

export interface KeyEntry {
  readonly action: Action
  /** For `goto`: the view. */
  readonly arg?: string
  readonly keys: ReadonlyArray<KeyBinding>
  readonly description: string
  readonly modes: ReadonlyArray<Mode>
  /** Only in these views (normal mode); every view when absent. */
  readonly views?: ReadonlyArray<ViewId>
  /** Of `views`, those where the key acts only on an opened item (a profile), not on the list. */
  readonly detailOnly?: ReadonlyArray<ViewId>
  /** Changes the upstream: refused under `--read-only`. */
  readonly write?: boolean
  readonly group: Group
}

const k = (key: string, extra: Omit<KeyBinding, "key"> = {}): KeyBinding => ({ key, ...extra })
const n = (name: SpecialKey, extra: Omit<KeyBinding, "name"> = {}): KeyBinding => ({ name, ...extra })
const ctrl = (key: string): KeyBinding => ({ key, ctrl: true })

const prompt: ReadonlyArray<Mode> = ["filter", "command"]

/** Views that show a list or a tree: the Overview is a page of charts (no rows to open, sort, filter or copy). */
const listViews: ReadonlyArray<ViewId> = views.filter((view) => view.id !== "overview").map((view) => view.id)

export const keymap: ReadonlyArray<KeyEntry> = [
  // -- global ---------------------------------------------------------------
  { action: "quit", keys: [k("q"), ctrl("c")], description: "Quit", modes: ["normal"], group: "Global" },
  { action: "quit", keys: [ctrl("c")], description: "Quit", modes: ["filter", "command", "help", "confirm", "form"], group: "Global" },
  { action: "help", keys: [k("?")], description: "Help (this list)", modes: ["normal"], group: "Global" },
  { action: "command", keys: [k(":")], description: "Command line: jump to a view, :sandbox NAME, :q", modes: ["normal"], group: "Global" },
  { action: "filter", keys: [k("/")], description: "Filter the list (kept across refreshes and view switches; starts empty, Esc restores)", modes: ["normal"], views: listViews, group: "Global" },
  { action: "messages", keys: [k("m")], description: "Messages: every status line and error of the session in full, newest first", modes: ["normal"], group: "Global" },
  { action: "yank", keys: [k("y")], description: "Copy the value or row under the cursor (OSC 52 clipboard, else a file the status line names)", modes: ["normal"], views: listViews, group: "Global" },
  { action: "yankAll", keys: [k("Y")], description: "Copy the whole view: the profile as JSON, or every row of the list", modes: ["normal"], views: listViews, group: "Global" },
  { action: "back", keys: [n("escape")], description: "Back (clears the filter first)", modes: ["normal"], group: "Global" },
  { action: "refresh", keys: [k("r"), ctrl("r")], description: "Refresh now", modes: ["normal"], group: "Global" },
  ...views.filter((view) => view.key !== undefined).map(
    (view): KeyEntry => ({
      action: "goto",
      arg: view.id,
      keys: [k(view.key!)],
      description: view.title,
      modes: ["normal"],
      group: "Views"
    })
  ),
  // -- navigation -----------------------------------------------------------
  { action: "up", keys: [n("up"), k("k")], description: "Up", modes: ["normal", "help"], group: "Navigation" },
  { action: "down", keys: [n("down"), k("j")], description: "Down", modes: ["normal", "help"], group: "Navigation" },
  { action: "top", keys: [k("g"), n("home")], description: "First row", modes: ["normal", "help"], group: "Navigation" },
  { action: "bottom", keys: [k("G"), n("end")], description: "Last row", modes: ["normal", "help"], group: "Navigation" },
  { action: "pageUp", keys: [n("pageUp"), ctrl("b")], description: "Page up", modes: ["normal", "help"], group: "Navigation" },
  { action: "pageDown", keys: [n("pageDown"), ctrl("f")], description: "Page down", modes: ["normal", "help"], group: "Navigation" },
  { action: "nextPane", keys: [n("tab")], description: "Next pane or tab", modes: ["normal"], group: "Navigation" },
  { action: "prevPane", keys: [n("tab", { shift: true })], description: "Previous pane or tab", modes: ["normal"], group: "Navigation" },
  { action: "open", keys: [n("return")], description: "Open (drill down); in a tree, fold or unfold", modes: ["normal"], views: listViews, group: "Navigation" },
  { action: "expand", keys: [n("right"), k("l"), k(" ")], description: "Unfold a tree node", modes: ["normal"], group: "Navigation" },
  { action: "collapse", keys: [n("left"), k("h")], description: "Fold a tree node (or go to its parent)", modes: ["normal"], group: "Navigation" },
  { action: "sortNext", keys: [k("o")], description: "Sort by the next column", modes: ["normal"], views: listViews, group: "Navigation" },
  { action: "sortReverse", keys: [k("O")], description: "Reverse the sort order", modes: ["normal"], views: listViews, group: "Navigation" },
  // -- view actions ---------------------------------------------------------
  { action: "lookup", keys: [k("i")], description: "Look up a profile by namespace and id", modes: ["normal"], views: ["profiles"], group: "Actions" },
  { action: "cyclePolicy", keys: [k("p")], description: "Merge the profile with the next merge policy (in a diff: the right-hand one)", modes: ["normal"], views: ["profiles", "diff", "explain"], detailOnly: ["profiles", "diff", "explain"], group: "Actions" },
  { action: "cycleLeftPolicy", keys: [k("P")], description: "Step the left-hand merge policy of the diff", modes: ["normal"], views: ["diff"], detailOnly: ["diff"], group: "Actions" },
  { action: "diff", keys: [k("D")], description: "Diff the profile under two merge policies, side by side", modes: ["normal"], views: ["profiles"], detailOnly: ["profiles"], group: "Actions" },
  { action: "explain", keys: [k("E")], description: "Explain the profile: the fragment each value came from, what it beat, how identities joined", modes: ["normal"], views: ["profiles"], detailOnly: ["profiles"], group: "Actions" },
  { action: "create", keys: [k("n")], description: "New (create; on Jobs a delete job or an export job, by pane)", modes: ["normal"], views: ["policies", "jobs", "attributes", "edge"], write: true, group: "Actions" },
  { action: "edit", keys: [k("e")], description: "Edit", modes: ["normal"], views: ["policies"], write: true, group: "Actions" },
  { action: "setDefault", keys: [k("*")], description: "Make it the default merge policy", modes: ["normal"], views: ["policies"], write: true, group: "Actions" },
  { action: "delete", keys: [k("d")], description: "Delete (asks first; on a profile, the profile)", modes: ["normal"], views: ["policies", "jobs", "attributes", "edge", "profiles"], detailOnly: ["profiles"], write: true, group: "Actions" },
  { action: "cancelJob", keys: [k("x")], description: "Cancel the export job (asks first)", modes: ["normal"], views: ["jobs"], write: true, group: "Actions" },
  // -- prompts --------------------------------------------------------------
  { action: "submit", keys: [n("return")], description: "Run the command / keep the filter", modes: prompt, group: "Filter and command line" },
  { action: "cancel", keys: [n("escape")], description: "Cancel (the filter goes back to what it was)", modes: prompt, group: "Filter and command line" },
  { action: "complete", keys: [n("tab")], description: "Complete the command or its argument", modes: ["command"], group: "Filter and command line" },
  { action: "historyUp", keys: [n("up")], description: "Previous command", modes: ["command"], group: "Filter and command line" },
  { action: "historyDown", keys: [n("down")], description: "Next command", modes: ["command"], group: "Filter and command line" },
  { action: "deleteChar", keys: [n("backspace")], description: "Delete a character", modes: [...prompt, "form"], group: "Filter and command line" },
  { action: "clearLine", keys: [ctrl("u")], description: "Clear the line", modes: [...prompt, "form"], group: "Filter and command line" },
  // -- modals ---------------------------------------------------------------
  { action: "close", keys: [n("escape"), k("?"), k("q")], description: "Close help", modes: ["help"], group: "Help" },
  { action: "accept", keys: [k("y"), k("Y")], description: "Yes, do it", modes: ["confirm"], group: "Confirmation" },
  { action: "reject", keys: [k("n"), k("N"), n("escape")], description: "No, keep things as they are", modes: ["confirm"], group: "Confirmation" },
  { action: "submit", keys: [n("return")], description: "Submit the form", modes: ["form"], group: "Forms" },
  { action: "cancel", keys: [n("escape")], description: "Cancel", modes: ["form"], group: "Forms" },
  { action: "nextField", keys: [n("tab"), n("down")], description: "Next field", modes: ["form"], group: "Forms" },
  { action: "prevField", keys: [n("tab", { shift: true }), n("up")], description: "Previous field", modes: ["form"], group: "Forms" },
  { action: "nextChoice", keys: [n("right")], description: "Next choice", modes: ["form"], group: "Forms" },
  { action: "prevChoice", keys: [n("left")], description: "Previous choice", modes: ["form"], group: "Forms" }
]

// ---------------------------------------------------------------------------
// matching
// ---------------------------------------------------------------------------

const specialOf = (key: Key): SpecialKey | undefined => {
  if (key.upArrow) return "up"
  if (key.downArrow) return "down"
  if (key.leftArrow) return "left"
  if (key.rightArrow) return "right"
  if (key.pageUp) return "pageUp"
  if (key.pageDown) return "pageDown"
  if (key.home) return "home"
  if (key.end) return "end"
  if (key.return) return "return"
  if (key.escape) return "escape"
  if (key.tab) return "tab"
  // Terminals send DEL (0x7f) for Backspace; Ink reports it as `delete`.
  if (key.backspace || key.delete) return "backspace"
  return undefined
}

export const matches = (binding: KeyBinding, input: string, key: Key): boolean => {
  const special = specialOf(key)
  if (binding.name !== undefined) {
    return special === binding.name && (binding.shift ?? false) === key.shift && (binding.ctrl ?? false) === key.ctrl
  }
  if (special !== undefined) return false
  if ((binding.ctrl ?? false) !== key.ctrl) return false
  return input === binding.key
}

/** The app's own keys: they act on every screen, whatever the view offers. */
const appActions: ReadonlyArray<Action> = ["quit", "help", "command", "back", "refresh", "goto", "messages"]

/** Whether a normal-mode entry acts on a screen that offers only `offered` of the view's keys (undefined: all). */
export const offeredBy = (entry: KeyEntry, offered: ReadonlyArray<Action> | undefined): boolean =>
  offered === undefined || appActions.includes(entry.action) || offered.includes(entry.action)

/** Whether an entry acts in this view, on its list (`detail` false) or on an opened item. */
export const actsIn = (entry: KeyEntry, view: ViewId, detail: boolean): boolean =>
  (entry.views === undefined || entry.views.includes(view)) && (detail || !(entry.detailOnly ?? []).includes(view))

/** The entry a key means in this mode and view, if any (`detail`: an item is open). */
export const resolve = (mode: Mode, view: ViewId, input: string, key: Key, detail = true): KeyEntry | undefined =>
  keymap.find(
    (entry) =>
      entry.modes.includes(mode) &&
      (mode !== "normal" || actsIn(entry, view, detail)) &&
      entry.keys.some((binding) => matches(binding, input, key))
  )

/** Printable text for typing into prompts and forms: no control keys. */
export const isTyping = (input: string, key: Key): boolean =>
  input.length > 0 && !key.ctrl && !key.meta && specialOf(key) === undefined && !/[\u0000-\u001f\u007f]/.test(input)

// ---------------------------------------------------------------------------
// presentation (help overlay and README)
// ---------------------------------------------------------------------------

const specialLabels: Record<SpecialKey, string> = {
  up: "↑",
  down: "↓",
  left: "←",
  right: "→",
  pageUp: "PgUp",
  pageDown: "PgDn",
  home: "Home",
  end: "End",
  return: "Enter",
  escape: "Esc",
  tab: "Tab",
  backspace: "Backspace"
}

export const label = (binding: KeyBinding): string => {
  const base = binding.name !== undefined ? specialLabels[binding.name] : binding.key === " " ? "Space" : binding.key!
  return binding.ctrl ? `Ctrl-${base.toUpperCase()}` : `${binding.shift ? "Shift-" : ""}${base}`
}

export const labels = (entry: KeyEntry): string => entry.keys.map(label).join(" ")

export interface HelpSection {
  readonly title: Group
  readonly rows: ReadonlyArray<{ readonly keys: string; readonly description: string; readonly write: boolean }>
}

const groupOrder: ReadonlyArray<Group> = [
  "Actions",
  "Global",
  "Views",
  "Navigation",
  "Filter and command line",
  "Forms",
  "Confirmation",
  "Help"
]

/**
 * The help sections: every group, with the actions of `view` only when one
 * is given (the `?` overlay), or of every view (the README).
 */
export const helpSections = (view?: ViewId): ReadonlyArray<HelpSection> =>
  groupOrder
    .map((title) => {
      const seen = new Set<string>()
      const rows = keymap
        .filter((entry) => entry.group === title)
        .filter((entry) => view === undefined || entry.views === undefined || entry.views.includes(view))
        .filter((entry) => {
          // The Ctrl-C "quit" of the other modes repeats the normal one.
          const id = `${entry.action}:${entry.arg ?? ""}:${entry.group}`
          if (seen.has(id)) return false
          seen.add(id)
          return true
        })
        .map((entry) => ({
          keys: labels(entry),
          description:
            view === undefined && entry.views !== undefined
              ? `${entry.description} (${entry.views.map((id) => views.find((v) => v.id === id)!.title).join(", ")})`
              : entry.description,
          write: entry.write === true
        }))
      return { title, rows }
    })
    .filter((section) => section.rows.length > 0)

/** The README's key list, generated from the keymap. */
export const markdown = (): string =>
  helpSections()
    .map(
      (section) =>
        `**${section.title}**\n\n| keys | action |\n|---|---|\n` +
        section.rows
          .map((row) => `| ${row.keys.split(" ").map((key) => `\`${key}\``).join(" ")} | ${row.description.replaceAll("|", "\\|")}${row.write ? " *(not in `--read-only`)*" : ""} |`)
          .join("\n")
    )
    .join("\n\n")
