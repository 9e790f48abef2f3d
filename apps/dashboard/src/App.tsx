/**
 * The dashboard: header, breadcrumbs, the current view (or a modal over
 * it), status line and key hints, all sized to stay one line shorter than
 * the terminal so Ink never scrolls or clears it. One input handler turns
 * keys into reducer actions through the keymap.
 */
import { Platform } from "@rtcp/core"
import { Box, type Key, Text, useApp as useInkApp, useInput, useStdout } from "ink"
import { Cause, Exit, Option } from "effect"
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react"
import { Breadcrumbs, BottomLine, type Freshness, Header, StatusLine } from "./components/Chrome.js"
import { HandleProvider, useHandleRef, type ViewHandle } from "./components/handle.js"
import { ConfirmDialog, FormDialog, HelpOverlay, helpLines } from "./components/Modals.js"
import { describeError } from "./format.js"
import { isTyping, type KeyEntry, resolve } from "./keymap.js"
import * as Operations from "./operations.js"
import { AppProvider, type DashboardRuntime, RuntimeProvider, runExit, useEffectQuery, useRuntime } from "./runtime.js"
import { describe, type Intent } from "./state/intents.js"
import { type AppAction, type AppState, type Identity, initialState, isModal, reducer, route } from "./state/reducer.js"
import type { ViewId } from "./state/views.js"
import { theme } from "./theme.js"
import { Upstream, type UpstreamKind } from "./upstream.js"
import { ComputedAttributesView } from "./views/ComputedAttributes.js"
import { EdgeView } from "./views/Edge.js"
import { JobsView } from "./views/Jobs.js"
import { MergePoliciesView } from "./views/MergePolicies.js"
import { OverviewView } from "./views/Overview.js"
import { ProfilesView } from "./views/Profiles.js"

export interface AppProps {
  readonly runtime: DashboardRuntime
  readonly kind: UpstreamKind
  /** What the header says while the upstream starts. */
  readonly connecting?: string | undefined
  readonly sandbox: string
  readonly readOnly?: boolean | undefined
  /** 0 turns live refresh off. */
  readonly refreshMs: number
  readonly view?: ViewId | undefined
  readonly recents?: ReadonlyArray<Identity> | undefined
  /** Experience events per page of the timeline (default 25). */
  readonly eventPageSize?: number | undefined
}

export const App = (props: AppProps) => (
  <RuntimeProvider runtime={props.runtime}>
    <Dashboard {...props} />
  </RuntimeProvider>
)

/** Lines around the view: header, breadcrumbs, status, hints; one more stays free. */
export const CHROME = 5
const MIN_COLUMNS = 40
const MIN_ROWS = 10

const useTerminalSize = () => {
  const { stdout } = useStdout()
  const read = useCallback(() => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 }), [stdout])
  const [size, setSize] = useState(read)
  useEffect(() => {
    const onResize = () => setSize(read())
    stdout.on("resize", onResize)
    return () => {
      stdout.off("resize", onResize)
    }
  }, [stdout, read])
  return size
}

// ---------------------------------------------------------------------------
// keys → actions
// ---------------------------------------------------------------------------

const plainKey = (extra: Partial<Key> = {}): Key => ({
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

export interface KeyContext {
  readonly handle: ViewHandle | undefined
  readonly helpMax: number
}

/** The reducer actions a key means now; view actions are sent to the focused list instead. */
export const keyActions = (state: AppState, input: string, key: Key, context: KeyContext): ReadonlyArray<AppAction> => {
  const view = route(state).view
  const entry: KeyEntry | undefined = resolve(state.mode, view, input, key)
  const handle = context.handle
  if (entry?.action === "quit") return [{ type: "quit" }]
  switch (state.mode) {
    case "normal": {
      if (!entry) return []
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
            return [{ type: "status", status: { kind: "error", text: `read-only: ${verb} is disabled` }, at: Date.now() }]
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

/** The item a successful delete removed, as the detail route names it. */
const detailIdOf = (intent: Intent): string | undefined => {
  switch (intent.kind) {
    case "deletePolicy":
    case "deleteAttribute":
      return intent.id
    case "deleteSystemJob":
      return `system:${intent.id}`
    case "deleteDestination":
      return `destination:${intent.id}`
    case "deleteProjection":
      return `projection:${intent.id}`
    default:
      return undefined
  }
}

// ---------------------------------------------------------------------------
// the app
// ---------------------------------------------------------------------------

const Dashboard = (props: AppProps) => {
  const runtime = useRuntime()
  const [state, dispatchToReact] = useReducer(reducer, props, (p) =>
    initialState({ sandbox: p.sandbox, readOnly: p.readOnly, view: p.view, recents: p.recents })
  )
  const size = useTerminalSize()
  const [freshness, setFreshness] = useState<Freshness>({ updatedAt: undefined, loading: true })
  const handle = useHandleRef()
  const { exit } = useInkApp()

  // The state as of the last action, which keys act on: React draws it later, and keys
  // (a paste, a fast typist, a loaded machine) can come faster than frames. Every
  // action, from keys or from views, goes through `dispatch` so the two never part.
  const stateRef = useRef(state)
  stateRef.current = state
  const dispatch = useCallback((action: AppAction) => {
    stateRef.current = reducer(stateRef.current, action)
    dispatchToReact(action)
  }, [])

  const upstream = useEffectQuery("upstream", () => Upstream, {
    onFailure: (error) => dispatch({ type: "status", status: { kind: "error", text: `upstream: ${describeError(error)}` }, at: Date.now() })
  })

  // Approved intents run here, one fiber each.
  useEffect(() => {
    for (const item of state.queue) {
      dispatch({ type: "dequeue", id: item.id })
      dispatch({ type: "status", status: { kind: "busy", text: `${describe(item.intent)}…` }, at: Date.now() })
      const sandbox = state.sandbox
      void runExit(runtime, Platform.withSandbox(Operations.run(item.intent), sandbox)).then((result) => {
        if (Exit.isSuccess(result)) {
          dispatch({ type: "status", status: { kind: "info", text: result.value }, at: Date.now() })
          const removed = detailIdOf(item.intent)
          if (removed !== undefined && route(stateRef.current).detail?.id === removed) dispatch({ type: "pop" })
          dispatch({ type: "refresh" })
        } else {
          const failure = Cause.failureOption(result.cause)
          const error = Option.isSome(failure) ? failure.value : Cause.squash(result.cause)
          dispatch({ type: "status", status: { kind: "error", text: describeError(error) }, at: Date.now() })
          // A refused create or edit: its form comes back with the reason, nothing typed is lost.
          if (item.form && stateRef.current.mode === "normal") {
            dispatch({ type: "formOpen", form: { ...item.form, error: describeError(error) }, write: true })
          }
        }
      })
    }
  }, [state.queue, state.sandbox, runtime])

  useEffect(() => {
    if (state.quit) exit()
  }, [state.quit, exit])

  const bodyHeight = Math.max(1, size.rows - CHROME - 1)
  const r = route(state)

  useInput((input, key) => {
    for (const [chunk, k] of splitChunk(input, key)) {
      // Re-read for every key: a view action run by the previous key may have dispatched.
      const current = stateRef.current
      const helpMax = current.mode === "help" ? Math.max(0, helpLines(route(current).view, size.columns).length - (bodyHeight - 1)) : 0
      for (const action of keyActions(current, chunk, k, { handle: handle.current, helpMax })) dispatch(action)
    }
  })

  const appContext = useMemo(
    () => ({ state, dispatch, refreshMs: props.refreshMs, size, setFreshness, eventPageSize: props.eventPageSize ?? 25 }),
    [state, props.refreshMs, size, props.eventPageSize]
  )

  if (size.columns < MIN_COLUMNS || size.rows < MIN_ROWS) {
    return (
      <Text color={theme.warn} wrap="truncate">
        {`rtcp needs at least ${MIN_COLUMNS}×${MIN_ROWS} (now ${size.columns}×${size.rows}); q quits`}
      </Text>
    )
  }

  const modal = isModal(state.mode)
  const width = size.columns
  return (
    <AppProvider value={appContext}>
      <HandleProvider handle={handle}>
        <Box flexDirection="column" width={width} height={size.rows - 1}>
          <Header
            width={width}
            info={upstream.data}
            kind={props.kind}
            sandbox={state.sandbox}
            readOnly={state.readOnly}
            connecting={upstream.error ? "not connected (see below)" : props.connecting}
          />
          <Breadcrumbs state={state} width={width} />
          <Box height={bodyHeight} width={width} flexDirection="column">
            {state.mode === "help" ? <HelpOverlay view={r.view} width={width} height={bodyHeight} scroll={state.helpScroll} /> : null}
            {state.mode === "confirm" && state.confirm ? <ConfirmDialog message={state.confirm.message} width={width} height={bodyHeight} /> : null}
            {state.mode === "form" && state.form ? <FormDialog form={state.form} width={width} height={bodyHeight} /> : null}
            <Box display={modal ? "none" : "flex"} height={bodyHeight} width={width} flexDirection="column">
              <CurrentView view={r.view} detail={r.detail?.id} width={width} height={bodyHeight} />
            </Box>
          </Box>
          <StatusLine state={state} width={width} freshness={freshness} refreshMs={props.refreshMs} paused={modal} />
          <BottomLine state={state} width={width} />
        </Box>
      </HandleProvider>
    </AppProvider>
  )
}

const CurrentView = ({ view, detail, width, height }: { view: ViewId; detail: string | undefined; width: number; height: number }) => {
  // A new key per route remounts the view: its queries start fresh.
  const key = `${view}/${detail ?? ""}`
  switch (view) {
    case "overview":
      return <OverviewView key={key} width={width} height={height} />
    case "profiles":
      return <ProfilesView key={key} width={width} height={height} />
    case "policies":
      return <MergePoliciesView key={key} width={width} height={height} />
    case "jobs":
      return <JobsView key={key} width={width} height={height} />
    case "attributes":
      return <ComputedAttributesView key={key} width={width} height={height} />
    case "edge":
      return <EdgeView key={key} width={width} height={height} />
  }
}
