/**
 * The dashboard's views, one per endpoint family, and the panes inside them.
 * Commands (`:policies`), number keys and the help overlay read this table.
 */

export const viewIds = ["overview", "profiles", "policies", "jobs", "attributes", "edge", "messages", "requests", "explain", "diff"] as const
export type ViewId = (typeof viewIds)[number]

export interface ViewSpec {
  readonly id: ViewId
  readonly title: string
  /** The number key that opens it. */
  readonly key?: string | undefined
  /** `:` command aliases besides the id. */
  readonly aliases: ReadonlyArray<string>
  readonly description: string
  /** Panes of the list route, switched with Tab. */
  readonly panes: ReadonlyArray<string>
  /** Panes of the detail route. */
  readonly detailPanes: ReadonlyArray<string>
}

export const views: ReadonlyArray<ViewSpec> = [
  {
    id: "overview",
    key: "1",
    title: "Overview",
    aliases: ["ov", "status", "sample"],
    description: "Preview sample status, profiles by dataset and namespace, overlaps",
    panes: [],
    detailPanes: []
  },
  {
    id: "profiles",
    key: "2",
    title: "Profiles",
    aliases: ["profile", "pr", "entities", "lookup"],
    description: "Look up a profile: merged attributes, identities, events, computed attributes",
    panes: [],
    detailPanes: ["Attributes", "Identities", "Events", "Computed"]
  },
  {
    id: "policies",
    key: "3",
    title: "Merge policies",
    aliases: ["mp", "merge", "mergepolicies", "policy"],
    description: "Merge policies: list, detail, set default, create, edit, delete",
    panes: [],
    detailPanes: []
  },
  {
    id: "jobs",
    key: "4",
    title: "Jobs",
    aliases: ["job", "sj", "ej", "exports", "systemjobs"],
    description: "System (delete) jobs and export jobs with live progress",
    panes: ["System jobs", "Export jobs"],
    detailPanes: []
  },
  {
    id: "attributes",
    key: "5",
    title: "Computed attributes",
    aliases: ["ca", "computed", "attrs"],
    description: "Computed attributes: list, detail, create, delete",
    panes: [],
    detailPanes: []
  },
  {
    id: "edge",
    key: "6",
    title: "Edge",
    aliases: ["projections", "destinations", "proj", "dest"],
    description: "Edge projection destinations and configurations: list, detail, create, delete",
    panes: ["Destinations", "Projections"],
    detailPanes: []
  },
  {
    id: "messages",
    key: "7",
    title: "Messages",
    aliases: ["msg", "log", "errors"],
    description: "Every status line, error and upstream request id of this session, in full, newest first",
    panes: [],
    detailPanes: []
  },
  {
    id: "requests",
    key: "8",
    title: "Requests",
    aliases: ["req", "inspector", "traffic"],
    description: "The local service's request inspector, live: every call with its full request and response (needs --admin)",
    panes: [],
    detailPanes: []
  },
  {
    id: "explain",
    key: "9",
    title: "Explain",
    aliases: ["why"],
    description: "Why a profile looks the way it does: the winning fragment of each value and how identities joined (local service)",
    panes: [],
    detailPanes: ["Attributes", "Identities"]
  },
  {
    id: "diff",
    title: "Diff",
    aliases: ["compare"],
    description: "One profile merged under two merge policies, side by side, differences highlighted",
    panes: [],
    detailPanes: []
  }
]

export const viewSpec = (id: ViewId): ViewSpec => views.find((view) => view.id === id)!

export const isViewId = (value: string): value is ViewId => (viewIds as ReadonlyArray<string>).includes(value)
