/**
 * The intent runner: approved intents (the reducer's queue) become core
 * effects, run in the sandbox they were asked in, and their outcome goes
 * back to the status line. The only place the dashboard writes upstream;
 * what each kind calls is its row of `intentTable`.
 */
import { Platform, ProfileClient, type ProfileError } from "@rtcp/core"
import { Cause, Effect, Exit, Option } from "effect"
import { describeError, requestIdOf } from "./format.js"
import { type DashboardRuntime, runExit } from "./runtime.js"
import { describe, type Intent, removes, specOf } from "./state/intents.js"
import type { AppAction, AppState } from "./state/types.js"

/** The core effect of an intent; it answers the sentence the status line shows. */
export const run = (intent: Intent): Effect.Effect<string, ProfileError.ProfileError, ProfileClient.ProfileClient> =>
  Effect.flatMap(ProfileClient.ProfileClient, (client) => specOf(intent).run(intent, client))

export interface RunnerContext {
  readonly runtime: DashboardRuntime
  readonly dispatch: (action: AppAction) => void
  /** The state as of now (the route may have changed while the intent ran). */
  readonly current: () => AppState
}

type Queued = AppState["queue"][number]

/**
 * Runs one queued intent: says it is busy, then what came of it. A success
 * leaves the detail of what it removed and refreshes; a refused create or
 * edit reopens its form with the reason, nothing typed is lost.
 */
export const runQueued = (context: RunnerContext, item: Queued, sandbox: string): Promise<void> => {
  const { dispatch, current } = context
  dispatch({ type: "dequeue", id: item.id })
  dispatch({ type: "status", status: { kind: "busy", text: `${describe(item.intent)}…` } })
  return runExit(context.runtime, Platform.withSandbox(run(item.intent), sandbox)).then((result) => {
    if (Exit.isSuccess(result)) {
      dispatch({ type: "status", status: { kind: "info", text: result.value } })
      const removed = removes(item.intent)
      const state = current()
      if (removed !== undefined && state.stack[state.stack.length - 1]?.detail?.id === removed) dispatch({ type: "pop" })
      dispatch({ type: "refresh" })
      return
    }
    const failure = Cause.failureOption(result.cause)
    const error = Option.isSome(failure) ? failure.value : Cause.squash(result.cause)
    const requestId = requestIdOf(error)
    dispatch({ type: "status", status: { kind: "error", text: describeError(error), ...(requestId ? { requestId } : {}) } })
    if (item.form && current().mode === "normal") {
      dispatch({ type: "formOpen", form: { ...item.form, error: describeError(error) }, write: true })
    }
  })
}
