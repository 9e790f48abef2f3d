/**
 * Keys to actions: what a key (or a chunk of keys) means in the current
 * mode and view, as reducer actions. Pure apart from handing view actions
 * (`n`, `d`, Enter…) to the focused list, which answers them itself.
 */
import type { Key } from "ink"
import type { ViewHandle } from "./components/handle.js"
import { type Action, isTyping, type KeyEntry, offeredBy, resolve } from "./keymap.js"
import { cursorKey, route } from "./state/reducer.js"
import type { AppAction, AppState } from "./state/types.js"
import type { ViewId } from "./state/views.js"


/** An ink `Key` with nothing pressed but what `extra` says. */
export const plainKey = (extra: Partial<Key> = {}): Key => ({
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
  ...extra
})

/**
 * Several keys can arrive in one read (fast typing, a paste, tmux
 * `send-keys`): they are handled one by one, so `:q` followed by Enter in
 * one chunk still runs the command.
 */
export const splitChunk = (input: string, key: Key): ReadonlyArray<readonly [string, Key]> => {
  const chars = [...input]
  if (chars.length <= 1 || key.ctrl || key.meta || key.escape || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) {
    return [[input, key]]
  }
  return chars.map((char): readonly [string, Key] => {
    if (char === "\r" || char === "\n") return ["", plainKey({ return: true })]
    if (char === "\t") return ["", plainKey({ tab: true })]
    if (char === "\x7f" || char === "\b") return ["", plainKey({ backspace: true })]
    return [char, plainKey({ shift: char !== char.toLowerCase() })]
  })
}

const readOnlyVerbs: Partial<Record<string, string>> = {
  create: "create",
  edit: "edit",
  setDefault: "set default",
  delete: "delete",
  cancelJob: "cancel"
}

/** What needs no list on screen: these keys act through the reducer alone. */
const screenless: ReadonlyArray<Action> = ["quit", "help", "command", "filter", "back", "refresh", "goto", "messages", "nextPane", "prevPane"]

/**
 * Whether a key must wait for the screen to catch up: it acts through the
 * focused list's handle (moves, sort, copy, view actions) and the handle
 * registered is another list's (a pane or item switch by an earlier key,
 * not drawn yet). The reducer reads the state the previous key left; so,
 * with this, does every key.
 */
export const waitsForScreen = (state: AppState, input: string, key: Key, handle: ViewHandle | undefined): boolean => {
  if (state.mode !== "normal" || handle?.list === undefined || handle.list === cursorKey(state)) return false
  const r = route(state)
  const entry = resolve(state.mode, r.view, input, key, r.detail !== undefined)
  return entry !== undefined && !screenless.includes(entry.action)
}

export interface KeyContext {
  readonly handle: ViewHandle | undefined
  readonly helpMax: number
  /** The view's keys that act on the screen drawn (undefined: all; see `useOfferedKeys`). */
  readonly offered?: ReadonlyArray<Action> | undefined
}

/** The reducer actions a key means now; view actions are sent to the focused list instead. */
export const keyActions = (state: AppState, input: string, key: Key, context: KeyContext): ReadonlyArray<AppAction> => {
  const r = route(state)
  const view = r.view
  const entry: KeyEntry | undefined = resolve(state.mode, view, input, key, r.detail !== undefined)
  const handle = context.handle
  if (entry?.action === "quit") return [{ type: "quit" }]
  switch (state.mode) {
    case "normal": {
      if (!entry || !offeredBy(entry, context.offered)) return []
      const move = (m: { delta?: number; to?: "top" | "bottom" }): ReadonlyArray<AppAction> => [
        { type: "move", ...m, count: handle?.count ?? 0 }
      ]
      const page = Math.max(1, handle?.page ?? 10)
      switch (entry.action) {
        case "help":
          return [{ type: "help" }]
        case "command":
          return [{ type: "commandOpen" }]
        case "filter":
          return [{ type: "filterOpen" }]
        case "back":
          return [{ type: "back" }]
        case "refresh":
          return [{ type: "refresh" }]
        case "goto":
          return [{ type: "goto", view: entry.arg as ViewId }]
        case "messages":
          return view === "messages" ? [] : [{ type: "push", route: { view: "messages" } }]
        case "yank":
        case "yankAll": {
          const yanked = handle?.yank?.(entry.action === "yank" ? "cursor" : "all", state)
          if (!yanked) return [{ type: "status", status: { kind: "error", text: "nothing to copy here" } }]
          return [{ type: "copy", what: yanked.what, text: yanked.text }]
        }
        case "up":
          return move({ delta: -1 })
        case "down":
          return move({ delta: 1 })
        case "top":
          return move({ to: "top" })
        case "bottom":
          return move({ to: "bottom" })
        case "pageUp":
          return move({ delta: -page })
        case "pageDown":
          return move({ delta: page })
        case "nextPane":
          return [{ type: "pane", delta: 1 }]
        case "prevPane":
          return [{ type: "pane", delta: -1 }]
        case "sortNext":
          return [{ type: "sort", columns: handle?.columns ?? 0 }]
        case "sortReverse":
          return [{ type: "sort", columns: handle?.columns ?? 0, reverse: true }]
        default: {
          if (entry.write && state.readOnly) {
            const verb = readOnlyVerbs[entry.action] ?? entry.action
            return [{ type: "status", status: { kind: "error", text: `read-only: ${verb} is disabled` } }]
          }
          handle?.onAction?.(entry.action, state)
          return []
        }
      }
    }
    case "filter":
    case "command":
      switch (entry?.action) {
        case "submit":
          return [{ type: "submit" }]
        case "cancel":
          return [{ type: "cancel" }]
        case "complete":
          return [{ type: "complete" }]
        case "historyUp":
          return [{ type: "history", delta: -1 }]
        case "historyDown":
          return [{ type: "history", delta: 1 }]
        case "deleteChar":
          return [{ type: "deleteChar" }]
        case "clearLine":
          return [{ type: "clearLine" }]
        default:
          return isTyping(input, key) ? [{ type: "type", text: input }] : []
      }
    case "form":
      switch (entry?.action) {
        case "submit":
          return [{ type: "submit" }]
        case "cancel":
          return [{ type: "cancel" }]
        case "nextField":
          return [{ type: "formField", delta: 1 }]
        case "prevField":
          return [{ type: "formField", delta: -1 }]
        case "nextChoice":
          return [{ type: "formChoice", delta: 1 }]
        case "prevChoice":
          return [{ type: "formChoice", delta: -1 }]
        case "deleteChar":
          return [{ type: "deleteChar" }]
        case "clearLine":
          return [{ type: "clearLine" }]
        default:
          return isTyping(input, key) ? [{ type: "type", text: input }] : []
      }
    case "help":
      switch (entry?.action) {
        case "close":
          return [{ type: "closeModal" }]
        case "up":
          return [{ type: "helpScroll", delta: -1, max: context.helpMax }]
        case "down":
          return [{ type: "helpScroll", delta: 1, max: context.helpMax }]
        case "pageUp":
          return [{ type: "helpScroll", delta: -10, max: context.helpMax }]
        case "pageDown":
          return [{ type: "helpScroll", delta: 10, max: context.helpMax }]
        case "top":
          return [{ type: "helpScroll", to: "top", max: context.helpMax }]
        case "bottom":
          return [{ type: "helpScroll", to: "bottom", max: context.helpMax }]
        default:
          return []
      }
    case "confirm":
      switch (entry?.action) {
        case "accept":
          return [{ type: "accept" }]
        case "reject":
          return [{ type: "reject" }]
        default:
          return []
      }
  }
}

