/**
 * Diff: one profile merged under two merge policies, side by side. Two
 * ordinary lookups (so it works against Adobe too); every attribute and
 * identity is a row, the ones that differ first and highlighted. A side's
 * identities are its graph as the Identities tab shows it: the merged
 * profile's, plus those only its experience events carry. `p` steps the
 * right-hand policy, `P` the left-hand one.
 */
import { Identity, type MergePolicy, ProfileClient } from "@rtcp/core"
import { Box, Text } from "ink"
import { Effect, Predicate } from "effect"
import { useMemo, useState } from "react"
import { type Column, Table } from "../components/Table.js"
import { describeError, inline, namespaceCode, plural } from "../format.js"
import { useApp, useLiveData } from "../runtime.js"
import { parseIdentityKey, route } from "../state/reducer.js"
import type { Identity as IdentityRef } from "../state/types.js"
import { theme } from "../theme.js"
import { collect, TitleLine, useFreshness, type ViewProps } from "./common.js"
import { identitiesInEvents, identitiesOf, mergeIdentities, PickProfile } from "./Profiles.js"

export interface DiffRow {
  /** `person.name.firstName`, or `identity ECID` for an identity. */
  readonly path: string
  readonly left: string
  readonly right: string
  readonly differs: boolean
}

/** Leaves of a value as dotted paths (`loyalty.points`, `items[0].sku`). */
export const leaves = (value: unknown, prefix = ""): ReadonlyArray<readonly [string, string]> => {
  if (Array.isArray(value)) return value.flatMap((item, i) => leaves(item, `${prefix}[${i}]`))
  if (Predicate.isRecord(value)) {
    const entries = Object.entries(value)
    if (entries.length === 0) return [[prefix, "{}"]]
    return entries.flatMap(([key, item]) => leaves(item, prefix === "" ? key : `${prefix}.${key}`))
  }
  return [[prefix, typeof value === "string" ? value : inline(value)]]
}

const MISSING = "–"

/** One side of a diff: the profile merged under a policy, and its identity graph (`mergeIdentities`). */
export interface DiffSide {
  readonly entity: Record<string, unknown>
  readonly identities: ReadonlyArray<{ readonly namespace: string; readonly id: string; readonly seenIn?: "profile" | "events" | undefined }>
}

/** A side as the Identities tab would list it: the entity's identities and those only its events carry. */
export const diffSide = (entity: Record<string, unknown>, eventIdentities: Parameters<typeof mergeIdentities>[1]): DiffSide => ({
  entity,
  identities: mergeIdentities(identitiesOf(entity), eventIdentities)
})

/** The rows of a diff: identities, then attributes; differing rows first, each group in path order. */
export const diffRows = (left: DiffSide | undefined, right: DiffSide | undefined): ReadonlyArray<DiffRow> => {
  const attributes = (side: DiffSide | undefined) =>
    new Map(side ? leaves(Object.fromEntries(Object.entries(side.entity).filter(([key]) => key !== "identityMap" && key !== "identities"))) : [])
  const identities = (side: DiffSide | undefined) => {
    const byNamespace = new Map<string, Array<string>>()
    for (const i of side?.identities ?? []) {
      const ns = namespaceCode(i.namespace)
      byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), i.seenIn === "events" ? `${i.id} (events only)` : i.id])
    }
    return new Map([...byNamespace].map(([ns, ids]) => [`identity ${ns}`, [...ids].sort().join(", ")]))
  }
  const rows = (l: Map<string, string>, r: Map<string, string>) =>
    [...new Set([...l.keys(), ...r.keys()])].sort().map((path) => {
      const a = l.get(path) ?? MISSING
      const b = r.get(path) ?? MISSING
      return { path, left: a, right: b, differs: a !== b }
    })
  const all = [...rows(identities(left), identities(right)), ...rows(attributes(left), attributes(right))]
  return [...all.filter((row) => row.differs), ...all.filter((row) => !row.differs)]
}

export const DiffView = (props: ViewProps) => {
  const { state } = useApp()
  const r = route(state)
  if (!r.detail) return <PickProfile {...props} target="diff" hint=" Pick a profile to diff under two merge policies · Enter opens · :diff NAMESPACE ID" />
  return <ProfileDiff identity={parseIdentityKey(r.detail.id)} {...props} />
}

const policyLabel = (policy: MergePolicy.MergePolicy | undefined) =>
  policy ? `${policy.name ?? policy.id}${policy.default === true ? " (default)" : ""} · ${policy.identityGraph.type} · ${policy.attributeMerge.type}` : "…"

const useProfileUnder = (identity: IdentityRef, policyId: string | undefined) => {
  const key = policyId === undefined ? undefined : `${identity.namespace}:${identity.id}/${policyId}`
  const profile = useLiveData(
    key === undefined ? undefined : `diff/${key}`,
    () =>
      Effect.flatMap(ProfileClient.ProfileClient, (client) =>
        client.getProfile(Identity.make(identity.namespace, identity.id), { mergePolicyId: policyId! }).pipe(
          Effect.map((profile) => profile.entity as Record<string, unknown>),
          // Not found under a policy is one side of the diff: every row differs.
          Effect.catchTag("NotFound", () => Effect.succeed(undefined))
        )
      ),
    { live: false }
  )
  // The identities only experience events carry, as the Identities tab reads them (none when the events cannot be read).
  const events = useLiveData(key === undefined ? undefined : `diffEventIdentities/${key}`, () => identitiesInEvents(identity, policyId), {
    live: false,
    quiet: () => true
  })
  const loading = profile.loading || events.loading
  const side = useMemo(
    () => (profile.data === undefined ? undefined : diffSide(profile.data, events.data ?? [])),
    [profile.data, events.data]
  )
  return { ...profile, data: side, loading }
}

const ProfileDiff = ({ identity, width, height }: ViewProps & { readonly identity: IdentityRef }) => {
  const { dispatch } = useApp()
  const policies = useLiveData("diffPolicies", () => Effect.flatMap(ProfileClient.ProfileClient, (client) => collect(client.mergePolicies(), 200)), {
    live: false
  })
  const list = policies.data ?? []
  const defaultIndex = Math.max(0, list.findIndex((p) => p.default === true))
  const [steps, setSteps] = useState({ left: 0, right: 1 })
  const at = (step: number) => (list.length === 0 ? undefined : list[(((defaultIndex + step) % list.length) + list.length) % list.length])
  const leftPolicy = at(steps.left)
  const rightPolicy = at(steps.right)
  const left = useProfileUnder(identity, leftPolicy?.id)
  const right = useProfileUnder(identity, rightPolicy?.id)
  useFreshness({ updatedAt: right.updatedAt, loading: left.loading || right.loading })

  const rows = useMemo(() => (left.loading || right.loading ? [] : diffRows(left.data, right.data)), [left.data, right.data, left.loading, right.loading])
  const differing = rows.filter((row) => row.differs)
  const half = Math.max(10, Math.floor((width - 34) / 2))
  const columns: ReadonlyArray<Column<DiffRow>> = [
    { title: "Attribute / identity", width: 32, value: (row) => row.path, color: (row) => (row.differs ? theme.warn : undefined) },
    { title: `◀ ${leftPolicy?.name ?? "…"}`, width: half, value: (row) => row.left, color: (row) => (row.differs ? theme.error : undefined) },
    { title: `${rightPolicy?.name ?? "…"} ▶`, width: half, value: (row) => row.right, color: (row) => (row.differs ? theme.ok : undefined) }
  ]
  const onAction = (action: string) => {
    if (list.length < 2) {
      if (action === "cyclePolicy" || action === "cycleLeftPolicy") {
        dispatch({ type: "status", status: { kind: "info", text: "only one merge policy in this sandbox: nothing to diff against" } })
        return true
      }
      return false
    }
    if (action === "cyclePolicy") {
      setSteps((s) => ({ ...s, right: s.right + 1 }))
      return true
    }
    if (action === "cycleLeftPolicy") {
      setSteps((s) => ({ ...s, left: s.left + 1 }))
      return true
    }
    return false
  }
  const failure = left.error ?? right.error
  const summary =
    left.loading || right.loading || policies.loading
      ? "loading both sides…"
      : list.length < 2
      ? "one merge policy in this sandbox: create another (3, n) to diff against"
      : `${plural(differing.filter((r) => r.path.startsWith("identity ")).length, "identity namespace")} and ${plural(differing.filter((r) => !r.path.startsWith("identity ")).length, "attribute")} differ${left.data === undefined && !left.loading ? " · not found under the left policy" : ""}${right.data === undefined && !right.loading ? " · not found under the right policy" : ""}`
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine panes={[]} active={0} width={width} right={`◀ ${policyLabel(leftPolicy)} (P)  vs  ${policyLabel(rightPolicy)} (p) ▶`} />
      <Text wrap="truncate" color={failure ? theme.error : theme.muted}>
        {failure ? `✗ ${describeError(failure)}` : summary}
      </Text>
      <Table
        rows={rows}
        columns={columns}
        width={width}
        height={height - 2}
        rowKey={(row) => row.path}
        loading={left.loading || right.loading || policies.loading}
        empty="nothing to compare yet"
        onAction={(action) => onAction(action)}
      />
    </Box>
  )
}
