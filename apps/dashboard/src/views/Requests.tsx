/**
 * Requests: the local service's request inspector as a live view. Every
 * call the service answered (newest first, secrets redacted by the
 * service), filterable; Enter shows one in full: request and response,
 * headers and bodies. Needs the local service started with `--admin` (the
 * one `npm start` runs has it on); elsewhere the view says so.
 */
import { Box, Text } from "ink"
import { Predicate } from "effect"
import { type ReactNode, useMemo } from "react"
import { ScrollLines } from "../components/ScrollLines.js"
import { type Column, Table } from "../components/Table.js"
import { clock, describeError, plural } from "../format.js"
import { type InspectedRequest, requests as inspected } from "../extensions.js"
import { useApp, useLiveData, useOfferedKeys } from "../runtime.js"
import { route } from "../state/reducer.js"
import { theme } from "../theme.js"
import { TitleLine, useFreshness, type ViewProps } from "./common.js"

/** Requests kept on screen (the inspector keeps its own window). */
const LIMIT = 500

/** Requests seen by the list, by seq: the detail shows what the list fetched. */
const seen = new Map<number, InspectedRequest>()

const queryString = (query: unknown): string => {
  if (typeof query === "string") return query === "" ? "" : query.startsWith("?") ? query : `?${query}`
  if (Predicate.isRecord(query)) {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v))
    const text = params.toString()
    return text === "" ? "" : `?${text}`
  }
  return ""
}

const codeColor = (status: number) => (status >= 500 ? theme.error : status >= 400 ? theme.warn : theme.ok)

const columns: ReadonlyArray<Column<InspectedRequest>> = [
  { title: "#", width: 6, align: "right", value: (r) => String(r.seq), sort: (r) => r.seq },
  { title: "Time", width: 8, value: (r) => clock(r.at), sort: (r) => r.at },
  { title: "Method", width: 6, value: (r) => r.method },
  { title: "Path", min: 24, value: (r) => `${r.path}${queryString(r.query)}` },
  { title: "Status", width: 6, align: "right", value: (r) => String(r.status), sort: (r) => r.status, color: (r) => codeColor(r.status) },
  { title: "ms", width: 6, align: "right", value: (r) => String(Math.round(r.latencyMs)), sort: (r) => r.latencyMs },
  { title: "Sandbox", width: 8, optional: true, value: (r) => r.sandbox ?? "" },
  { title: "Caller", width: 14, optional: true, value: (r) => r.caller ?? "" }
]

const requests = (limit: number) => inspected({ limit })

export const RequestsView = (props: ViewProps) => {
  const { state } = useApp()
  const r = route(state)
  return r.detail ? <RequestDetail seq={Number(r.detail.id)} {...props} /> : <RequestList {...props} />
}

/** It lists nothing: none of the view's keys (Enter, sort, filter, copy) act or are hinted. */
const Unavailable = ({ error, width, height }: { readonly error: unknown; readonly width: number; readonly height: number }) => {
  useOfferedKeys([])
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine panes={[]} active={0} width={width} right="request inspector" />
      <Text wrap="wrap" color={theme.warn}>
        {`Requests needs the local profile service with its inspector on (rtcp-service --admin; the service npm start runs has it). This upstream answered: ${describeError(error)}`}
      </Text>
    </Box>
  )
}

const RequestList = ({ width, height }: ViewProps) => {
  const { dispatch } = useApp()
  const query = useLiveData("inspector", () => requests(LIMIT), { quiet: (error) => Predicate.isTagged(error, "NotFound") })
  useFreshness(query)
  const rows = useMemo(() => {
    const list = query.data ?? []
    for (const request of list) seen.set(request.seq, request)
    if (seen.size > 5 * LIMIT) for (const seq of [...seen.keys()].slice(0, seen.size - LIMIT)) seen.delete(seq)
    return list
  }, [query.data])
  if (Predicate.isTagged(query.error, "NotFound") && query.data === undefined) return <Unavailable error={query.error} width={width} height={height} />
  const failed = rows.filter((r) => r.status >= 400).length
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine panes={[]} active={0} width={width} right={`${plural(rows.length, "request")} · ${failed} failed · newest first · live`} />
      <Table
        rows={rows}
        columns={columns}
        width={width}
        height={height - 1}
        rowKey={(r) => String(r.seq)}
        loading={query.loading}
        failed={query.error !== undefined && query.data === undefined}
        empty="no request yet"
        yankRow={(r) => ({ what: `request #${r.seq}`, text: JSON.stringify(r, null, 2) })}
        onAction={(action, request) => {
          if (action !== "open" || !request) return false
          dispatch({ type: "push", route: { view: "requests", detail: { id: String(request.seq), label: `#${request.seq} ${request.method} ${request.path}` } } })
          return true
        }}
      />
    </Box>
  )
}

/** A body as lines: JSON pretty-printed, anything else as sent. */
const bodyLines = (body: string | null): ReadonlyArray<string> => {
  if (body === null || body === "") return ["(no body)"]
  try {
    return JSON.stringify(JSON.parse(body), null, 2).split("\n")
  } catch {
    return body.split("\n")
  }
}

const wrapTo = (line: string, width: number): ReadonlyArray<string> => {
  if (width <= 0 || line.length <= width) return [line]
  const out: Array<string> = []
  for (let i = 0; i < line.length; i += width) out.push(line.slice(i, i + width))
  return out
}

export const requestLines = (request: InspectedRequest): ReadonlyArray<{ readonly text: string; readonly color?: string | undefined; readonly bold?: boolean }> => {
  const headers = (h: Readonly<Record<string, unknown>>) => Object.entries(h).map(([key, value]) => ({ text: `  ${key}: ${String(value)}` }))
  return [
    { text: `${request.method} ${request.path}${queryString(request.query)} → ${request.status} in ${Math.round(request.latencyMs)} ms`, bold: true, color: codeColor(request.status) },
    { text: `at ${new Date(request.at).toISOString()} · sandbox ${request.sandbox ?? "–"} · caller ${request.caller ?? "–"} · request id ${request.requestId ?? "–"}`, color: theme.muted },
    { text: "" },
    { text: "Request headers", bold: true, color: theme.accent },
    ...headers(request.request.headers),
    { text: "Request body", bold: true, color: theme.accent },
    ...bodyLines(request.request.body).map((text) => ({ text: `  ${text}` })),
    { text: "" },
    { text: "Response headers", bold: true, color: theme.accent },
    ...headers(request.response.headers),
    { text: "Response body", bold: true, color: theme.accent },
    ...bodyLines(request.response.body).map((text) => ({ text: `  ${text}` }))
  ]
}

const RequestDetail = ({ seq, width, height }: ViewProps & { readonly seq: number }) => {
  const known = seen.get(seq)
  // Opened from a permalink, or fallen out of the cache: ask the inspector again.
  const query = useLiveData(known ? undefined : `inspector/${seq}`, () => requests(LIMIT), { live: false })
  const request = known ?? query.data?.find((r) => r.seq === seq)
  useFreshness({ updatedAt: query.updatedAt, loading: query.loading })
  if (!request) {
    return (
      <Box width={width} height={height}>
        <Text color={query.error ? theme.error : theme.muted}>
          {query.loading ? "loading…" : query.error ? `✗ ${describeError(query.error)}` : `request #${seq} is no longer in the inspector's window`}
        </Text>
      </Box>
    )
  }
  const lines: Array<ReactNode> = requestLines(request).flatMap((line, i) =>
    wrapTo(line.text, width).map((part, j) => (
      <Text key={`${i}/${j}`} wrap="truncate" bold={line.bold ?? false} {...(line.color ? { color: line.color } : {})}>
        {part === "" ? " " : part}
      </Text>
    ))
  )
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine panes={[]} active={0} width={width} right={`#${request.seq} · ${request.status} · ${Math.round(request.latencyMs)} ms`} />
      <ScrollLines lines={lines} width={width} height={height - 1} />
    </Box>
  )
}

