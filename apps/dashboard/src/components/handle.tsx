/**
 * The focused list tells the app's one input handler what it needs to move
 * the cursor (how many rows, how many fit on a page, how many sortable
 * columns) and which view actions it answers (`n`, `d`, Enter…).
 */
import { createContext, type MutableRefObject, type ReactNode, useContext, useLayoutEffect, useRef } from "react"
import type { Action } from "../keymap.js"
import { useApp } from "../runtime.js"
import { cursorKey } from "../state/reducer.js"
import type { AppState } from "../state/types.js"

export interface ViewHandle {
  /**
   * The list it serves (`cursorKey` of the state it was drawn for): a key
   * that arrives before a pane or item switch is drawn waits for the handle
   * of the list it is meant for, instead of going to the previous one.
   */
  readonly list?: string | undefined
  readonly count: number
  readonly page: number
  readonly columns?: number | undefined
  /**
   * True when the action was handled. `state` is the app's state as of this
   * key, which may be newer than the last render (keys can arrive faster than
   * frames): a list resolves the row under the cursor from it, not from what
   * it last drew.
   */
  readonly onAction?: ((action: Action, state: AppState) => boolean) | undefined
  /**
   * What `y` (the value or row under the cursor) and `Y` (the whole view)
   * copy, as of `state`; undefined when there is nothing to copy.
   */
  readonly yank?: ((scope: "cursor" | "all", state: AppState) => Yanked | undefined) | undefined
}

export interface Yanked {
  /** What was copied, for the status line ("the profile as JSON", "12 rows"). */
  readonly what: string
  readonly text: string
}

type HandleRef = MutableRefObject<ViewHandle | undefined>

const HandleContext = createContext<HandleRef | undefined>(undefined)

export const HandleProvider = ({ handle, children }: { readonly handle: HandleRef; readonly children: ReactNode }) => (
  <HandleContext.Provider value={handle}>{children}</HandleContext.Provider>
)

export const useHandleRef = (): HandleRef => useRef<ViewHandle | undefined>(undefined)

/** Registers the focused list's handle (after every render, so it is never stale). */
export const useViewHandle = (handle: ViewHandle): void => {
  const ref = useContext(HandleContext)
  const { state } = useApp()
  const latest = useRef(handle)
  latest.current = { ...handle, list: cursorKey(state) }
  useLayoutEffect(() => {
    if (!ref) return
    ref.current = latest.current
  })
  useLayoutEffect(
    () => () => {
      if (ref && ref.current === latest.current) ref.current = undefined
    },
    [ref]
  )
}

/** For a view with nothing to move through (an error, a message): its actions still answer keys. */
export const ActionsOnly = ({ onAction, children }: { readonly onAction: (action: Action) => boolean; readonly children?: ReactNode }) => {
  useViewHandle({ count: 0, page: 1, onAction: (action) => onAction(action) })
  return <>{children}</>
}
