import type { IdentityLink, IdentityRow } from "../IdentityGraph.js"

/** How one member of a graph joined it: the link that first connected it to the members before it. */
export interface Joined {
  readonly member: IdentityRow
  /** Undefined for the root (the primary identity) and for a member no stored link reaches. */
  readonly link: { readonly edge: IdentityLink; readonly linkedTo: IdentityRow } | undefined
}

const earlier = (a: IdentityLink, b: IdentityLink) =>
  a.firstSeen - b.firstSeen || a.lastSeen - b.lastSeen || a.identityId - b.identityId || a.linkedId - b.linkedId

/**
 * Walks the graph from `rootId`, oldest links first (Prim's order by
 * `firstSeen`): each member is explained by the earliest link that connects
 * it to a member already reached. Graphs have at most a few dozen members.
 */
export const joins = (members: ReadonlyArray<IdentityRow>, links: ReadonlyArray<IdentityLink>, rootId: number): Array<Joined> => {
  const byId = new Map(members.map((member) => [member.id, member] as const))
  const edges = links.filter((link) => byId.has(link.identityId) && byId.has(link.linkedId)).sort(earlier)
  const reached = new Map<number, Joined>()
  const root = byId.get(rootId)
  if (root !== undefined) reached.set(root.id, { member: root, link: undefined })
  for (;;) {
    const next = edges.find((edge) => reached.has(edge.identityId) !== reached.has(edge.linkedId))
    if (next === undefined) break
    const [from, to] = reached.has(next.identityId) ? [next.identityId, next.linkedId] : [next.linkedId, next.identityId]
    reached.set(to, { member: byId.get(to)!, link: { edge: next, linkedTo: byId.get(from)! } })
  }
  return members.map((member) => reached.get(member.id) ?? { member, link: undefined })
}
