/**
 * Pure parts of the sample job: namespace codes and ids, report dates, the
 * per-profile fold and the scaling of a sample.
 */

/** AEP's spelling and identity namespace id of the standard namespaces the examples show. */
const STANDARD: Readonly<Record<string, { readonly code: string; readonly id: string }>> = {
  ecid: { code: "ECID", id: "4" },
  email: { code: "Email", id: "6" },
  phone: { code: "Phone", id: "7" },
  aaid: { code: "AAID", id: "10" }
}

/**
 * The code a report shows for a stored (lower-case) namespace: AEP's spelling
 * for the standard ones, the lower-case code otherwise (AEP's own overlap
 * example shows `AAID,ECID,Email,crmid`).
 */
export const namespaceCode = (nsKey: string): string => STANDARD[nsKey]?.code ?? nsKey

/**
 * The namespace id a report shows: AEP's id for the standard ones, otherwise a
 * stable id derived from the code (FNV-1a, in 1000–9999999 so it never
 * collides with a standard id), the same in every store and every run.
 */
export const namespaceId = (nsKey: string): string => {
  const standard = STANDARD[nsKey]
  if (standard) return standard.id
  let hash = 0x811c9dc5
  for (let i = 0; i < nsKey.length; i++) {
    hash ^= nsKey.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return String(1000 + (hash % 9_999_000))
}

/** The UTC day (`YYYY-MM-DD`) a sample belongs to. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/** `date` if it is a real calendar day written `YYYY-MM-DD`, else undefined. */
export const parseDay = (date: string): string | undefined => {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  if (!match) return undefined
  const year = Number(match[1])
  if (year < 1000) return undefined
  const parsed = new Date(Date.UTC(year, Number(match[2]) - 1, Number(match[3])))
  return parsed.toISOString().slice(0, 10) === date ? date : undefined
}

/** The unstitched report's windows: a profile is counted in a window when it had no event in it. */
export const WINDOWS: ReadonlyArray<readonly [name: string, days: number]> = [
  ["7days", 7],
  ["30days", 30],
  ["60days", 60],
  ["90days", 90],
  ["120days", 120]
]

const DAY_MS = 86_400_000

// ---------------------------------------------------------------------------
// The fold over profiles
// ---------------------------------------------------------------------------

/** What the job knows about one merged profile once its page is read. */
export interface ProfileFacts {
  /** Datasets holding at least one fragment or event of the profile. */
  readonly datasets: ReadonlySet<string>
  /** Report codes of the namespaces of the profile's identities. */
  readonly namespaces: ReadonlySet<string>
  /** Record fragments plus event fragments (one per dataset and primary identity). */
  readonly fragments: number
  /** Stored documents: record fragments plus events. */
  readonly documents: number
  readonly events: number
  /** Time of the newest event, if any. */
  readonly lastEvent: number | undefined
  /** Report code of the primary identity of the profile's fragment, when it has exactly one. */
  readonly fragmentNamespace: string | undefined
}

/** Figures over the profiles read (the whole store, or the sample). */
export interface Tally {
  profiles: number
  fragments: number
  documents: number
  events: number
  readonly byDataset: Map<string, number>
  readonly byNamespace: Map<string, number>
  /** Fragments by the report code of their primary identity's namespace. */
  readonly fragmentsByNamespace: Map<string, number>
  readonly datasetOverlap: Map<string, number>
  readonly namespaceOverlap: Map<string, number>
  /** Window → namespace code → unstitched profiles and their events. */
  readonly unstitched: Map<string, Map<string, { profiles: number; events: number }>>
}

export const emptyTally = (): Tally => ({
  profiles: 0,
  fragments: 0,
  documents: 0,
  events: 0,
  byDataset: new Map(),
  byNamespace: new Map(),
  fragmentsByNamespace: new Map(),
  datasetOverlap: new Map(),
  namespaceOverlap: new Map(),
  unstitched: new Map(WINDOWS.map(([name]) => [name, new Map()]))
})

const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by)

/** ASCII order (upper case before lower), as AEP sorts overlap keys. */
const asciiSorted = (values: Iterable<string>) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))

export const overlapKey = (values: Iterable<string>) => asciiSorted(values).join(",")

/** Adds one profile to the tally; `sampledAt` anchors the unstitched windows. */
export const addProfile = (tally: Tally, profile: ProfileFacts, sampledAt: number): void => {
  tally.profiles += 1
  tally.fragments += profile.fragments
  tally.documents += profile.documents
  tally.events += profile.events
  for (const dataset of profile.datasets) bump(tally.byDataset, dataset)
  for (const code of profile.namespaces) bump(tally.byNamespace, code)
  bump(tally.datasetOverlap, overlapKey(profile.datasets))
  bump(tally.namespaceOverlap, overlapKey(profile.namespaces))
  if (profile.fragments !== 1) return
  const code = profile.fragmentNamespace ?? "unknown"
  for (const [name, days] of WINDOWS) {
    if (profile.lastEvent !== undefined && profile.lastEvent >= sampledAt - days * DAY_MS) continue
    const byNamespace = tally.unstitched.get(name)!
    const entry = byNamespace.get(code) ?? { profiles: 0, events: 0 }
    entry.profiles += 1
    entry.events += profile.events
    byNamespace.set(code, entry)
  }
}

/**
 * Scales counts read over a sample to the whole store, keeping the total
 * exact: each key gets the floor of its share and the remaining units go to
 * the largest remainders (ties by key), so the values sum to `total`.
 */
export const apportion = (counts: ReadonlyMap<string, number>, sampled: number, total: number): Map<string, number> => {
  if (sampled === total) return new Map(counts)
  if (sampled === 0) return new Map()
  const shares = [...counts].map(([key, n]) => {
    const exact = (n * total) / sampled
    return { key, floor: Math.floor(exact), rest: exact - Math.floor(exact) }
  })
  let left = total - shares.reduce((sum, share) => sum + share.floor, 0)
  const byRest = [...shares].sort((a, b) => b.rest - a.rest || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const out = new Map(shares.map((share) => [share.key, share.floor]))
  for (const share of byRest) {
    if (left <= 0) break
    out.set(share.key, share.floor + 1)
    left -= 1
  }
  return out
}

/** `n` read over the sample, scaled to the store. */
export const scale = (n: number, factor: number): number => Math.round(n * factor)
