/**
 * Merging fragments into one profile, as a merge policy says.
 *
 * Conflicts are resolved per leaf attribute: objects merge field by field,
 * arrays count as one value (Adobe does not document array handling; whole
 * replacement is what users expect), and `identityMap` is the union of every
 * fragment's identities.
 *
 * @since 0.1.0
 */

export interface Fragment {
  readonly datasetId: string
  readonly data: Record<string, unknown>
  readonly ingestedAt: number
  readonly customTimestamp: number | null
}

export type AttributeMerge =
  | { readonly type: "timestampOrdered" }
  | { readonly type: "dataSetPrecedence"; readonly order: ReadonlyArray<string> }

export interface Merged {
  readonly entity: Record<string, unknown>
  readonly sources: ReadonlyArray<string>
  readonly lastModifiedAt: number
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Writes `source` over `target` leaf by leaf (target is mutated: it is always a fresh copy). */
export const deepAssign = (target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> => {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key]
    if (isObject(value) && isObject(current)) {
      target[key] = deepAssign({ ...current }, value)
    } else if (isObject(value)) {
      target[key] = deepAssign({}, value)
    } else {
      target[key] = value
    }
  }
  return target
}

const unionIdentityMaps = (fragments: ReadonlyArray<Fragment>): Record<string, Array<unknown>> | undefined => {
  const union: Record<string, Array<unknown>> = {}
  const seen = new Set<string>()
  let any = false
  for (const fragment of fragments) {
    const map = fragment.data.identityMap
    if (!isObject(map)) continue
    for (const [ns, entries] of Object.entries(map)) {
      if (!Array.isArray(entries)) continue
      for (const entry of entries) {
        const id = isObject(entry) ? entry.id : undefined
        const key = `${ns.toLowerCase()}\u0000${String(id)}`
        if (seen.has(key)) continue
        seen.add(key)
        any = true
        ;(union[ns] ??= []).push(entry)
      }
    }
  }
  return any ? union : undefined
}

/**
 * The time that orders a fragment under `timestampOrdered`: the custom
 * timestamp (`extSourceSystemAudit.lastUpdatedDate`) when the record has
 * one, else the ingestion time.
 */
export const effectiveTime = (fragment: Fragment): number => fragment.customTimestamp ?? fragment.ingestedAt

/**
 * The fragments a policy merges, in the order they are applied (the last
 * applied wins each attribute). `merge` and `explain` both start here, so
 * an explanation always describes the merged profile.
 */
export const applicationOrder = <F extends Fragment>(fragments: ReadonlyArray<F>, policy: AttributeMerge): Array<F> => {
  if (policy.type === "dataSetPrecedence") {
    // Datasets missing from `order` are not merged at all; the first listed wins,
    // so it is applied last.
    const rank = new Map(policy.order.map((id, index) => [id, index] as const))
    return fragments
      .filter((fragment) => rank.has(fragment.datasetId))
      .sort((a, b) => rank.get(b.datasetId)! - rank.get(a.datasetId)! || a.ingestedAt - b.ingestedAt)
  }
  return [...fragments].sort((a, b) => effectiveTime(a) - effectiveTime(b) || a.ingestedAt - b.ingestedAt)
}

export const merge = (fragments: ReadonlyArray<Fragment>, policy: AttributeMerge): Merged => {
  const ordered = applicationOrder(fragments, policy)
  const entity: Record<string, unknown> = {}
  const sources: Array<string> = []
  let lastModifiedAt = 0
  for (const fragment of ordered) {
    const { identityMap: _identityMap, ...attributes } = fragment.data
    deepAssign(entity, attributes)
    if (!sources.includes(fragment.datasetId)) sources.push(fragment.datasetId)
    lastModifiedAt = Math.max(lastModifiedAt, fragment.ingestedAt)
  }
  const identityMap = unionIdentityMaps(ordered)
  if (identityMap) entity.identityMap = identityMap
  return { entity, sources, lastModifiedAt }
}

/** One attribute of a merged profile: the fragment that supplied it and the values it beat. */
export interface ExplainedAttribute<F extends Fragment> {
  /** Dot path, e.g. `person.name.firstName`. */
  readonly path: string
  readonly value: unknown
  readonly source: F
  /** What the other fragments held there, in the order they were applied. */
  readonly beaten: ReadonlyArray<{ readonly value: unknown; readonly source: F }>
}

/**
 * Which fragment supplied each leaf attribute of `merge(fragments, policy)`.
 * It replays `deepAssign` over the same application order, keeping who wrote
 * each leaf: a leaf beats the leaf it overwrites and, where a value replaces
 * an object (or an object a value), everything it replaces. `identityMap` is
 * a union, not a contest: it is left out.
 */
export const explain = <F extends Fragment>(fragments: ReadonlyArray<F>, policy: AttributeMerge): Array<ExplainedAttribute<F>> => {
  type Entry = { value: unknown; source: F; beaten: Array<{ readonly value: unknown; readonly source: F }> }
  // Leaf entries by path (segments joined with NUL: keys may contain dots).
  const leaves = new Map<string, Entry>()
  const SEP = "\u0000"
  /** Removes and returns the leaves at `key` and below it. */
  const takeUnder = (key: string) => {
    const taken: Array<{ readonly value: unknown; readonly source: F }> = []
    for (const [path, entry] of leaves) {
      if (path === key || path.startsWith(key + SEP)) {
        taken.push(...entry.beaten, { value: entry.value, source: entry.source })
        leaves.delete(path)
      }
    }
    return taken
  }
  const walk = (source: Record<string, unknown>, target: Record<string, unknown>, prefix: string, fragment: F, inherited: Array<{ readonly value: unknown; readonly source: F }>) => {
    for (const [key, value] of Object.entries(source)) {
      const path = prefix === "" ? key : prefix + SEP + key
      const current = target[key]
      if (isObject(value) && isObject(current)) {
        walk(value, current, path, fragment, inherited)
      } else if (isObject(value)) {
        // An object replaces a value (or nothing): what stood there is beaten by what the object brings.
        const lost = [...inherited, ...takeUnder(path)]
        const fresh: Record<string, unknown> = {}
        target[key] = fresh
        walk(value, fresh, path, fragment, lost)
      } else {
        const lost = [...inherited, ...takeUnder(path)]
        target[key] = value
        leaves.set(path, { value, source: fragment, beaten: lost })
      }
    }
  }
  const shadow: Record<string, unknown> = {}
  for (const fragment of applicationOrder(fragments, policy)) {
    const { identityMap: _identityMap, ...attributes } = fragment.data
    walk(attributes, shadow, "", fragment, [])
  }
  return [...leaves].map(([path, entry]) => ({
    path: path.split(SEP).join("."),
    value: entry.value,
    source: entry.source,
    beaten: entry.beaten
  }))
}

/**
 * `fields` projection: keeps the listed dot paths (and their parents), drops
 * everything else. `identities` is a path like any other.
 */
export const project = (entity: Record<string, unknown>, fields: ReadonlyArray<string>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const field of fields) {
    const path = field.trim().split(".").filter((part) => part !== "")
    if (path.length === 0) continue
    let source: unknown = entity
    for (const part of path) source = isObject(source) ? source[part] : undefined
    if (source === undefined) continue
    let target = out
    for (const part of path.slice(0, -1)) {
      const next = isObject(target[part]) ? (target[part] as Record<string, unknown>) : {}
      target[part] = next
      target = next
    }
    const leaf = path[path.length - 1]!
    target[leaf] = isObject(source) && isObject(target[leaf]) ? deepAssign(target[leaf] as Record<string, unknown>, source) : source
  }
  return out
}

/** Reads a dot path of an XDM object (`commerce.order.priceTotal`). */
export const pathValue = (data: unknown, path: string): unknown => {
  let value: unknown = data
  for (const part of path.split(".")) {
    if (!isObject(value)) return undefined
    value = value[part]
  }
  return value
}
