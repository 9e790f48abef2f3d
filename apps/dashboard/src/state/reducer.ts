/**
 * The dashboard's state and its one reducer. Modes are explicit
 * (`normal | filter | command | help | confirm | form`); every key press
 * becomes one of these actions, so navigation, filtering, the command line,
 * confirmations and the read-only rule are all tested without rendering.
 */
import { execute, complete } from "../commands/registry.js"
import type { Mode } from "../keymap.js"
import * as Forms from "./forms.js"
import { describe, type Intent, isDestructive, isWrite } from "./intents.js"
import { type ViewId, viewSpec } from "./views.js"

export type { Mode } from "../keymap.js"

export interface Route {
  readonly view: ViewId
  /** A drilled-down item: its id and the label the breadcrumbs show. */
  readonly detail?: { readonly id: string; readonly label: string } | undefined
}

export interface StatusMessage {
  readonly kind: "info" | "error" | "busy"
  readonly text: string
  readonly at: number
  /** Which query or operation set it (so its next success can clear it). */
  readonly source?: string | undefined
}

export interface Sort {
  readonly column: number
  readonly descending: boolean
}

export interface Identity {
  readonly namespace: string
  readonly id: string
}

export interface AppState {
  readonly mode: Mode
  readonly readOnly: boolean
  /** Breadcrumbs: the last route is on screen. */
  readonly stack: ReadonlyArray<Route>
  readonly sandbox: string
  /** Sandboxes seen so far (completion for `:sandbox`). */
  readonly sandboxes: ReadonlyArray<string>
  /** Filters per list (see `filterKey`): they outlive refreshes and view switches. */
  readonly filters: Readonly<Record<string, string>>
  /** The filter before `/` was pressed (Esc goes back to it). */
  readonly filterBefore: string
  readonly command: {
    readonly text: string
    readonly history: ReadonlyArray<string>
    /** Position while walking the history; undefined when editing. */
    readonly index: number | undefined
    readonly candidates: ReadonlyArray<string>
  }
  readonly cursors: Readonly<Record<string, number>>
  readonly sorts: Readonly<Record<string, Sort>>
  /** Pane index per view route (see `paneKey`). */
  readonly panes: Readonly<Record<string, number>>
  /** Unfolded tree paths per list. */
  readonly expanded: Readonly<Record<string, ReadonlyArray<string>>>
  readonly helpScroll: number
  readonly confirm: { readonly intent: Intent; readonly message: string } | undefined
  readonly form: Forms.FormState | undefined
  /** Intents approved and waiting to run. */
  /** The form an intent came from comes along: a refused create reopens it with the reason. */
  readonly queue: ReadonlyArray<{ readonly id: number; readonly intent: Intent; readonly form?: Forms.FormState | undefined }>
  readonly nextId: number
  readonly status: StatusMessage | undefined
  /** Bumped to make every live query fetch again now. */
  readonly refreshTick: number
  /** Profiles looked up, newest first. */
  readonly recents: ReadonlyArray<Identity>
  /** The merge policy profile lookups use; undefined: the sandbox's default. */
  readonly profilePolicy: string | undefined
  readonly quit: boolean
}

export interface InitOptions {
  readonly sandbox: string
  readonly readOnly?: boolean | undefined
  readonly view?: ViewId | undefined
  readonly recents?: ReadonlyArray<Identity> | undefined
}

export const initialState = (options: InitOptions): AppState => ({
  mode: "normal",
  readOnly: options.readOnly ?? false,
  stack: [{ view: options.view ?? "overview" }],
  sandbox: options.sandbox,
  sandboxes: [options.sandbox],
  filters: {},
  filterBefore: "",
  command: { text: "", history: [], index: undefined, candidates: [] },
  cursors: {},
  sorts: {},
  panes: {},
  expanded: {},
  helpScroll: 0,
  confirm: undefined,
  form: undefined,
  queue: [],
  nextId: 1,
  status: undefined,
  refreshTick: 0,
  recents: options.recents ?? [],
  profilePolicy: undefined,
  quit: false
})

// ---------------------------------------------------------------------------
// selectors
// ---------------------------------------------------------------------------

export const route = (state: AppState): Route => state.stack[state.stack.length - 1]!

export const paneKey = (r: Route): string => (r.detail ? `${r.view}/detail` : r.view)

export const paneCount = (r: Route): number => {
  // Items opened from inside a detail (`#event:…`) have no panes of their own.
  if (r.detail?.id.startsWith("#")) return 0
  const spec = viewSpec(r.view)
  return (r.detail ? spec.detailPanes : spec.panes).length
}

export const pane = (state: AppState, r: Route = route(state)): number => state.panes[paneKey(r)] ?? 0

/** Filters and sorts belong to a list (a view's pane), not to one item. */
export const filterKey = (state: AppState, r: Route = route(state)): string => `${paneKey(r)}/${pane(state, r)}`

/** Cursors belong to one list of one item: a new item starts at the top. */
export const cursorKey = (state: AppState, r: Route = route(state)): string =>
  r.detail ? `${paneKey(r)}/${r.detail.id}/${pane(state, r)}` : filterKey(state, r)

export const filterOf = (state: AppState, r: Route = route(state)): string => state.filters[filterKey(state, r)] ?? ""
export const cursorOf = (state: AppState, r: Route = route(state)): number => state.cursors[cursorKey(state, r)] ?? 0
export const sortOf = (state: AppState, r: Route = route(state)): Sort | undefined => state.sorts[filterKey(state, r)]
export const expandedOf = (state: AppState, r: Route = route(state)): ReadonlyArray<string> | undefined =>
  state.expanded[cursorKey(state, r)]

/** Modals stop live refresh: what is under them must not move. */
export const isModal = (mode: Mode): boolean => mode === "help" || mode === "confirm" || mode === "form"

export const identityKey = (identity: Identity) => `${identity.namespace}:${identity.id}`
export const parseIdentityKey = (key: string): Identity => {
  const at = key.indexOf(":")
  return at < 0 ? { namespace: "", id: key } : { namespace: key.slice(0, at), id: key.slice(at + 1) }
}

// ---------------------------------------------------------------------------
// actions
// ---------------------------------------------------------------------------

export type AppAction =
  | { readonly type: "goto"; readonly view: ViewId }
  | { readonly type: "push"; readonly route: Route }
  | { readonly type: "back" }
  | { readonly type: "pop" }
  | { readonly type: "help" }
  | { readonly type: "closeModal" }
  | { readonly type: "helpScroll"; readonly delta?: number; readonly to?: "top" | "bottom"; readonly max: number }
  | { readonly type: "filterOpen" }
  | { readonly type: "commandOpen"; readonly text?: string }
  | { readonly type: "type"; readonly text: string }
  | { readonly type: "deleteChar" }
  | { readonly type: "clearLine" }
  | { readonly type: "submit" }
  | { readonly type: "cancel" }
  | { readonly type: "complete" }
  | { readonly type: "history"; readonly delta: -1 | 1 }
  | { readonly type: "move"; readonly delta?: number; readonly to?: "top" | "bottom"; readonly count: number }
  | { readonly type: "setCursor"; readonly index: number }
  | { readonly type: "pane"; readonly delta: number }
  | { readonly type: "sort"; readonly columns: number; readonly reverse?: boolean }
  | { readonly type: "setExpanded"; readonly paths: ReadonlyArray<string> }
  | { readonly type: "request"; readonly intent: Intent }
  | { readonly type: "accept" }
  | { readonly type: "reject" }
  | { readonly type: "formOpen"; readonly form: Forms.FormState; readonly write: boolean }
  | { readonly type: "formField"; readonly delta: number }
  | { readonly type: "formChoice"; readonly delta: number }
  | { readonly type: "dequeue"; readonly id: number }
  | { readonly type: "status"; readonly status: Omit<StatusMessage, "at">; readonly at: number }
  | { readonly type: "clearStatus"; readonly source: string }
  | { readonly type: "refresh" }
  | { readonly type: "sandbox"; readonly name: string }
  | { readonly type: "profilePolicy"; readonly id: string | undefined }
  /** Steps through "the default", then each policy; computed here so that keys pressed faster than a render still each count. */
  | { readonly type: "cycleProfilePolicy"; readonly policies: ReadonlyArray<{ readonly id: string; readonly name: string }>; readonly defaultName: string }
  | { readonly type: "readOnly" }
  | { readonly type: "quit" }
  | { readonly type: "batch"; readonly actions: ReadonlyArray<AppAction> }

const clamp = (value: number, min: number, max: number) => Math.max(min, Math.min(max, value))

const withStatus = (state: AppState, kind: StatusMessage["kind"], text: string, source?: string): AppState => ({
  ...state,
  status: { kind, text, at: Date.now(), ...(source === undefined ? {} : { source }) }
})

const setFilter = (state: AppState, value: string): AppState => {
  const key = filterKey(state)
  // A new filter moves the cursor back to the first match.
  return { ...state, filters: { ...state.filters, [key]: value }, cursors: { ...state.cursors, [cursorKey(state)]: 0 } }
}

const request = (state: AppState, intent: Intent): AppState => {
  if (intent.kind === "lookupProfile") {
    const identity = { namespace: intent.namespace, id: intent.id }
    const key = identityKey(identity)
    const recents = [identity, ...state.recents.filter((r) => identityKey(r) !== key)].slice(0, 50)
    return {
      ...state,
      mode: "normal",
      form: undefined,
      recents,
      stack: [{ view: "profiles" }, { view: "profiles", detail: { id: key, label: key } }]
    }
  }
  if (state.readOnly && isWrite(intent)) {
    return withStatus({ ...state, mode: "normal", form: undefined, confirm: undefined }, "error", `read-only: ${describe(intent)} is disabled`)
  }
  if (isDestructive(intent)) {
    return { ...state, mode: "confirm", form: undefined, confirm: { intent, message: describe(intent) } }
  }
  return enqueue({ ...state, mode: "normal", form: undefined }, intent, state.form)
}

const enqueue = (state: AppState, intent: Intent, form?: Forms.FormState): AppState => ({
  ...state,
  queue: [...state.queue, { id: state.nextId, intent, ...(form === undefined ? {} : { form }) }],
  nextId: state.nextId + 1
})

const updateForm = (state: AppState, f: (form: Forms.FormState) => Forms.FormState): AppState =>
  state.form ? { ...state, form: f(state.form) } : state

export const reducer = (state: AppState, action: AppAction): AppState => {
  switch (action.type) {
    case "batch":
      return action.actions.reduce(reducer, state)

    case "goto":
      return { ...state, mode: "normal", stack: [{ view: action.view }] }

    case "push":
      return { ...state, stack: [...state.stack, action.route] }

    case "back": {
      if (filterOf(state) !== "") return setFilter(state, "")
      return state.stack.length > 1 ? { ...state, stack: state.stack.slice(0, -1) } : state
    }

    case "pop":
      return state.stack.length > 1 ? { ...state, stack: state.stack.slice(0, -1) } : state

    case "help":
      return { ...state, mode: "help", helpScroll: 0 }

    case "closeModal":
      return { ...state, mode: "normal", confirm: undefined, form: undefined }

    case "helpScroll": {
      const next = action.to === "top" ? 0 : action.to === "bottom" ? action.max : state.helpScroll + (action.delta ?? 0)
      return { ...state, helpScroll: clamp(next, 0, Math.max(0, action.max)) }
    }

    case "filterOpen":
      return { ...state, mode: "filter", filterBefore: filterOf(state) }

    case "commandOpen":
      return { ...state, mode: "command", command: { ...state.command, text: action.text ?? "", index: undefined, candidates: [] } }

    case "type":
      switch (state.mode) {
        case "filter":
          return setFilter(state, filterOf(state) + action.text)
        case "command":
          return { ...state, command: { ...state.command, text: state.command.text + action.text, index: undefined, candidates: [] } }
        case "form":
          return updateForm(state, (form) => Forms.typeText(form, action.text))
        default:
          return state
      }

    case "deleteChar":
      switch (state.mode) {
        case "filter": {
          const current = filterOf(state)
          return setFilter(state, [...current].slice(0, -1).join(""))
        }
        case "command": {
          // Backspace on an empty command line leaves it, as in k9s and vim.
          if (state.command.text === "") return { ...state, mode: "normal" }
          return { ...state, command: { ...state.command, text: [...state.command.text].slice(0, -1).join(""), candidates: [] } }
        }
        case "form":
          return updateForm(state, Forms.backspace)
        default:
          return state
      }

    case "clearLine":
      switch (state.mode) {
        case "filter":
          return setFilter(state, "")
        case "command":
          return { ...state, command: { ...state.command, text: "", candidates: [] } }
        case "form":
          return updateForm(state, Forms.clearField)
        default:
          return state
      }

    case "submit":
      switch (state.mode) {
        case "filter":
          return { ...state, mode: "normal" }
        case "command": {
          const text = state.command.text.trim()
          const history = text === "" ? state.command.history : [...state.command.history.filter((h) => h !== text), text].slice(-50)
          const next: AppState = { ...state, mode: "normal", command: { text: "", history, index: undefined, candidates: [] } }
          if (text === "") return next
          const result = execute(text, next)
          return "error" in result ? withStatus(next, "error", result.error) : reducer(next, { type: "batch", actions: result.actions })
        }
        case "form": {
          if (!state.form) return { ...state, mode: "normal" }
          const intent = Forms.toIntent(state.form)
          if ("error" in intent) return updateForm(state, (form) => ({ ...form, error: intent.error }))
          return request(state, intent)
        }
        default:
          return state
      }

    case "cancel":
      switch (state.mode) {
        case "filter":
          return { ...setFilter(state, state.filterBefore), mode: "normal" }
        case "command":
          return { ...state, mode: "normal", command: { ...state.command, text: "", index: undefined, candidates: [] } }
        case "form":
          return { ...state, mode: "normal", form: undefined }
        default:
          return state
      }

    case "complete": {
      if (state.mode !== "command") return state
      const result = complete(state.command.text, state)
      return { ...state, command: { ...state.command, text: result.text, candidates: result.candidates } }
    }

    case "history": {
      const { history, index } = state.command
      if (history.length === 0) return state
      const at = index === undefined ? (action.delta < 0 ? history.length - 1 : undefined) : index + action.delta
      if (at === undefined || at >= history.length) {
        return { ...state, command: { ...state.command, text: "", index: undefined } }
      }
      const bounded = clamp(at, 0, history.length - 1)
      return { ...state, command: { ...state.command, text: history[bounded]!, index: bounded, candidates: [] } }
    }

    case "move": {
      const key = cursorKey(state)
      const current = state.cursors[key] ?? 0
      const last = Math.max(0, action.count - 1)
      const next = action.to === "top" ? 0 : action.to === "bottom" ? last : current + (action.delta ?? 0)
      return { ...state, cursors: { ...state.cursors, [key]: clamp(next, 0, last) } }
    }

    case "setCursor":
      return { ...state, cursors: { ...state.cursors, [cursorKey(state)]: Math.max(0, action.index) } }

    case "pane": {
      const r = route(state)
      const count = paneCount(r)
      if (count < 2) return state
      const next = (((pane(state, r) + action.delta) % count) + count) % count
      return { ...state, panes: { ...state.panes, [paneKey(r)]: next } }
    }

    case "sort": {
      if (action.columns === 0) return state
      const key = filterKey(state)
      const current = state.sorts[key]
      const next: Sort = action.reverse
        ? { column: current?.column ?? 0, descending: !(current?.descending ?? false) }
        : { column: current === undefined ? 0 : (current.column + 1) % action.columns, descending: false }
      return { ...state, sorts: { ...state.sorts, [key]: next } }
    }

    case "setExpanded":
      return { ...state, expanded: { ...state.expanded, [cursorKey(state)]: action.paths } }

    case "request":
      return request(state, action.intent)

    case "accept": {
      if (state.mode !== "confirm" || !state.confirm) return state
      // Read-only is checked again: nothing reaches the queue past it.
      if (state.readOnly && isWrite(state.confirm.intent)) return request({ ...state, confirm: undefined }, state.confirm.intent)
      return enqueue({ ...state, mode: "normal", confirm: undefined }, state.confirm.intent)
    }

    case "reject":
      return state.mode === "confirm" ? withStatus({ ...state, mode: "normal", confirm: undefined }, "info", "cancelled") : state

    case "formOpen":
      if (action.write && state.readOnly) {
        return withStatus(state, "error", `read-only: ${action.form.title} is disabled`)
      }
      return { ...state, mode: "form", form: action.form }

    case "formField":
      return updateForm(state, (form) => Forms.focusBy(form, action.delta))

    case "formChoice":
      return updateForm(state, (form) => Forms.cycle(form, action.delta))

    case "dequeue":
      return { ...state, queue: state.queue.filter((item) => item.id !== action.id) }

    case "status":
      return { ...state, status: { ...action.status, at: action.at } }

    case "clearStatus":
      return state.status?.source === action.source ? { ...state, status: undefined } : state

    case "refresh":
      return { ...state, refreshTick: state.refreshTick + 1 }

    case "sandbox": {
      const name = action.name.trim()
      if (!/^[a-z0-9-]+$/.test(name)) return withStatus(state, "error", `"${name}" is not a sandbox name (lower case, digits, -)`)
      return withStatus(
        {
          ...state,
          sandbox: name,
          sandboxes: state.sandboxes.includes(name) ? state.sandboxes : [...state.sandboxes, name],
          // Items of one sandbox mean nothing in another: back to the list.
          stack: [{ view: route(state).view }],
          profilePolicy: undefined
        },
        "info",
        `sandbox ${name}`
      )
    }

    case "profilePolicy":
      return { ...state, profilePolicy: action.id }

    case "cycleProfilePolicy": {
      if (action.policies.length === 0) return state
      const ids: ReadonlyArray<string | undefined> = [undefined, ...action.policies.map((p) => p.id)]
      const next = ids[(ids.indexOf(state.profilePolicy) + 1) % ids.length]
      const name = next === undefined ? action.defaultName : (action.policies.find((p) => p.id === next)?.name ?? next)
      return withStatus({ ...state, profilePolicy: next }, "info", `merged with ${name}`)
    }

    case "readOnly":
      return withStatus({ ...state, readOnly: true }, "info", "read-only from now on: writes are refused")

    case "quit":
      return { ...state, quit: true }
  }
}
