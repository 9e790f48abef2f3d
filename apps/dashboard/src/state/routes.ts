/**
 * Routes as words: every screen has a permalink, the arguments that open it
 * again (`npm start -- profiles Email jane.doe@example.com`). The same words
 * come back through `routeFromArgs` when the dashboard starts.
 */
import type { AppState, Identity, Route } from "./types.js"
import { isViewId, type ViewId, views } from "./views.js"

/** The route on screen (the last breadcrumb). */
export const currentRoute = (state: AppState): Route => state.stack[state.stack.length - 1]!

export const identityKey = (identity: Identity) => `${identity.namespace}:${identity.id}`

export const profileRoute = (identity: Identity): Route => ({ view: "profiles", detail: { id: identityKey(identity), label: identityKey(identity) } })
export const diffRoute = (identity: Identity): Route => ({ view: "diff", detail: { id: identityKey(identity), label: `diff ${identityKey(identity)}` } })
export const explainRoute = (identity: Identity): Route => ({
  view: "explain",
  detail: { id: identityKey(identity), label: `explain ${identityKey(identity)}` }
})

/** Views whose items are profiles (namespace and id). */
const profileViews: ReadonlyArray<ViewId> = ["profiles", "diff", "explain"]
/** Views whose detail ids are `kind:id` (the kind is a word of the permalink). */
const kindViews: Readonly<Partial<Record<ViewId, ReadonlyArray<string>>>> = { jobs: ["system", "export"], edge: ["destination", "projection"] }

/** The words of a route (its view, then what identifies the item). */
export const routeArgs = (route: Route): ReadonlyArray<string> => {
  const detail = route.detail
  // An event opened from a timeline has no address of its own.
  if (!detail || detail.id.startsWith("#")) return [route.view]
  if (profileViews.includes(route.view) || kindViews[route.view]) {
    const at = detail.id.indexOf(":")
    return [route.view, detail.id.slice(0, at), detail.id.slice(at + 1)]
  }
  if (route.view === "requests") return [route.view, detail.id]
  return [route.view, detail.id]
}

const quote = (word: string) => (/^[\w@.:+\-/=,]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)

/** The command line that opens this route (and this sandbox) again. */
export const permalink = (route: Route, sandbox: string): string =>
  ["npm", "start", "--", ...(sandbox === "prod" ? [] : ["--sandbox", sandbox]), ...routeArgs(route)].map(quote).join(" ")

const viewNamed = (word: string): ViewId | undefined => {
  const lower = word.toLowerCase()
  if (isViewId(lower)) return lower
  return views.find((view) => view.aliases.includes(lower))?.id
}

/**
 * The breadcrumbs a permalink opens: the view's list, then the item when
 * one is named. Wrong words get a message that says what to type.
 */
export const routeFromArgs = (args: ReadonlyArray<string>): { readonly stack: ReadonlyArray<Route> } | { readonly error: string } => {
  if (args.length === 0) return { stack: [{ view: "overview" }] }
  const view = viewNamed(args[0]!)
  if (!view) return { error: `"${args[0]}" is not a view: use one of ${views.map((v) => v.id).join(", ")}` }
  const rest = args.slice(1)
  if (rest.length === 0) return { stack: [{ view }] }
  if (profileViews.includes(view)) {
    if (rest.length < 2) return { error: `${view} takes a namespace and an identity, e.g. ${view} Email jane.doe@example.com` }
    const identity = { namespace: rest[0]!, id: rest.slice(1).join(" ") }
    const item = view === "profiles" ? profileRoute(identity) : view === "diff" ? diffRoute(identity) : explainRoute(identity)
    return { stack: [{ view }, item] }
  }
  const kinds = kindViews[view]
  if (kinds) {
    if (rest.length !== 2 || !kinds.includes(rest[0]!)) return { error: `${view} takes ${kinds.join(" or ")} and an id, e.g. ${view} ${kinds[0]} ID` }
    return { stack: [{ view }, { view, detail: { id: `${rest[0]}:${rest[1]}`, label: `${rest[0]} ${rest[1]}` } }] }
  }
  if (view === "policies" || view === "attributes" || view === "requests") {
    if (rest.length !== 1) return { error: `${view} takes one id` }
    return { stack: [{ view }, { view, detail: { id: rest[0]!, label: rest[0]! } }] }
  }
  return { error: `${view} takes no argument` }
}
