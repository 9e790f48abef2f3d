/**
 * Overview: the preview sample status (merged profiles, fragments, last
 * sample) and bar charts of profiles by dataset and by namespace, with the
 * overlap reports. Before the first sample the reports answer 404: that is
 * "no sample yet", not an error.
 */
import { ProfileClient, type ProfileError } from "@rtcp/core"
import { Box, Text } from "ink"
import { Effect, Option } from "effect"
import { type ReactNode, useEffect } from "react"
import { type Bar, barLines } from "../components/BarChart.js"
import { ScrollLines } from "../components/ScrollLines.js"
import { ago, count, dateTime, fit, looseNumber, looseString, namespaceCode, parseTime, shortId } from "../format.js"
import { useApp, useLiveData } from "../runtime.js"
import { theme } from "../theme.js"
import { useFreshness, type ViewProps } from "./common.js"

/** A report, or none when no sample ran yet (404). */
const report = <A,>(effect: Effect.Effect<A, ProfileError.ProfileError>) =>
  effect.pipe(
    Effect.map(Option.some),
    Effect.catchTag("NotFound", () => Effect.succeed(Option.none<A>()))
  )

export const loadOverview = Effect.gen(function* () {
  const client = yield* ProfileClient.ProfileClient
  return yield* Effect.all(
    {
      status: client.getSampleStatus(),
      datasets: report(client.getDatasetReport()),
      namespaces: report(client.getNamespaceReport()),
      datasetOverlap: report(client.getDatasetOverlapReport()),
      namespaceOverlap: report(client.getNamespaceOverlapReport())
    },
    { concurrency: "unbounded" }
  )
})

type Overview = Effect.Effect.Success<typeof loadOverview>

const letters = (i: number) => (i < 26 ? String.fromCharCode(65 + i) : `D${i}`)

const heading = (text: string, width: number, key: string) => (
  <Text key={key} bold color={theme.accent} wrap="truncate">
    {fit(text, width)}
  </Text>
)

const blank = (key: string) => <Text key={key}> </Text>

/** Side by side when there is room, else one under the other. */
const columns = (left: ReadonlyArray<ReactNode>, right: ReadonlyArray<ReactNode>, width: number, key: string): ReadonlyArray<ReactNode> => {
  if (width < 100) return [...left, blank(`${key}-gap`), ...right]
  const half = Math.floor((width - 3) / 2)
  return Array.from({ length: Math.max(left.length, right.length) }, (_, i) => (
    <Box key={`${key}-${i}`} width={width}>
      <Box width={half} marginRight={3}>
        {left[i] ?? <Text> </Text>}
      </Box>
      <Box width={half}>{right[i] ?? <Text> </Text>}</Box>
    </Box>
  ))
}

const TOP_OVERLAPS = 8

export const overviewLines = (data: Overview, width: number): ReadonlyArray<ReactNode> => {
  const status = data.status
  const merged = looseNumber(status.totalRows) ?? looseNumber(status.numRowsToRead)
  const fragments = looseNumber(status.totalFragmentCount)
  const documents = looseNumber(status.docCount) ?? looseNumber(status.cosmosDocCount)
  const sampled = parseTime(status.lastSampledTimestamp)
  const lastBatch = parseTime(status.lastSuccessfulBatchTimestamp)
  const running = status.sampleJobRunning?.status === true
  const half = width >= 100 ? Math.floor((width - 3) / 2) : width

  const lines: Array<ReactNode> = [
    <Text key="counts" wrap="truncate">
      <Text color={theme.muted}>Merged profiles </Text>
      <Text bold>{count(merged)}</Text>
      <Text color={theme.muted}>   Fragments </Text>
      <Text bold>{count(fragments)}</Text>
      <Text color={theme.muted}>   Documents </Text>
      <Text bold>{count(documents)}</Text>
      {running ? <Text color={theme.warn}>   sample job running…</Text> : null}
    </Text>,
    <Text key="sample" wrap="truncate">
      <Text color={theme.muted}>Last successful sample </Text>
      {sampled === undefined ? <Text color={theme.warn}>none yet</Text> : `${dateTime(sampled)} (${ago(sampled)})`}
      <Text color={theme.muted}>{`  ${status.status ?? ""}${status.samplingRatio !== undefined ? ` · ratio ${Math.round(status.samplingRatio * 100)}%` : ""}${status.mergeStrategy ? ` · ${status.mergeStrategy}` : ""}`}</Text>
    </Text>,
    <Text key="batch" wrap="truncate">
      <Text color={theme.muted}>Last successful batch </Text>
      {lastBatch === undefined ? "–" : `${dateTime(lastBatch)}`}
      <Text color={theme.muted}>{looseString(status.lastBatchId) ? `  ${shortId(looseString(status.lastBatchId)!, 26)}` : ""}</Text>
    </Text>,
    blank("gap-1")
  ]

  const datasets = Option.getOrUndefined(data.datasets)?.data ?? []
  const namespaces = Option.getOrUndefined(data.namespaces)?.data ?? []
  if (datasets.length === 0 && namespaces.length === 0) {
    lines.push(
      <Text key="none" color={theme.muted} wrap="truncate">
        No sample report yet: AEP samples after ingestion changes the store (the local service a few seconds after).
      </Text>
    )
    return lines
  }

  const sortedDatasets = [...datasets].sort((a, b) => b.fullIDsCount - a.fullIDsCount)
  const code = new Map(sortedDatasets.map((d, i) => [d.value, letters(i)]))
  const datasetBars: Array<Bar> = sortedDatasets.map((d) => ({
    label: `${code.get(d.value)} ${d.name ?? d.value}`,
    value: d.fullIDsCount,
    note: `${Math.round(d.fullIDsPercentage * 100)}%`
  }))
  const namespaceBars: Array<Bar> = [...namespaces]
    .sort((a, b) => b.fullIDsCount - a.fullIDsCount)
    .map((n) => ({ label: namespaceCode(n.code), value: n.fullIDsCount, note: `${Math.round(n.fullIDsPercentage * 100)}%` }))

  lines.push(
    ...columns(
      [heading("Profiles by dataset", half, "h-ds"), ...barLines(datasetBars, { width: half, labelWidth: 28 })],
      [heading("Profiles by namespace", half, "h-ns"), ...barLines(namespaceBars, { width: half, color: theme.barAlt, labelWidth: 16 })],
      width,
      "charts"
    ),
    blank("gap-2")
  )

  const overlapBars = (record: Readonly<Record<string, number>> | undefined, label: (key: string) => string) => {
    const entries = Object.entries(record ?? {}).sort((a, b) => b[1] - a[1])
    const bars: Array<Bar> = entries.slice(0, TOP_OVERLAPS).map(([key, value]) => ({ label: label(key), value }))
    const more = entries.length - bars.length
    return { bars, more }
  }
  const datasetOverlap = overlapBars(Option.getOrUndefined(data.datasetOverlap)?.data, (key) =>
    key
      .split(",")
      .map((id) => code.get(id) ?? shortId(id, 6))
      .sort()
      .join("+")
  )
  const namespaceOverlap = overlapBars(Option.getOrUndefined(data.namespaceOverlap)?.data, (key) => key.split(",").map(namespaceCode).join("+"))
  const moreLine = (more: number, key: string) =>
    more > 0 ? [<Text key={key} color={theme.muted}>{`… ${more} more combinations`}</Text>] : []
  lines.push(
    ...columns(
      [
        heading("Dataset overlap (profiles in exactly these datasets)", half, "h-dso"),
        ...barLines(datasetOverlap.bars, { width: half, labelWidth: 16 }),
        ...moreLine(datasetOverlap.more, "dso-more")
      ],
      [
        heading("Namespace overlap", half, "h-nso"),
        ...barLines(namespaceOverlap.bars, { width: half, color: theme.barAlt, labelWidth: 30 }),
        ...moreLine(namespaceOverlap.more, "nso-more")
      ],
      width,
      "overlaps"
    )
  )
  return lines
}

export const OverviewView = ({ width, height }: ViewProps) => {
  const { dispatch } = useApp()
  const query = useLiveData("overview", () => loadOverview)
  useFreshness(query)
  // The namespaces the upstream reports are offered by :profiles completion.
  const codes = (query.data ? (Option.getOrUndefined(query.data.namespaces)?.data ?? []) : []).map((n) => namespaceCode(n.code)).join(",")
  useEffect(() => {
    if (codes !== "") dispatch({ type: "namespaces", codes: codes.split(",") })
  }, [codes, dispatch])
  if (!query.data) {
    return (
      <Box width={width} height={height}>
        <Text color={query.error ? theme.error : theme.muted}>
          {query.error ? "The sample status could not be read (see the status line); retrying." : "Reading the preview sample status…"}
        </Text>
      </Box>
    )
  }
  return <ScrollLines lines={overviewLines(query.data, width)} width={width} height={height} />
}
