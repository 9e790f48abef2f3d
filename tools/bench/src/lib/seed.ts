/** The seeded data every benchmark uses: the Luma datasets of `packages/seed`, at a fixed anchor and seed. */
import { customer, datasets, type DatasetSpec, records } from "@rtcp/seed"

export const SANDBOX = "prod"
export const SEED = 1
/** Fixed, so every run ingests byte-identical records. */
export const ANCHOR = new Date("2025-06-01T00:00:00Z")

export { datasets, type DatasetSpec }

export const recordsOf = (key: DatasetSpec["key"], profiles: number) => records(key, { profiles, anchor: ANCHOR, seed: SEED })

export const isEventDataset = (spec: DatasetSpec) => spec.schemaClass.endsWith("/experienceevent")

/**
 * `count` customers spread evenly over the store who have a CRM record (so
 * their profile exists), as Email identities: the lookups' working set.
 */
export const lookupIdentities = (profiles: number, count: number): Array<{ readonly namespace: string; readonly id: string }> => {
  const out: Array<{ namespace: string; id: string }> = []
  // k × 7919 (a prime) mod n visits every customer once, spread over the whole range.
  const step = profiles % 7919 === 0 ? 7907 : 7919
  for (let k = 0; out.length < count && k < profiles; k++) {
    const c = customer((k * step) % profiles, SEED)
    if (c.crmUpdatedSecondsAgo !== undefined) out.push({ namespace: "Email", id: c.email })
  }
  return out
}
