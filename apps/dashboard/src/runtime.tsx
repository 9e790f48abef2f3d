/**
 * Effect enters React once: a `ManagedRuntime` (built from the upstream
 * layer) in context. Hooks run effects as fibers on it and interrupt them
 * when a component unmounts or its query changes; components never call
 * `fetch`. `useLiveData` adds what every view wants: the current sandbox,
 * polling that pauses while a modal is open, manual refresh, and errors
 * reported to the status line while the last good data stays on screen.
 */
import { Platform } from "@rtcp/core"
import { Cause, Effect, Exit, type Fiber, FiberId, type ManagedRuntime, Option } from "effect"
import { createContext, type Dispatch, type ReactNode, useContext, useEffect, useLayoutEffect, useRef, useState } from "react"
import { describeError, requestIdOf } from "./format.js"
import type { Action } from "./keymap.js"
import { isModal } from "./state/reducer.js"
import type { AppAction, AppState } from "./state/types.js"
import type { Services } from "./upstream.js"

export type DashboardRuntime = ManagedRuntime.ManagedRuntime<Services, unknown>

const RuntimeContext = createContext<DashboardRuntime | undefined>(undefined)

export const RuntimeProvider = ({ runtime, children }: { readonly runtime: DashboardRuntime; readonly children: ReactNode }) => (
  <RuntimeContext.Provider value={runtime}>{children}</RuntimeContext.Provider>
)

export const useRuntime = (): DashboardRuntime => {
  const runtime = useContext(RuntimeContext)
  if (!runtime) throw new Error("useRuntime outside <RuntimeProvider>")
  return runtime
}

// ---------------------------------------------------------------------------
// app state in context
// ---------------------------------------------------------------------------

export interface AppContextValue {
  readonly state: AppState
  readonly dispatch: Dispatch<AppAction>
  /** Live refresh period; 0 turns polling off. */
  readonly refreshMs: number
  readonly size: { readonly columns: number; readonly rows: number }
  /** Experience events fetched per page as the timeline scrolls. */
  readonly eventPageSize: number
  /** The view on screen says when its data last arrived (the status line shows it). */
  readonly setFreshness: (freshness: { readonly updatedAt: number | undefined; readonly loading: boolean }) => void
  /**
   * The view's own keys that act on this screen, when fewer than the keymap
   * says (a page that lists nothing); undefined: all of them. Key hints and
   * key routing both read it, so a hint is never offered for a key that does nothing.
   */
  readonly setOffered: (offered: ReadonlyArray<Action> | undefined) => void
}

const AppContext = createContext<AppContextValue | undefined>(undefined)

export const AppProvider = ({ value, children }: { readonly value: AppContextValue; readonly children: ReactNode }) => (
  <AppContext.Provider value={value}>{children}</AppContext.Provider>
)

export const useApp = (): AppContextValue => {
  const value = useContext(AppContext)
  if (!value) throw new Error("useApp outside <AppProvider>")
  return value
}

/**
 * A screen where only `actions` of the view's keys act (none, for a page
 * that only says why there is nothing to show): the rest are neither hinted
 * nor acted on while it is drawn. The app's own keys (`:`, `?`, Esc, `q`,
 * view numbers, `r`, `m`) always act.
 */
export const useOfferedKeys = (actions: ReadonlyArray<Action>) => {
  const { setOffered } = useApp()
  const key = actions.join(" ")
  useLayoutEffect(() => {
    setOffered(key === "" ? [] : (key.split(" ") as ReadonlyArray<Action>))
    return () => setOffered(undefined)
  }, [key, setOffered])
}

// ---------------------------------------------------------------------------
// running effects
// ---------------------------------------------------------------------------

export interface QueryState<A> {
  readonly data: A | undefined
  readonly error: unknown
  readonly loading: boolean
  /** When the last success arrived (epoch ms). */
  readonly updatedAt: number | undefined
}

export interface QueryOptions<A> {
  /** Fetch again this long after each answer. */
  readonly refreshMs?: number | undefined
  /** While true nothing is fetched (the data on screen stays). */
  readonly paused?: boolean | undefined
  /** Bump to fetch again now. */
  readonly tick?: number | undefined
  readonly onSuccess?: ((data: A) => void) | undefined
  readonly onFailure?: ((error: unknown) => void) | undefined
}

const failureOf = (cause: Cause.Cause<unknown>): unknown =>
  Option.getOrElse(Cause.failureOption(cause), () => Cause.squash(cause))

/**
 * Runs `make()` as a fiber whenever `key` changes (undefined: disabled),
 * again every `refreshMs` while not paused, and interrupts it on unmount.
 * A new key drops the old data; a refresh keeps it until the answer.
 */
export const useEffectQuery = <A, E>(
  key: string | undefined,
  make: () => Effect.Effect<A, E, Services>,
  options: QueryOptions<A> = {}
): QueryState<A> => {
  const runtime = useRuntime()
  const [state, setState] = useState<QueryState<A> & { readonly key: string | undefined }>({
    key,
    data: undefined,
    error: undefined,
    loading: key !== undefined,
    updatedAt: undefined
  })
  const [poll, setPoll] = useState(0)
  const latest = useRef({ make, options })
  latest.current = { make, options }

  if (state.key !== key) {
    // A different query: what is on screen belongs to the old one.
    setState({ key, data: undefined, error: undefined, loading: key !== undefined, updatedAt: undefined })
  }

  const { paused, refreshMs, tick } = options
  useEffect(() => {
    if (key === undefined || paused) return
    let done = false
    let timer: ReturnType<typeof setTimeout> | undefined
    setState((s) => (s.key === key && !s.loading ? { ...s, loading: true } : s))
    let fiber: Fiber.RuntimeFiber<A, unknown>
    try {
      fiber = runtime.runFork(Effect.suspend(latest.current.make))
    } catch (error) {
      // The runtime is gone (the app is closing).
      setState((s) => ({ ...s, loading: false, error }))
      return
    }
    fiber.addObserver((exit) => {
      if (done) return
      if (Exit.isSuccess(exit)) {
        setState({ key, data: exit.value, error: undefined, loading: false, updatedAt: Date.now() })
        latest.current.options.onSuccess?.(exit.value)
      } else if (!Cause.isInterruptedOnly(exit.cause)) {
        const error = failureOf(exit.cause)
        setState((s) => ({ ...s, key, error, loading: false }))
        latest.current.options.onFailure?.(error)
      }
      if (refreshMs !== undefined && refreshMs > 0) {
        timer = setTimeout(() => setPoll((n) => n + 1), refreshMs)
      }
    })
    return () => {
      done = true
      if (timer) clearTimeout(timer)
      fiber.unsafeInterruptAsFork(FiberId.none)
    }
  }, [key, paused, refreshMs, tick, poll, runtime])

  return state
}

/**
 * `useEffectQuery` in the app: the effect runs in the current sandbox,
 * refreshes live (`live: false` for data that does not change by itself)
 * and pauses under modals; failures go to the status line, and the next
 * success clears them.
 */
export const useLiveData = <A, E>(
  key: string | undefined,
  make: () => Effect.Effect<A, E, Services>,
  options: { readonly live?: boolean | undefined; readonly quiet?: (error: unknown) => boolean } = {}
): QueryState<A> => {
  const { state, dispatch, refreshMs } = useApp()
  const sandbox = state.sandbox
  const source = key === undefined ? undefined : `${sandbox}/${key}`
  return useEffectQuery(source, () => Platform.withSandbox(make(), sandbox), {
    // Data that does not change by itself keeps loading under a modal: a form may be waiting for it.
    paused: options.live !== false && isModal(state.mode),
    refreshMs: options.live === false || refreshMs <= 0 ? undefined : refreshMs,
    tick: state.refreshTick,
    onSuccess: () => {
      if (source !== undefined) dispatch({ type: "clearStatus", source })
    },
    onFailure: (error) => {
      if (options.quiet?.(error)) return
      const requestId = requestIdOf(error)
      dispatch({ type: "status", status: { kind: "error", text: describeError(error), source, ...(requestId ? { requestId } : {}) } })
    }
  })
}

/** Runs an effect once, outside any query (writes); resolves with its exit. */
export const runExit = <A, E>(runtime: DashboardRuntime, effect: Effect.Effect<A, E, Services>): Promise<Exit.Exit<A, E>> =>
  runtime.runPromiseExit(effect).then(
    (exit) => exit as Exit.Exit<A, E>,
    (error: unknown) => Exit.die(error) as Exit.Exit<A, E>
  )
