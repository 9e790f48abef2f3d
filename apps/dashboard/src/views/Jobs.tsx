/**
 * Jobs: system (delete) jobs and export jobs, refreshed live so running
 * jobs show their progress; create a delete job for a dataset or a batch,
 * delete a system job, cancel an export job (all behind a confirmation).
 */
import { type ExportJob, ProfileClient, SystemJob } from "@rtcp/core"
import { ProgressBar } from "@inkjs/ui"
import { Box, Text } from "ink"
import { Effect, Predicate } from "effect"
import { useEffect, useMemo } from "react"
import { bar } from "../components/BarChart.js"
import { type Column, Table } from "../components/Table.js"
import { count, dateTime, fit, parseTime, plural, shortId } from "../format.js"
import type { Action } from "../keymap.js"
import { useApp, useLiveData } from "../runtime.js"
import * as Forms from "../state/forms.js"
import { pane, route } from "../state/reducer.js"
import { viewSpec } from "../state/views.js"
import { statusColor, theme } from "../theme.js"
import { collect, DetailTree, TitleLine, useDatasets, useFreshness, type ViewProps } from "./common.js"

/** 0–100 when the upstream says (the local service's `progress`, or counts in `metrics`). */
export const progressOf = (job: SystemJob.SystemJob): number | undefined => {
  if (SystemJob.terminalStatuses.has(job.status)) return job.status === "SUCCESS" || job.status === "COMPLETED" ? 100 : undefined
  const extra = job as unknown as { progress?: unknown; metrics?: Record<string, unknown> }
  if (typeof extra.progress === "number") return extra.progress
  const m = extra.metrics
  if (Predicate.isRecord(m)) {
    const total = Number(m.fragmentsToDelete ?? 0) + Number(m.eventsToDelete ?? 0)
    const done = Number(m.fragmentsDeleted ?? 0) + Number(m.eventsDeleted ?? 0)
    if (total > 0) return Math.min(100, Math.floor((done * 100) / total))
  }
  return undefined
}

const datasetOf = (job: SystemJob.SystemJob) => job.properties?.datasetId ?? job.dataSetId ?? ""
const batchOf = (job: SystemJob.SystemJob) => job.properties?.batchId ?? job.batchId ?? ""

const progressCell = (value: number | undefined) => (value === undefined ? "" : `${fit(bar(value, 100, 8), 8)} ${String(value).padStart(3)}%`)

type Names = ReadonlyMap<string, string>

/** Dataset names where the sample's dataset report knows them, ids otherwise. */
const named = (names: Names, id: string) => names.get(id) ?? id

const systemColumns = (names: Names): ReadonlyArray<Column<SystemJob.SystemJob>> => [
  { title: "Id", width: 10, value: (j) => shortId(SystemJob.jobId(j), 8), sort: (j) => SystemJob.jobId(j) },
  { title: "Type", width: 17, optional: true, value: (j) => j.requestType ?? j.jobType ?? "" },
  { title: "Dataset", min: 24, value: (j) => named(names, datasetOf(j)) },
  { title: "Batch", optional: true, value: (j) => batchOf(j) },
  { title: "Status", width: 11, value: (j) => j.status, color: (j) => statusColor(j.status) },
  { title: "Progress", width: 13, value: (j) => progressCell(progressOf(j)), sort: (j) => progressOf(j) ?? -1 },
  { title: "Created", width: 19, optional: true, value: (j) => dateTime(parseTime(j.createdAt ?? j.createEpoch)), sort: (j) => parseTime(j.createdAt ?? j.createEpoch) ?? 0 }
]

const exportDataset = (job: ExportJob.ExportJob) => job.destination?.datasetId ?? job.destination?.dataSetId ?? ""
const exported = (job: ExportJob.ExportJob) => job.metrics?.totalExportedProfileCounter

const exportColumns = (names: Names): ReadonlyArray<Column<ExportJob.ExportJob>> => [
  { title: "Id", width: 8, align: "right", value: (j) => String(j.id), sort: (j) => j.id },
  { title: "Status", width: 10, value: (j) => j.status, color: (j) => statusColor(j.status) },
  { title: "Dataset", min: 24, value: (j) => named(names, exportDataset(j)) },
  { title: "Profiles", width: 9, align: "right", value: (j) => count(exported(j)), sort: (j) => exported(j) ?? -1 },
  { title: "Merge policy", optional: true, value: (j) => j.mergePolicy?.id ?? "" },
  { title: "Created", width: 19, optional: true, value: (j) => dateTime(j.creationTime), sort: (j) => j.creationTime ?? 0 },
  { title: "Took", width: 7, align: "right", optional: true, value: (j) => took(j) }
]

const took = (job: ExportJob.ExportJob) => {
  const ms = job.metrics?.totalTime?.totalTimeInMs
  return ms === undefined || ms === 0 ? "" : ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`
}

export const deleteJobForm = (datasets: ReadonlyArray<Forms.Choice>): Forms.FormState =>
  Forms.make("deleteJob", "New delete job (removes data from the profile store)", [
    datasets.length > 0
      ? Forms.choice("dataset", "Dataset", datasets)
      : Forms.text("dataset", "Dataset id", "", { required: true, placeholder: "the dataset to remove from Profile" }),
    Forms.text("batchId", "Batch id", "", { placeholder: "optional: only this batch (experience event datasets)" })
  ])

/** An export job: merged profiles (under a merge policy) written to a dataset. */
export const exportJobForm = (policies: ReadonlyArray<Forms.Choice>, datasets: ReadonlyArray<Forms.Choice>): Forms.FormState =>
  Forms.make("exportJob", "New export job (merged profiles to a dataset)", [
    Forms.text("datasetId", "Target dataset id", "", {
      required: true,
      placeholder: "the dataset the profiles are written to",
      suggestions: datasets
    }),
    Forms.text("mergePolicyId", "Merge policy", policies[0]?.label ?? "", {
      required: true,
      placeholder: "←/→ picks one (or type its id)",
      suggestions: policies
    }),
    Forms.text("fields", "Fields", "", { placeholder: "optional: e.g. identityMap,person.name (all when empty)" }),
    Forms.text("schema", "Schema", "_xdm.context.profile")
  ])

export const JobsView = (props: ViewProps) => {
  const { state } = useApp()
  const r = route(state)
  if (r.detail) {
    const [kind, id] = [r.detail.id.slice(0, r.detail.id.indexOf(":")), r.detail.id.slice(r.detail.id.indexOf(":") + 1)]
    return kind === "export" ? <ExportDetail id={Number(id)} {...props} /> : <SystemDetail id={id} {...props} />
  }
  return <JobLists {...props} />
}

const JobLists = ({ width, height }: ViewProps) => {
  const { state, dispatch } = useApp()
  const active = pane(state)
  const system = useLiveData("systemJobs", () => Effect.flatMap(ProfileClient.ProfileClient, (client) => collect(client.systemJobs())))
  const exports = useLiveData("exportJobs", () => Effect.flatMap(ProfileClient.ProfileClient, (client) => collect(client.exportJobs())))
  const datasets = useDatasets()
  const names = useMemo(() => new Map((datasets.data ?? []).flatMap((d) => (d.name ? [[d.id, d.name] as const] : []))), [datasets.data])
  const systemCols = useMemo(() => systemColumns(names), [names])
  const exportCols = useMemo(() => exportColumns(names), [names])
  const choices = useMemo(
    () => (datasets.data ?? []).map((d): Forms.Choice => ({ value: d.id, label: d.name ? `${d.name} (${d.id})` : d.id })),
    [datasets.data]
  )
  const policies = useLiveData("exportPolicies", () => Effect.flatMap(ProfileClient.ProfileClient, (client) => collect(client.mergePolicies(), 200)), {
    live: false
  })
  const policyChoices = useMemo(
    () =>
      [...(policies.data ?? [])]
        .sort((a, b) => Number(b.default === true) - Number(a.default === true))
        .map((p): Forms.Choice => ({ value: p.id, label: `${p.name ?? p.id}${p.default === true ? " (default)" : ""}` })),
    [policies.data]
  )
  useFreshness(active === 0 ? system : exports)
  // A form opened before these arrived gets them when they do.
  useEffect(() => {
    dispatch({ type: "formOptions", form: "exportJob", field: "mergePolicyId", options: policyChoices, fill: true })
    dispatch({ type: "formOptions", form: "exportJob", field: "datasetId", options: choices })
  }, [policyChoices, choices, state.form?.kind, dispatch])
  const systemRows = useMemo(() => system.data ?? [], [system.data])
  const exportRows = useMemo(() => exports.data ?? [], [exports.data])
  const running = systemRows.filter((j) => !SystemJob.terminalStatuses.has(j.status)).length
  const exporting = exportRows.filter((j) => j.status === "NEW" || j.status === "PROCESSING").length

  const common = (action: Action): boolean => {
    if (action === "create") {
      if (active === 1) {
        dispatch({ type: "formOpen", form: exportJobForm(policyChoices, choices), write: true })
        return true
      }
      dispatch({ type: "formOpen", form: deleteJobForm(choices), write: true })
      return true
    }
    return false
  }

  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine
        panes={viewSpec("jobs").panes}
        active={active}
        width={width}
        right={active === 0 ? `${plural(systemRows.length, "job")} · ${running} running` : `${plural(exportRows.length, "job")} · ${exporting} running`}
      />
      {active === 0 ? (
        <Table
          rows={systemRows}
          columns={systemCols}
          width={width}
          height={height - 1}
          rowKey={(j) => SystemJob.jobId(j)}
          loading={system.loading}
          failed={system.error !== undefined && system.data === undefined}
          empty="no system job (n creates a delete job)"
          onAction={(action, job) => {
            if (common(action)) return true
            if (!job) return action === "delete" || action === "cancelJob" || action === "open"
            switch (action) {
              case "open":
                dispatch({ type: "push", route: { view: "jobs", detail: { id: `system:${SystemJob.jobId(job)}`, label: `system job ${shortId(SystemJob.jobId(job), 12)}` } } })
                return true
              case "delete":
              case "cancelJob":
                dispatch({ type: "request", intent: { kind: "deleteSystemJob", id: SystemJob.jobId(job) } })
                return true
              default:
                return false
            }
          }}
        />
      ) : (
        <Table
          rows={exportRows}
          columns={exportCols}
          width={width}
          height={height - 1}
          rowKey={(j) => String(j.id)}
          loading={exports.loading}
          failed={exports.error !== undefined && exports.data === undefined}
          empty="no export job (n starts one)"
          onAction={(action, job) => {
            if (common(action)) return true
            if (!job) return action === "delete" || action === "cancelJob" || action === "open"
            switch (action) {
              case "open":
                dispatch({ type: "push", route: { view: "jobs", detail: { id: `export:${job.id}`, label: `export job ${job.id}` } } })
                return true
              case "delete":
              case "cancelJob":
                dispatch({ type: "request", intent: { kind: "cancelExportJob", id: job.id } })
                return true
              default:
                return false
            }
          }}
        />
      )}
    </Box>
  )
}

const Progress = ({ value, width, label }: { value: number | undefined; width: number; label: string }) =>
  value === undefined ? (
    <Text color={theme.muted}>{label}</Text>
  ) : (
    <Box width={width}>
      <Box width={Math.max(10, width - label.length - 8)}>
        <ProgressBar value={value} />
      </Box>
      <Text>{` ${String(value).padStart(3)}%  ${label}`}</Text>
    </Box>
  )

const SystemDetail = ({ id, width, height }: ViewProps & { readonly id: string }) => {
  const { dispatch } = useApp()
  const query = useLiveData(`systemJob/${id}`, () => Effect.flatMap(ProfileClient.ProfileClient, (client) => client.getSystemJob(id)))
  const job = query.data
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Progress value={job ? progressOf(job) : undefined} width={width} label={job ? job.status : "…"} />
      <DetailTree
        query={query}
        value={job}
        width={width}
        height={height - 1}
        onAction={(action) => {
          if ((action === "delete" || action === "cancelJob") && job) {
            dispatch({ type: "request", intent: { kind: "deleteSystemJob", id } })
            return true
          }
          return false
        }}
      />
    </Box>
  )
}

const ExportDetail = ({ id, width, height }: ViewProps & { readonly id: number }) => {
  const { dispatch } = useApp()
  const query = useLiveData(`exportJob/${id}`, () => Effect.flatMap(ProfileClient.ProfileClient, (client) => client.getExportJob(id)))
  const job = query.data
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text {...(statusColor(job?.status) ? { color: statusColor(job?.status)! } : {})}>{job?.status ?? "…"}</Text>
        <Text color={theme.muted}>{job ? `  ${count(exported(job))} profiles exported to ${exportDataset(job)}  ${took(job)}` : ""}</Text>
      </Text>
      <DetailTree
        query={query}
        value={job}
        width={width}
        height={height - 1}
        onAction={(action) => {
          if ((action === "delete" || action === "cancelJob") && job) {
            dispatch({ type: "request", intent: { kind: "cancelExportJob", id } })
            return true
          }
          return false
        }}
      />
    </Box>
  )
}
