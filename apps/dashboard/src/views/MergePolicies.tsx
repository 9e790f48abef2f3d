/**
 * Merge policies: a sortable table, the detail of one policy, and set
 * default, create, edit, delete (delete and set default ask first).
 */
import { type MergePolicy, ProfileClient } from "@rtcp/core"
import { Box } from "ink"
import { Effect } from "effect"
import { useEffect, useMemo } from "react"
import { type Column, Table } from "../components/Table.js"
import { dateTime, parseTime, plural, shortId } from "../format.js"
import type { Action } from "../keymap.js"
import { useApp, useLiveData } from "../runtime.js"
import * as Forms from "../state/forms.js"
import { route } from "../state/reducer.js"
import { theme } from "../theme.js"
import { collect, datasetChoices, DetailTree, TitleLine, useDatasets, useFreshness, type ViewProps } from "./common.js"

const isDefault = (policy: MergePolicy.MergePolicy) => policy.default === true

const columns: ReadonlyArray<Column<MergePolicy.MergePolicy>> = [
  { title: "Name", min: 18, value: (p) => p.name ?? "(unnamed)" },
  { title: "Id", width: 10, value: (p) => shortId(p.id, 8), sort: (p) => p.id },
  { title: "Graph", width: 5, value: (p) => p.identityGraph.type },
  { title: "Merge", width: 17, value: (p) => p.attributeMerge.type },
  { title: "Default", width: 7, value: (p) => (isDefault(p) ? "✓" : ""), color: () => theme.ok, sort: (p) => (isDefault(p) ? 0 : 1) },
  { title: "Edge", width: 4, optional: true, value: (p) => (p.isActiveOnEdge === true ? "✓" : "") },
  { title: "Ver", width: 3, align: "right", optional: true, value: (p) => String(p.version), sort: (p) => p.version },
  { title: "Updated", width: 19, optional: true, value: (p) => dateTime(parseTime(p.updateEpoch)), sort: (p) => parseTime(p.updateEpoch) ?? 0 }
]

export const policyForm = (policy?: MergePolicy.MergePolicy, datasets: ReadonlyArray<Forms.Choice> = []): Forms.FormState =>
  Forms.make(
    "policy",
    policy ? `Edit merge policy ${policy.name ?? policy.id}` : "New merge policy",
    [
      Forms.text("name", "Name", policy?.name ?? "", { required: true, placeholder: "e.g. Loyalty first" }),
      Forms.choice("identityGraph", "Identity graph", [
        { value: "pdg", label: "pdg (private graph: stitch identities)" },
        { value: "none", label: "none (no stitching)" }
      ], policy?.identityGraph.type === "none" ? "none" : "pdg"),
      Forms.choice("attributeMerge", "Attribute merge", [
        { value: "timestampOrdered", label: "timestampOrdered (newest wins)" },
        { value: "dataSetPrecedence", label: "dataSetPrecedence (dataset order)" }
      ], policy?.attributeMerge.type === "dataSetPrecedence" ? "dataSetPrecedence" : "timestampOrdered"),
      Forms.text("order", "Dataset order", (policy?.attributeMerge.order ?? []).map((id) => datasets.find((d) => d.value === id)?.label ?? id).join(", "), {
        placeholder: datasets.length > 0 ? "dataSetPrecedence: → adds a dataset by name, highest first" : "dataSetPrecedence: dataset ids, comma separated",
        suggestions: datasets,
        list: true
      }),
      Forms.choice("default", "Default", ["false", "true"], policy && isDefault(policy) ? "true" : "false"),
      Forms.choice("isActiveOnEdge", "Active on edge", ["false", "true"], policy?.isActiveOnEdge === true ? "true" : "false"),
      Forms.text("schema", "Schema", policy?.schema.name ?? "_xdm.context.profile")
    ],
    policy ? { id: policy.id } : undefined
  )

export const MergePoliciesView = (props: ViewProps) => {
  const { state } = useApp()
  const r = route(state)
  return r.detail ? <PolicyDetail id={r.detail.id} {...props} /> : <PolicyList {...props} />
}

const usePolicyActions = () => {
  const { dispatch } = useApp()
  const { state } = useApp()
  const datasets = useDatasets()
  const choices = useMemo(() => datasetChoices(datasets.data ?? []), [datasets.data])
  // A form opened before the datasets arrived gets them when they do.
  useEffect(() => {
    dispatch({ type: "formOptions", form: "policy", field: "order", options: choices })
  }, [choices, state.form?.kind, dispatch])
  return (action: Action, policy: MergePolicy.MergePolicy | undefined): boolean => {
    switch (action) {
      case "create":
        dispatch({ type: "formOpen", form: policyForm(undefined, choices), write: true })
        return true
      case "edit":
        if (policy) dispatch({ type: "formOpen", form: policyForm(policy, choices), write: true })
        return true
      case "delete":
        if (policy) dispatch({ type: "request", intent: { kind: "deletePolicy", id: policy.id, name: policy.name ?? policy.id } })
        return true
      case "setDefault":
        if (policy) dispatch({ type: "request", intent: { kind: "setDefaultPolicy", id: policy.id, name: policy.name ?? policy.id } })
        return true
      default:
        return false
    }
  }
}

const PolicyList = ({ width, height }: ViewProps) => {
  const { dispatch } = useApp()
  const query = useLiveData("mergePolicies", () => Effect.flatMap(ProfileClient.ProfileClient, (client) => collect(client.mergePolicies())))
  useFreshness(query)
  const rows = useMemo(() => query.data ?? [], [query.data])
  const act = usePolicyActions()
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine panes={[]} active={0} width={width} right={plural(rows.length, "merge policy", "merge policies")} />
      <Table
        rows={rows}
        columns={columns}
        width={width}
        height={height - 1}
        rowKey={(p) => p.id}
        loading={query.loading}
        failed={query.error !== undefined && query.data === undefined}
        empty="no merge policy in this sandbox (n creates one)"
        onAction={(action, policy) => {
          if (action === "open") {
            if (policy) dispatch({ type: "push", route: { view: "policies", detail: { id: policy.id, label: policy.name ?? policy.id } } })
            return true
          }
          return act(action, policy)
        }}
      />
    </Box>
  )
}

const PolicyDetail = ({ id, width, height }: ViewProps & { readonly id: string }) => {
  const query = useLiveData(`mergePolicy/${id}`, () => Effect.flatMap(ProfileClient.ProfileClient, (client) => client.getMergePolicy(id)))
  const act = usePolicyActions()
  const policy = query.data
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine
        panes={[]}
        active={0}
        width={width}
        right={policy ? `${policy.id} · version ${policy.version}${isDefault(policy) ? " · default" : ""} · e edit · * default · d delete` : id}
      />
      <DetailTree query={query} value={policy} width={width} height={height - 1} onAction={(action) => act(action, policy)} />
    </Box>
  )
}
