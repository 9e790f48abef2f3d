/**
 * The dashboard: header, breadcrumbs, the current view (or a modal over
 * it), status line and key hints, all sized to stay one line shorter than
 * the terminal so Ink never scrolls or clears it. One input handler turns
 * keys into reducer actions through the keymap.
 */
import { Box, type Key, Text, useApp as useInkApp, useInput, useStdout } from "ink"
import { type ReactNode, useCallback, useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from "react"
import { Breadcrumbs, BottomLine, type Freshness, Header, StatusLine } from "./components/Chrome.js"
import { HandleProvider, useHandleRef } from "./components/handle.js"
import { copy } from "./clipboard.js"
import { ConfirmDialog, FormDialog, HelpOverlay, helpLines } from "./components/Modals.js"
import { describeError } from "./format.js"
import { keyActions, splitChunk, waitsForScreen } from "./input.js"
import * as Operations from "./operations.js"
import { AppProvider, type DashboardRuntime, RuntimeProvider, useEffectQuery, useRuntime } from "./runtime.js"
import { initialState, isModal, reducer, route } from "./state/reducer.js"
import type { Action } from "./keymap.js"
import type { AppAction, Identity, Route } from "./state/types.js"
import type { ViewId } from "./state/views.js"
import { theme } from "./theme.js"
import { Upstream, type UpstreamKind } from "./upstream.js"
import type { ViewProps } from "./views/common.js"
import { ComputedAttributesView } from "./views/ComputedAttributes.js"
import { EdgeView } from "./views/Edge.js"
import { JobsView } from "./views/Jobs.js"
import { MergePoliciesView } from "./views/MergePolicies.js"
import { OverviewView } from "./views/Overview.js"
import { ProfilesView } from "./views/Profiles.js"
import { DiffView } from "./views/Diff.js"
import { ExplainView } from "./views/Explain.js"
import { MessagesView } from "./views/Messages.js"
import { RequestsView } from "./views/Requests.js"

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
  /** Breadcrumbs to open first (from a permalink: `npm start -- profiles Email jane.doe@example.com`). */
  readonly stack?: ReadonlyArray<Route> | undefined
  /** Where copies go when the terminal's clipboard cannot be reached (default: the system's temp folder). */
  readonly copyDirectory?: string | undefined
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
// the app
// ---------------------------------------------------------------------------

const Dashboard = (props: AppProps) => {
  const runtime = useRuntime()
  const [state, dispatchToReact] = useReducer(reducer, props, (p) =>
    initialState({ sandbox: p.sandbox, readOnly: p.readOnly, view: p.view, stack: p.stack, recents: p.recents })
  )
  const size = useTerminalSize()
  const [freshness, setFreshness] = useState<Freshness>({ updatedAt: undefined, loading: true })
  // The view's keys that act on the screen drawn; keys read the ref (they can come before a render).
  const [offered, setOfferedState] = useState<ReadonlyArray<Action> | undefined>(undefined)
  const offeredRef = useRef(offered)
  const setOffered = useCallback((next: ReadonlyArray<Action> | undefined) => {
    offeredRef.current = next
    setOfferedState(next)
  }, [])
  const handle = useHandleRef()
  const { exit } = useInkApp()
  const { stdout } = useStdout()

  // The state as of the last action, which keys act on: React draws it later, and keys
  // (a paste, a fast typist, a loaded machine) can come faster than frames. Every
  // action, from keys or from views, goes through `dispatch` so the two never part.
  const stateRef = useRef(state)
  stateRef.current = state
  const dispatch = useCallback((action: AppAction) => {
    // Stamped once here: the reducer never reads the clock, so running it twice gives one answer.
    const stamped: AppAction = action.at === undefined ? { ...action, at: Date.now() } : action
    stateRef.current = reducer(stateRef.current, stamped)
    dispatchToReact(stamped)
  }, [])

  const upstream = useEffectQuery("upstream", () => Upstream, {
    onFailure: (error) => dispatch({ type: "status", status: { kind: "error", text: `upstream: ${describeError(error)}` } })
  })

  // Approved intents run here, one fiber each.
  useEffect(() => {
    for (const item of state.queue) void Operations.runQueued({ runtime, dispatch, current: () => stateRef.current }, item, state.sandbox)
  }, [state.queue, state.sandbox, runtime, dispatch])

  // Copies asked for (y, Y, :link) are written here: the reducer only records them.
  const copied = useRef(0)
  useEffect(() => {
    const pending = state.copy
    if (!pending || pending.id === copied.current) return
    copied.current = pending.id
    try {
      const result = copy(pending.text, { target: stdout, directory: props.copyDirectory, now: Date.now() })
      const where = result.via === "osc52" ? "the clipboard" : result.path
      dispatch({ type: "status", status: { kind: "info", text: `copied ${pending.what} to ${where}` } })
    } catch (error) {
      dispatch({ type: "status", status: { kind: "error", text: `could not copy ${pending.what}: ${error instanceof Error ? error.message : String(error)}` } })
    }
  }, [state.copy, stdout, props.copyDirectory, dispatch])

  useEffect(() => {
    if (state.quit) exit()
  }, [state.quit, exit])

  const bodyHeight = Math.max(1, size.rows - CHROME - 1)
  const r = route(state)

  // Keys not handled yet, in order: one that needs the list of a pane or item not drawn yet waits for it.
  const pending = useRef<Array<readonly [string, Key]>>([])
  const helpColumns = useRef(size.columns)
  helpColumns.current = size.columns
  const drain = useCallback(
    (drawn: boolean) => {
      // Right after a commit the screen shows the latest state: the first key goes, whatever the handle says.
      let force = drawn
      while (pending.current.length > 0) {
        const [chunk, k] = pending.current[0]!
        // Re-read for every key: the previous key (or a view action it ran) may have dispatched.
        const current = stateRef.current
        if (!force && waitsForScreen(current, chunk, k, handle.current)) return
        force = false
        pending.current.shift()
        const helpMax = current.mode === "help" ? Math.max(0, helpLines(route(current).view, helpColumns.current).length - (bodyHeight - 1)) : 0
        for (const action of keyActions(current, chunk, k, { handle: handle.current, helpMax, offered: offeredRef.current })) dispatch(action)
      }
    },
    [bodyHeight, dispatch, handle]
  )
  useInput((input, key) => {
    pending.current.push(...splitChunk(input, key))
    drain(false)
  })
  // After every commit (the views' handles are registered by then): the keys that waited.
  useLayoutEffect(() => {
    if (pending.current.length > 0) drain(true)
  })

  const appContext = useMemo(
    () => ({ state, dispatch, refreshMs: props.refreshMs, size, setFreshness, setOffered, eventPageSize: props.eventPageSize ?? 25 }),
    [state, props.refreshMs, size, props.eventPageSize, setOffered]
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
          <BottomLine state={state} width={width} offered={offered} />
        </Box>
      </HandleProvider>
    </AppProvider>
  )
}

/** The component of each view; a new key per route remounts it, so its queries start fresh. */
const viewComponents: { readonly [V in ViewId]: (props: ViewProps) => ReactNode } = {
  overview: OverviewView,
  profiles: ProfilesView,
  policies: MergePoliciesView,
  jobs: JobsView,
  attributes: ComputedAttributesView,
  edge: EdgeView,
  messages: MessagesView,
  requests: RequestsView,
  explain: ExplainView,
  diff: DiffView
}

const CurrentView = ({ view, detail, width, height }: { view: ViewId; detail: string | undefined; width: number; height: number }) => {
  const Component = viewComponents[view]
  return <Component key={`${view}/${detail ?? ""}`} width={width} height={height} />
}
