/**
 * The dashboard's state and the actions that change it, as types only:
 * the reducer, the command registry and the views import them from here,
 * so none of them needs the others to know what a state is.
 */
import type { Mode } from "../keymap.js"
import type * as Forms from "./forms.js"
import type { Intent } from "./intents.js"
import type { ViewId } from "./views.js"

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
  /** The upstream's request id of a failed call, in full (the status line shortens it). */
  readonly requestId?: string | undefined
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
  /** Every status line of the session, newest first (the Messages view). */
  readonly messages: ReadonlyArray<StatusMessage>
  /** Bumped to make every live query fetch again now. */
  readonly refreshTick: number
  /** Profiles looked up, newest first. */
  readonly recents: ReadonlyArray<Identity>
  /** The last copy asked for (`y`, `Y`, `:link`); the app writes it to the clipboard or a file. */
  readonly copy: { readonly id: number; readonly what: string; readonly text: string } | undefined
  /** Identity namespaces seen on the upstream (the namespace report, lookups). */
  readonly namespaces: ReadonlyArray<string>
  /** The merge policy profile lookups use; undefined: the sandbox's default. */
  readonly profilePolicy: string | undefined
  readonly quit: boolean
}

/**
 * What can happen. The dispatcher stamps `at` (epoch ms) on every action, so
 * the reducer never reads the clock: React may run it twice for one action.
 */
export type AppAction = ActionBody & { readonly at?: number | undefined }

type ActionBody =
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
  | { readonly type: "status"; readonly status: Omit<StatusMessage, "at"> }
  | { readonly type: "clearStatus"; readonly source: string }
  | { readonly type: "refresh" }
  | { readonly type: "sandbox"; readonly name: string }
  | { readonly type: "profilePolicy"; readonly id: string | undefined }
  /** Steps through "the default", then each policy; computed here so that keys pressed faster than a render still each count. */
  | {
      readonly type: "cycleProfilePolicy"
      /** The sandbox's policies; `default` marks the one a lookup naming none uses. */
      readonly policies: ReadonlyArray<{ readonly id: string; readonly name: string; readonly default?: boolean | undefined }>
    }
  | { readonly type: "copy"; readonly what: string; readonly text: string }
  /** Picks that arrived after the form opened (datasets, policies): given to its field if it has none yet. */
  | { readonly type: "formOptions"; readonly form: Forms.FormKind; readonly field: string; readonly options: ReadonlyArray<Forms.Choice>; readonly fill?: boolean | undefined }
  /** Namespaces the upstream reported (completion of `:profiles`). */
  | { readonly type: "namespaces"; readonly codes: ReadonlyArray<string> }
  | { readonly type: "readOnly" }
  | { readonly type: "quit" }
  | { readonly type: "batch"; readonly actions: ReadonlyArray<AppAction> }

