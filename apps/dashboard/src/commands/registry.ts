/**
 * The `:` command line: a registry of commands with aliases, a description,
 * `canExecute` and completion. A command turns its arguments into reducer
 * actions, so running one is pure and testable; the reducer applies them.
 */
import { namespaceCode, standardNamespaces } from "../format.js"
import { currentRoute, diffRoute, explainRoute, permalink } from "../state/routes.js"
import type { AppAction, AppState, Identity, Route } from "../state/types.js"
import { views } from "../state/views.js"

export interface Command {
  readonly id: string
  readonly aliases: ReadonlyArray<string>
  readonly description: string
  /** Shown in help and completion: `<name>`, `[namespace id]`. */
  readonly args?: string | undefined
  /** `true`, or why the command cannot run now. */
  readonly canExecute?: ((state: AppState) => true | string) | undefined
  /** Candidates for the argument being typed. */
  readonly complete?: ((arg: string, state: AppState) => ReadonlyArray<string>) | undefined
  readonly run: (args: ReadonlyArray<string>, state: AppState) => ReadonlyArray<AppAction> | { readonly error: string }
}

/** Every namespace worth offering: AEP's standard ones, those the upstream reported, those looked up. */
export const namespaceCandidates = (state: AppState): ReadonlyArray<string> => {
  const byLower = new Map<string, string>()
  for (const code of [...state.recents.map((r) => r.namespace), ...state.namespaces, ...standardNamespaces]) {
    const canonical = namespaceCode(code)
    if (!byLower.has(canonical.toLowerCase())) byLower.set(canonical.toLowerCase(), canonical)
  }
  return [...byLower.values()]
}

const profileCommand = (view: (typeof views)[number], route: (identity: Identity) => Route): Command => ({
  id: view.id,
  aliases: view.aliases,
  description: `${view.description}; with arguments, of that profile`,
  args: "[namespace id]",
  complete: (_arg, state) => namespaceCandidates(state),
  run: (args) => {
    if (args.length === 0) return [{ type: "goto", view: view.id }]
    if (args.length < 2) return { error: `usage: :${view.id} NAMESPACE ID (e.g. :${view.id} Email jane.doe@example.com)` }
    const identity = { namespace: args[0]!, id: args.slice(1).join(" ") }
    if (view.id === "profiles") return [{ type: "request", intent: { kind: "lookupProfile", ...identity } }]
    return [{ type: "goto", view: view.id }, { type: "push", route: route(identity) }]
  }
})

const viewCommands: ReadonlyArray<Command> = views.map((view) =>
  view.id === "profiles" || view.id === "diff" || view.id === "explain"
    ? profileCommand(view, view.id === "diff" ? diffRoute : explainRoute)
    : {
        id: view.id,
        aliases: view.aliases,
        description: view.description,
        run: (args) => (args.length > 0 ? { error: `:${view.id} takes no argument` } : [{ type: "goto", view: view.id }])
      }
)

export const commands: ReadonlyArray<Command> = [
  ...viewCommands,
  {
    id: "sandbox",
    aliases: ["sb", "ctx", "context"],
    description: "Switch sandbox (x-sandbox-name) for every view",
    args: "<name>",
    complete: (_arg, state) => state.sandboxes,
    run: (args) => (args.length !== 1 ? { error: "usage: :sandbox NAME (e.g. :sandbox dev)" } : [{ type: "sandbox", name: args[0]! }])
  },
  {
    id: "link",
    aliases: ["permalink", "url"],
    description: "Copy the permalink of this screen (the command line that opens it again)",
    run: (_args, state) => [{ type: "copy", what: "the permalink", text: permalink(currentRoute(state), state.sandbox) }]
  },
  {
    id: "refresh",
    aliases: ["reload"],
    description: "Fetch everything on screen again now",
    run: () => [{ type: "refresh" }]
  },
  {
    id: "readonly",
    aliases: ["ro"],
    description: "Turn read-only on for the rest of the session (writes are refused)",
    canExecute: (state) => (state.readOnly ? "already read-only" : true),
    run: () => [{ type: "readOnly" }]
  },
  {
    id: "help",
    aliases: ["h", "keys"],
    description: "Keys and commands",
    run: () => [{ type: "help" }]
  },
  {
    id: "quit",
    aliases: ["q", "q!", "exit"],
    description: "Quit (stops the local service it started)",
    run: () => [{ type: "quit" }]
  }
]

// ---------------------------------------------------------------------------
// lookup, execution, completion
// ---------------------------------------------------------------------------

const names = (command: Command) => [command.id, ...command.aliases]

export const find = (name: string): Command | undefined => {
  const lower = name.toLowerCase()
  return commands.find((command) => names(command).some((n) => n.toLowerCase() === lower))
}

export const parse = (line: string): { readonly name: string; readonly args: ReadonlyArray<string> } => {
  const parts = line.trim().replace(/^:/, "").trim().split(/\s+/).filter((part) => part !== "")
  return { name: parts[0] ?? "", args: parts.slice(1) }
}

export const canExecute = (command: Command, state: AppState): true | string => command.canExecute?.(state) ?? true

export const execute = (line: string, state: AppState): { readonly actions: ReadonlyArray<AppAction> } | { readonly error: string } => {
  const { name, args } = parse(line)
  if (name === "") return { actions: [] }
  const command = find(name)
  if (!command) return { error: `unknown command :${name} (Tab completes, ? lists them)` }
  const allowed = canExecute(command, state)
  if (allowed !== true) return { error: `:${command.id}: ${allowed}` }
  const result = command.run(args, state)
  return "error" in result ? result : { actions: result }
}

const commonPrefix = (values: ReadonlyArray<string>): string => {
  if (values.length === 0) return ""
  let prefix = values[0]!
  for (const value of values) {
    while (!value.toLowerCase().startsWith(prefix.toLowerCase())) prefix = prefix.slice(0, -1)
  }
  return prefix
}

/**
 * Tab on the command line: one candidate completes it (with a space when
 * an argument follows), several complete their common prefix and are
 * listed.
 */
export const complete = (line: string, state: AppState): { readonly text: string; readonly candidates: ReadonlyArray<string> } => {
  const space = line.search(/\s/)
  if (space < 0) {
    const prefix = line.toLowerCase()
    const available = commands.filter((command) => canExecute(command, state) === true)
    const candidates = [
      ...new Set(available.flatMap((command) => names(command)).filter((name) => name.toLowerCase().startsWith(prefix)))
    ].sort((a, b) => a.length - b.length || a.localeCompare(b))
    if (candidates.length === 0) return { text: line, candidates: [] }
    if (candidates.length === 1) {
      const command = find(candidates[0]!)!
      return { text: candidates[0]! + (command.args ? " " : ""), candidates: [] }
    }
    const ids = [...new Set(candidates.map((name) => find(name)!.id))]
    if (ids.length === 1) {
      const command = find(ids[0]!)!
      return { text: command.id + (command.args ? " " : ""), candidates: [] }
    }
    return { text: commonPrefix(candidates).length > line.length ? commonPrefix(candidates) : line, candidates }
  }
  const command = find(line.slice(0, space))
  const head = line.slice(0, space + 1)
  const arg = line.slice(space + 1)
  if (!command?.complete || arg.includes(" ")) return { text: line, candidates: [] }
  const candidates = command.complete(arg, state).filter((value) => value.toLowerCase().startsWith(arg.toLowerCase()))
  if (candidates.length === 0) return { text: line, candidates: [] }
  if (candidates.length === 1) return { text: head + candidates[0]!, candidates: [] }
  const prefix = commonPrefix(candidates)
  return { text: head + (prefix.length > arg.length ? prefix : arg), candidates }
}

/** The rest of the single candidate, shown dimmed after the cursor. */
export const suggestion = (line: string, state: AppState): string => {
  if (line === "") return ""
  const result = complete(line, state)
  return result.candidates.length === 0 && result.text.startsWith(line) ? result.text.slice(line.length) : ""
}
