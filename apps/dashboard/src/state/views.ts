/**
 * The dashboard's views, one per endpoint family, and the panes inside them.
 * Commands (`:policies`), number keys and the help overlay read this table.
 */

export const viewIds = ["overview", "profiles", "policies", "jobs", "attributes", "edge"] as const
export type ViewId = (typeof viewIds)[number]

export interface ViewSpec {
  readonly id: ViewId
  readonly title: string
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
    title: "Overview",
    aliases: ["ov", "status", "sample"],
    description: "Preview sample status, profiles by dataset and namespace, overlaps",
    panes: [],
    detailPanes: []
  },
  {
    id: "profiles",
    title: "Profiles",
    aliases: ["profile", "pr", "entities", "lookup"],
    description: "Look up a profile: merged attributes, identities, events, computed attributes",
    panes: [],
    detailPanes: ["Attributes", "Identities", "Events", "Computed"]
  },
  {
    id: "policies",
    title: "Merge policies",
    aliases: ["mp", "merge", "mergepolicies", "policy"],
    description: "Merge policies: list, detail, set default, create, edit, delete",
    panes: [],
    detailPanes: []
  },
  {
    id: "jobs",
    title: "Jobs",
    aliases: ["job", "sj", "ej", "exports", "systemjobs"],
    description: "System (delete) jobs and export jobs with live progress",
    panes: ["System jobs", "Export jobs"],
    detailPanes: []
  },
  {
    id: "attributes",
    title: "Computed attributes",
    aliases: ["ca", "computed", "attrs"],
    description: "Computed attributes: list, detail, create, delete",
    panes: [],
    detailPanes: []
  },
  {
    id: "edge",
    title: "Edge",
    aliases: ["projections", "destinations", "proj", "dest"],
    description: "Edge projection destinations and configurations: list, detail, create, delete",
    panes: ["Destinations", "Projections"],
    detailPanes: []
  }
]

export const viewSpec = (id: ViewId): ViewSpec => views.find((view) => view.id === id)!

export const isViewId = (value: string): value is ViewId => (viewIds as ReadonlyArray<string>).includes(value)
