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
export type { AppAction, AppState, Identity, Route, Sort, StatusMessage } from "./types.js"
import type { AppAction, AppState, Identity, Route, Sort, StatusMessage } from "./types.js"

export interface InitOptions {
  readonly sandbox: string
  /** Breadcrumbs to start with (a permalink); wins over `view`. */
  readonly stack?: ReadonlyArray<Route> | undefined
  readonly readOnly?: boolean | undefined
  readonly view?: ViewId | undefined
  readonly recents?: ReadonlyArray<Identity> | undefined
}

export const initialState = (options: InitOptions): AppState => ({
  mode: "normal",
  readOnly: options.readOnly ?? false,
  stack: options.stack && options.stack.length > 0 ? options.stack : [{ view: options.view ?? "overview" }],
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
  messages: [],
  refreshTick: 0,
  recents: options.recents ?? [],
  namespaces: [],
  copy: undefined,
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

const clamp = (value: number, min: number, max: number) => Math.max(min, Math.min(max, value))

/** Messages kept for the Messages view. */
export const MAX_MESSAGES = 500

const setStatus = (state: AppState, status: StatusMessage): AppState => ({
  ...state,
  status,
  // "working…" lines are followed by their outcome; the log keeps outcomes.
  // A refresh failing again and again is one message (with its latest time), not hundreds.
  messages:
    status.kind === "busy"
      ? state.messages
      : state.messages[0]?.text === status.text && state.messages[0].kind === status.kind
        ? [status, ...state.messages.slice(1)]
        : [status, ...state.messages].slice(0, MAX_MESSAGES)
})

const withStatus = (state: AppState, kind: StatusMessage["kind"], text: string, at: number | undefined): AppState =>
  setStatus(state, { kind, text, at: at ?? 0 })

const setFilter = (state: AppState, value: string): AppState => {
  const key = filterKey(state)
  // A new filter moves the cursor back to the first match.
  return { ...state, filters: { ...state.filters, [key]: value }, cursors: { ...state.cursors, [cursorKey(state)]: 0 } }
}

const request = (state: AppState, intent: Intent, at: number | undefined): AppState => {
  if (intent.kind === "lookupProfile") {
    const identity = { namespace: intent.namespace, id: intent.id }
    const key = identityKey(identity)
    const recents = [identity, ...state.recents.filter((r) => identityKey(r) !== key)].slice(0, 50)
    return {
      ...reducer(state, { type: "namespaces", codes: [identity.namespace] }),
      mode: "normal",
      form: undefined,
      recents,
      stack: [{ view: "profiles" }, { view: "profiles", detail: { id: key, label: key } }]
    }
  }
  if (state.readOnly && isWrite(intent)) {
    return withStatus({ ...state, mode: "normal", form: undefined, confirm: undefined }, "error", `read-only: ${describe(intent)} is disabled`, at)
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
      return action.actions.reduce((current, inner) => reducer(current, inner.at === undefined && action.at !== undefined ? { ...inner, at: action.at } : inner), state)

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

    case "filterOpen": {
      // The prompt starts empty: what is typed replaces the old filter (Esc brings it back).
      const before = filterOf(state)
      return { ...setFilter(state, ""), mode: "filter", filterBefore: before }
    }

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
          return "error" in result ? withStatus(next, "error", result.error, action.at) : reducer(next, { type: "batch", actions: result.actions, at: action.at })
        }
        case "form": {
          if (!state.form) return { ...state, mode: "normal" }
          const intent = Forms.toIntent(state.form)
          if ("error" in intent) return updateForm(state, (form) => ({ ...form, error: intent.error }))
          return request(state, intent, action.at)
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
      return request(state, action.intent, action.at)

    case "accept": {
      if (state.mode !== "confirm" || !state.confirm) return state
      // Read-only is checked again: nothing reaches the queue past it.
      if (state.readOnly && isWrite(state.confirm.intent)) return request({ ...state, confirm: undefined }, state.confirm.intent, action.at)
      return enqueue({ ...state, mode: "normal", confirm: undefined }, state.confirm.intent)
    }

    case "reject":
      return state.mode === "confirm" ? withStatus({ ...state, mode: "normal", confirm: undefined }, "info", "cancelled", action.at) : state

    case "formOpen":
      if (action.write && state.readOnly) {
        return withStatus(state, "error", `read-only: ${action.form.title} is disabled`, action.at)
      }
      return { ...state, mode: "form", form: action.form }

    case "formField":
      return updateForm(state, (form) => Forms.focusBy(form, action.delta))

    case "formChoice":
      return updateForm(state, (form) => Forms.cycle(form, action.delta))

    case "dequeue":
      return { ...state, queue: state.queue.filter((item) => item.id !== action.id) }

    case "status":
      return setStatus(state, { ...action.status, at: action.at ?? 0 })

    case "clearStatus":
      return state.status?.source === action.source ? { ...state, status: undefined } : state

    case "refresh":
      return { ...state, refreshTick: state.refreshTick + 1 }

    case "sandbox": {
      const name = action.name.trim()
      if (!/^[a-z0-9-]+$/.test(name)) return withStatus(state, "error", `"${name}" is not a sandbox name (lower case, digits, -)`, action.at)
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
        `sandbox ${name}`,
        action.at
      )
    }

    case "profilePolicy":
      return { ...state, profilePolicy: action.id }

    case "cycleProfilePolicy": {
      const list = action.policies
      if (list.length === 0) return state
      const defaultId = list.find((p) => p.default === true)?.id
      const named = (id: string) => {
        const policy = list.find((p) => p.id === id)
        return `${policy?.name ?? id}${id === defaultId ? " (default)" : ""}`
      }
      // The default is one of the policies, not a step of its own: one policy means nothing to step to.
      const current = state.profilePolicy ?? defaultId ?? list[0]!.id
      if (list.length === 1) return withStatus(state, "info", `only one merge policy in this sandbox: ${named(list[0]!.id)}`, action.at)
      const at = list.findIndex((p) => p.id === current)
      const next = list[(at + 1) % list.length]!.id
      return withStatus({ ...state, profilePolicy: next === defaultId ? undefined : next }, "info", `merged with ${named(next)}`, action.at)
    }

    case "formOptions": {
      const form = state.form
      if (state.mode !== "form" || !form || form.kind !== action.form || action.options.length === 0) return state
      const fields = form.fields.map((field) =>
        field.name !== action.field || field.kind !== "text" || (field.suggestions?.length ?? 0) > 0
          ? field
          : { ...field, suggestions: action.options, ...(action.fill && field.value === "" ? { value: action.options[0]!.label } : {}) }
      )
      return { ...state, form: { ...form, fields } }
    }

    case "copy":
      return { ...state, copy: { id: (state.copy?.id ?? 0) + 1, what: action.what, text: action.text } }

    case "namespaces": {
      const known = new Map(state.namespaces.map((code) => [code.toLowerCase(), code]))
      for (const code of action.codes) if (!known.has(code.toLowerCase())) known.set(code.toLowerCase(), code)
      return known.size === state.namespaces.length ? state : { ...state, namespaces: [...known.values()] }
    }

    case "readOnly":
      return withStatus({ ...state, readOnly: true }, "info", "read-only from now on: writes are refused", action.at)

    case "quit":
      return { ...state, quit: true }
  }
}
