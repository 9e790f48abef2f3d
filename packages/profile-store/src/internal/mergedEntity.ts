import type { IdentityRow } from "../IdentityGraph.js"
import { type AttributeMerge, effectiveTime, type Fragment, merge, type Merged } from "../Merge.js"

export interface FragmentRow {
  readonly identityId: number
  readonly fragment: Fragment
}

/** The identity that keys the most recent fragment: the profile's primary identity. */
export const primaryOf = (rows: ReadonlyArray<FragmentRow>, fallbackPrimaryId: number): number => {
  let latest: FragmentRow | undefined
  for (const row of rows) {
    if (latest === undefined || effectiveTime(row.fragment) > effectiveTime(latest.fragment)) latest = row
  }
  return latest?.identityId ?? fallbackPrimaryId
}

/**
 * The merged entity as lookups and exports show it: the fragments merged by
 * the policy, plus `identities` listing the graph's members, the primary one
 * being the identity that keys the most recent fragment.
 */
export const mergedEntity = (
  rows: ReadonlyArray<FragmentRow>,
  members: ReadonlyArray<IdentityRow>,
  attributeMerge: AttributeMerge,
  fallbackPrimaryId: number
): { readonly merged: Merged; readonly entity: Record<string, unknown> } => {
  const merged = merge(rows.map((row) => row.fragment), attributeMerge)
  const primaryId = primaryOf(rows, fallbackPrimaryId)
  const entity: Record<string, unknown> = {
    ...merged.entity,
    identities: members.map((member) => ({
      id: member.value,
      namespace: { code: member.ns },
      ...(member.id === primaryId ? { primary: true } : {})
    }))
  }
  return { merged, entity }
}
