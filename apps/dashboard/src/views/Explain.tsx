/**
 * Explain: why a profile looks the way it does, from the local service's
 * explain extension. For each attribute, the fragment that won (dataset,
 * batch, ingestion and record times) and the values it beat; for each
 * identity, the link that joined it to the graph. Adobe has no such
 * endpoint: against it the view says it needs the local service.
 */
import { Box, Text } from "ink"
import { type Explain, ProfileClient } from "@rtcp/core"
import { Effect, Predicate } from "effect"
import { type Column, filterRows, sortRows, Table } from "../components/Table.js"
import { dateTime, describeError, inline, namespaceCode, plural, shortId } from "../format.js"
import { ActionsOnly } from "../components/handle.js"
import type { Action } from "../keymap.js"
import { useApp, useLiveData, useOfferedKeys } from "../runtime.js"
import { cursorOf, filterOf, pane, parseIdentityKey, route, sortOf } from "../state/reducer.js"
import type { Identity as IdentityRef } from "../state/types.js"
import { viewSpec } from "../state/views.js"
import { theme } from "../theme.js"
import { Upstream } from "../upstream.js"
import { collect, TitleLine, useFreshness, type ViewProps } from "./common.js"
import { PickProfile } from "./Profiles.js"

type AttributeRow = Explain.ExplainedAttribute
type IdentityRow = Explain.ExplainedIdentity
type FragmentSource = Explain.Source

const dataset = (source: FragmentSource) => source.datasetName ?? shortId(source.datasetId, 14)

const attributeColumns: ReadonlyArray<Column<AttributeRow>> = [
  { title: "Attribute", min: 22, value: (a) => a.path },
  { title: "Value", min: 14, value: (a) => (typeof a.value === "string" ? a.value : inline(a.value)) },
  { title: "Won from dataset", width: 22, value: (a) => dataset(a.source) },
  { title: "Batch", width: 12, optional: true, value: (a) => (a.source.batchId ? shortId(a.source.batchId, 10) : "streamed") },
  { title: "Ingested", width: 19, optional: true, value: (a) => dateTime(a.source.ingestedAt), sort: (a) => a.source.ingestedAt },
  { title: "Beat", width: 4, align: "right", value: (a) => String(a.beaten.length), sort: (a) => a.beaten.length, color: (a) => (a.beaten.length > 0 ? theme.warn : undefined) }
]

const identityColumns: ReadonlyArray<Column<IdentityRow>> = [
  { title: "Namespace", width: 10, value: (i) => namespaceCode(i.namespace) },
  { title: "Identity", min: 16, value: (i) => i.id },
  { title: "Primary", width: 7, value: (i) => (i.primary ? "✓" : ""), color: () => theme.ok },
  { title: "Joined through", min: 20, value: (i) => (i.link ? `${namespaceCode(i.link.linkedTo.namespace)}:${i.link.linkedTo.id}` : i.primary ? "— (primary)" : "— (link deleted)") },
  { title: "Dataset", width: 16, optional: true, value: (i) => (i.link ? shortId(i.link.datasetId, 14) : "") },
  { title: "First seen", width: 19, optional: true, value: (i) => (i.link ? dateTime(i.link.firstSeen) : ""), sort: (i) => i.link?.firstSeen ?? 0 }
]

/** The lines under the table: the winning fragment of the selected attribute and every value it beat. */
export const attributeStory = (row: AttributeRow): ReadonlyArray<string> => {
  const when = (source: FragmentSource) =>
    `ingested ${dateTime(source.ingestedAt)}${source.recordTimestamp === null ? "" : `, record time ${dateTime(source.recordTimestamp)}`}`
  const from = (source: FragmentSource) => `${dataset(source)}${source.batchId ? ` batch ${source.batchId}` : " (streamed)"}, ${when(source)}`
  return [
    `${row.path} = ${inline(row.value)}  ← won from ${from(row.source)}`,
    ...(row.beaten.length === 0 ? ["  no other fragment had a value for it"] : row.beaten.map((b) => `  beat ${inline(b.value)} from ${from(b.source)}`))
  ]
}

export const identityStory = (row: IdentityRow): string =>
  row.link
    ? `${namespaceCode(row.namespace)}:${row.id} joined the graph through ${namespaceCode(row.link.linkedTo.namespace)}:${row.link.linkedTo.id} in dataset ${row.link.datasetId}${row.link.batchId ? ` batch ${row.link.batchId}` : ""}, first seen ${dateTime(row.link.firstSeen)}, last seen ${dateTime(row.link.lastSeen)}`
    : row.primary
      ? `${namespaceCode(row.namespace)}:${row.id} is the graph's primary identity: the others joined it, it joined nothing`
      : `${namespaceCode(row.namespace)}:${row.id} has no link on record: the data that linked it was deleted`

export const ExplainView = (props: ViewProps) => {
  const { state } = useApp()
  const r = route(state)
  if (!r.detail) return <PickProfile {...props} target="explain" hint=" Pick a profile to explain · Enter opens · :explain NAMESPACE ID (needs the local service)" />
  return <ProfileExplain identity={parseIdentityKey(r.detail.id)} {...props} />
}

const STORY_LINES = 5

const ProfileExplain = ({ identity, width, height }: ViewProps & { readonly identity: IdentityRef }) => {
  const { state, dispatch } = useApp()
  const active = pane(state)
  const policyId = state.profilePolicy
  const upstream = useLiveData("explainUpstream", () => Upstream, { live: false })
  const adobe = upstream.data?.kind === "adobe"
  const query = useLiveData(
    upstream.data === undefined || adobe ? undefined : `explain/${identity.namespace}:${identity.id}/${policyId ?? "default"}`,
    () =>
      Effect.flatMap(ProfileClient.ProfileClient, (client) =>
        client.explainProfile({ entityId: identity.id, entityIdNS: identity.namespace, mergePolicyId: policyId })
      ),
    { quiet: (error) => Predicate.isTagged(error, "NotFound") }
  )
  useFreshness(query)
  const explanation = query.data
  const policies = useLiveData("explainPolicies", () => Effect.flatMap(ProfileClient.ProfileClient, (client) => collect(client.mergePolicies(), 200)), {
    live: false
  })
  // The same step as on the profile: the explanation follows the policy the profile is merged with.
  const onAction = (action: string) => {
    if (action !== "cyclePolicy") return false
    dispatch({
      type: "cycleProfilePolicy",
      policies: (policies.data ?? []).map((p) => ({ id: p.id, name: p.name ?? p.id, default: p.default === true }))
    })
    return true
  }
  if (profileMissing(query.error)) {
    const shown = policies.data?.find((p) => (policyId === undefined ? p.default === true : p.id === policyId))
    return (
      <Unavailable width={width} height={height} identity={identity} offered={["cyclePolicy"]} onAction={onAction}>
        {`not found under merge policy ${shown ? `${shown.name ?? shown.id}${shown.default === true ? " (default)" : ""}` : (policyId ?? "default")}: no profile has ${identity.namespace}:${identity.id} when merged this way (p tries the next policy)`}
      </Unavailable>
    )
  }
  if (adobe || Predicate.isTagged(query.error, "NotFound")) {
    return (
      <Unavailable width={width} height={height} identity={identity}>
        {adobe
          ? "Explain needs the local profile service: Adobe's Profile API does not say which fragment each value came from. Start the dashboard without AEP_* credentials (or with --upstream pointing at rtcp's service) to explain profiles."
          : `Explain needs the local profile service's explain extension (GET /rtcp/explain/profile); this upstream answered: ${describeError(query.error)}`}
      </Unavailable>
    )
  }
  const storyHeight = Math.min(STORY_LINES, Math.max(2, Math.floor(height / 4)))
  const tableHeight = Math.max(2, height - 2 - storyHeight)
  const attributes = explanation?.attributes ?? []
  const identities = explanation?.identities ?? []
  // The rows as the table shows them (filtered, sorted), so the cursor names the same row here.
  const visibleAttributes = sortRows(filterRows(attributes, attributeColumns, filterOf(state)), attributeColumns, sortOf(state))
  const visibleIdentities = sortRows(filterRows(identities, identityColumns, filterOf(state)), identityColumns, sortOf(state))
  const cursor = cursorOf(state)
  const story =
    active === 0
      ? (() => {
          const row = visibleAttributes[Math.min(cursor, Math.max(0, visibleAttributes.length - 1))]
          return row ? attributeStory(row) : []
        })()
      : (() => {
          const row = visibleIdentities[Math.min(cursor, Math.max(0, visibleIdentities.length - 1))]
          return row ? [identityStory(row)] : []
        })()
  const policy = explanation?.mergePolicy
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine
        panes={viewSpec("explain").detailPanes}
        active={active}
        width={width}
        right={policy ? `merged with ${policy.name ?? policy.id} · ${policy.attributeMerge.type} · graph ${policy.identityGraph.type}` : "…"}
      />
      <Text wrap="truncate" color={query.error ? theme.error : theme.muted}>
        {query.error
          ? `✗ ${describeError(query.error)}`
          : explanation
            ? `XID ${shortId(explanation.entityId, 14)} · ${plural(attributes.length, "attribute")} · ${plural(attributes.filter((a) => a.beaten.length > 0).length, "attribute")} beat another value · ${plural(identities.length, "identity", "identities")}`
            : "loading…"}
      </Text>
      {active === 0 ? (
        <Table rows={attributes} columns={attributeColumns} width={width} height={tableHeight} rowKey={(a) => a.path} loading={query.loading} empty="no attribute" onAction={onAction} />
      ) : (
        <Table rows={identities} columns={identityColumns} width={width} height={tableHeight} rowKey={(i) => `${i.namespace}:${i.id}`} loading={query.loading} empty="no identity" onAction={onAction} />
      )}
      <Box flexDirection="column" width={width} height={storyHeight} overflow="hidden">
        {story.map((line, i) => (
          <Text key={i} wrap="truncate" color={i === 0 ? theme.accent : theme.muted}>
            {line}
          </Text>
        ))}
      </Box>
    </Box>
  )
}

/**
 * The explain extension answers a profile missing under the policy with AEP's
 * "no data found" body (`UPS-ACC-…`, as a profile lookup does); an upstream
 * without the extension answers the path itself with some other 404.
 */
const profileMissing = (error: unknown): boolean =>
  Predicate.isTagged(error, "NotFound") && /UPS-ACC-/.test(JSON.stringify((error as { readonly body?: unknown }).body ?? null))

/**
 * Why there is nothing to explain: it lists nothing, so of the view's keys
 * (Tab, sort, filter, copy, p) only `offered` act or are hinted.
 */
const Unavailable = ({
  identity,
  width,
  height,
  offered = [],
  onAction,
  children
}: ViewProps & {
  readonly identity: IdentityRef
  readonly offered?: ReadonlyArray<Action>
  readonly onAction?: (action: Action) => boolean
  readonly children: string
}) => {
  useOfferedKeys(offered)
  return (
    <Box flexDirection="column" width={width} height={height}>
      {onAction ? <ActionsOnly onAction={onAction} /> : null}
      <TitleLine panes={[]} active={0} width={width} right={`${identity.namespace}:${identity.id}`} />
      <Text wrap="wrap" color={theme.warn}>
        {children}
      </Text>
    </Box>
  )
}
