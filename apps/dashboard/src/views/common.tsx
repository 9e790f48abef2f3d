/**
 * What every view shares: the title line with pane tabs, freshness
 * reporting, collecting a paginated stream, and the detail tree.
 */
import { Box, Text } from "ink"
import { ProfileClient } from "@rtcp/core"
import { Chunk, Effect, Stream } from "effect"
import { useEffect } from "react"
import { Tree } from "../components/Tree.js"
import { fit, width as cells } from "../format.js"
import type { Action } from "../keymap.js"
import { type QueryState, useApp, useLiveData } from "../runtime.js"
import { theme } from "../theme.js"

export interface ViewProps {
  readonly width: number
  readonly height: number
}

/** Lists are capped: a view is for looking, not for exporting a million rows. */
export const MAX_ROWS = 10_000

export const collect = <A, E, R>(stream: Stream.Stream<A, E, R>, max = MAX_ROWS): Effect.Effect<ReadonlyArray<A>, E, R> =>
  Effect.map(Stream.runCollect(Stream.take(stream, max)), Chunk.toReadonlyArray)

/** Datasets to offer and to name: the sample's dataset report (none before the first sample). */
export const datasetReport = Effect.flatMap(ProfileClient.ProfileClient, (client) =>
  client.getDatasetReport().pipe(
    Effect.map((report) => report.data.map((d) => ({ id: d.value, name: d.name }))),
    Effect.catchAll(() => Effect.succeed([] as ReadonlyArray<{ readonly id: string; readonly name: string | undefined }>))
  )
)

export const useDatasets = () => useLiveData("datasetReport", () => datasetReport, { live: false })

/** Datasets as form picks: by name, sent as ids. */
export const datasetChoices = (datasets: ReadonlyArray<{ readonly id: string; readonly name: string | undefined }>) =>
  datasets.map((d) => ({ value: d.id, label: d.name ?? d.id }))

/** Reports a query's last update to the status line while the view is on screen. */
export const useFreshness = (query: Pick<QueryState<unknown>, "updatedAt" | "loading">) => {
  const { setFreshness } = useApp()
  useEffect(() => {
    setFreshness({ updatedAt: query.updatedAt, loading: query.loading })
  }, [query.updatedAt, query.loading, setFreshness])
}

export const TitleLine = ({
  panes,
  active,
  right,
  width
}: {
  readonly panes: ReadonlyArray<string>
  readonly active: number
  readonly right?: string | undefined
  readonly width: number
}) => {
  const tail = right ? ` ${right} ` : ""
  const tabs = panes.length > 1 ? panes : []
  const used = tabs.reduce((sum, pane) => sum + cells(pane) + 3, 0)
  return (
    <Box width={width}>
      <Text wrap="truncate">
        {tabs.map((pane, i) =>
          i === active ? (
            <Text key={pane} bold backgroundColor={theme.header} color="white">
              {` ${pane} `}
            </Text>
          ) : (
            <Text key={pane} color={theme.muted}>{` ${pane} `}</Text>
          )
        )}
        {tabs.length > 0 ? " " : ""}
        <Text color={theme.muted}>{fit(tail, Math.max(0, width - used), tabs.length > 0 ? "right" : "left")}</Text>
      </Text>
    </Box>
  )
}

/** The tree of a fetched item, or what is happening instead. */
export const DetailTree = ({
  query,
  value,
  width,
  height,
  onAction
}: {
  readonly query: QueryState<unknown>
  readonly value: unknown
  readonly width: number
  readonly height: number
  readonly onAction?: ((action: Action) => boolean) | undefined
}) => {
  useFreshness(query)
  if (value === undefined) {
    return (
      <Box height={height} width={width}>
        <Text color={query.error ? theme.error : theme.muted}>{query.error ? "could not load it (see the status line)" : "loading…"}</Text>
      </Box>
    )
  }
  return <Tree value={value} width={width} height={height} onAction={onAction ? (action) => onAction(action) : undefined} />
}
