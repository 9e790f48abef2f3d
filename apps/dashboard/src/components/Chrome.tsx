/**
 * The frame around the views: header (upstream, org, sandbox), breadcrumbs,
 * status line (messages, errors, last update) and the bottom line (key hints,
 * or the `:` / `/` prompt).
 */
import { Box, Text } from "ink"
import { suggestion } from "../commands/registry.js"
import { clock, fit, truncate, width as cells } from "../format.js"
import { keymap, labels } from "../keymap.js"
import { type AppState, filterOf, pane, route } from "../state/reducer.js"
import { viewSpec } from "../state/views.js"
import { theme } from "../theme.js"
import type { UpstreamInfo, UpstreamKind } from "../upstream.js"

const kindLabel: Record<UpstreamKind, string> = { local: "local", url: "upstream", adobe: "adobe" }

export interface HeaderProps {
  readonly width: number
  readonly info: UpstreamInfo | undefined
  readonly kind: UpstreamKind
  readonly sandbox: string
  readonly readOnly: boolean
  readonly connecting: string | undefined
}

export const Header = ({ width, info, kind, sandbox, readOnly, connecting }: HeaderProps) => {
  const parts: Array<{ text: string; color?: string; bold?: boolean }> = [
    { text: " rtcp ", color: theme.title, bold: true },
    { text: `${kindLabel[kind]} ` , color: theme.muted },
    { text: info ? info.url : (connecting ?? "connecting…"), color: info ? theme.accent : theme.warn }
  ]
  if (info) parts.push({ text: "  org ", color: theme.muted }, { text: info.orgId })
  parts.push({ text: "  sandbox ", color: theme.muted }, { text: sandbox, bold: true })
  if (readOnly) parts.push({ text: "  READ-ONLY", color: theme.warn, bold: true })
  const help = "? help "
  let used = 0
  const shown: typeof parts = []
  for (const part of parts) {
    const room = width - cells(help) - used
    if (room <= 0) break
    const text = truncate(part.text, room)
    shown.push({ ...part, text })
    used += cells(text)
  }
  return (
    <Box width={width}>
      <Text wrap="truncate">
        {shown.map((part, i) => (
          <Text key={i} {...(part.color ? { color: part.color } : {})} bold={part.bold ?? false}>
            {part.text}
          </Text>
        ))}
        {" ".repeat(Math.max(0, width - used - cells(help)))}
        <Text color={theme.muted}>{help}</Text>
      </Text>
    </Box>
  )
}

export const Breadcrumbs = ({ state, width }: { readonly state: AppState; readonly width: number }) => {
  const crumbs = state.stack.map((r) => (r.detail ? r.detail.label : viewSpec(r.view).title))
  const filter = filterOf(state)
  const right = state.mode === "filter" ? "" : filter ? ` /${filter} ` : ""
  const left = " " + crumbs.join(" › ")
  const room = Math.max(0, width - cells(right))
  return (
    <Box width={width}>
      <Text wrap="truncate">
        <Text color={theme.header} bold>
          {fit(left, room)}
        </Text>
        <Text color={theme.warn}>{right}</Text>
      </Text>
    </Box>
  )
}

export interface Freshness {
  readonly updatedAt: number | undefined
  readonly loading: boolean
}

export const StatusLine = ({
  state,
  width,
  freshness,
  refreshMs,
  paused
}: {
  readonly state: AppState
  readonly width: number
  readonly freshness: Freshness
  readonly refreshMs: number
  readonly paused: boolean
}) => {
  const right = paused
    ? " ⏸ paused "
    : `${freshness.loading ? "● " : ""}${refreshMs > 0 ? `⟳ ${Math.round(refreshMs / 1000)}s · ` : ""}updated ${clock(freshness.updatedAt)} `
  const status = state.status
  const candidates = state.mode === "command" && state.command.candidates.length > 0 ? state.command.candidates.join("  ") : undefined
  const text = candidates ?? (status ? `${status.kind === "error" ? "✗" : status.kind === "busy" ? "…" : "✓"} ${clock(status.at)} ${status.text}` : "")
  const color = candidates ? theme.muted : status?.kind === "error" ? theme.error : status?.kind === "busy" ? theme.busy : theme.ok
  const room = Math.max(0, width - cells(right) - 2)
  return (
    <Box width={width}>
      <Text wrap="truncate">
        {" "}
        <Text color={color}>{fit(text, room)}</Text>{" "}
        <Text color={paused ? theme.warn : theme.muted}>{right}</Text>
      </Text>
    </Box>
  )
}

const hintActions = ["open", "create", "edit", "delete", "setDefault", "cancelJob", "lookup", "cyclePolicy", "nextPane", "sortNext"] as const

/** Key hints of the current view, from the keymap. */
export const hints = (state: AppState): string => {
  const r = route(state)
  const view = r.view
  // Details are trees, except the profile's tables (identities, events, computed).
  const profileTable = view === "profiles" && r.detail !== undefined && !r.detail.id.startsWith("#") && pane(state) !== 0
  const tree = r.detail !== undefined && !profileTable
  // Only the timeline opens its rows.
  const opens = !(profileTable && pane(state) !== 2)
  const entries = keymap.filter(
    (entry) =>
      entry.modes.includes("normal") &&
      (hintActions as ReadonlyArray<string>).includes(entry.action) &&
      (entry.views === undefined || entry.views.includes(view)) &&
      !(entry.write && state.readOnly) &&
      !(tree && entry.action === "sortNext") &&
      !(!opens && entry.action === "open") &&
      !(r.detail?.id.startsWith("#") && (entry.action === "lookup" || entry.action === "cyclePolicy" || entry.action === "nextPane"))
  )
  const short: Record<string, string> = {
    open: tree ? "fold" : "open",
    create: "new",
    edit: "edit",
    delete: "delete",
    setDefault: "default",
    cancelJob: "cancel",
    lookup: "lookup",
    cyclePolicy: "merge policy",
    nextPane: "pane",
    sortNext: "sort"
  }
  const first = (entry: (typeof entries)[number]) => labels(entry).split(" ")[0]!
  const parts = entries
    .filter((entry) => entry.action !== "nextPane" || viewSpec(view)[r.detail ? "detailPanes" : "panes"].length > 1)
    .map((entry) => `${first(entry)} ${short[entry.action]}`)
  return [...parts, "/ filter", ": command", "esc back", "q quit"].join("  ")
}

export const BottomLine = ({ state, width }: { readonly state: AppState; readonly width: number }) => {
  if (state.mode === "command") {
    const text = state.command.text
    const ghost = suggestion(text, state)
    return (
      <Box width={width}>
        <Text wrap="truncate">
          <Text color={theme.key} bold>
            {":"}
          </Text>
          {text}
          <Text color={theme.muted}>{ghost}</Text>
          <Text inverse> </Text>
        </Text>
      </Box>
    )
  }
  if (state.mode === "filter") {
    return (
      <Box width={width}>
        <Text wrap="truncate">
          <Text color={theme.key} bold>
            {"/"}
          </Text>
          {filterOf(state)}
          <Text inverse> </Text>
          <Text color={theme.muted}>{"  Enter keep · Esc cancel"}</Text>
        </Text>
      </Box>
    )
  }
  return (
    <Box width={width}>
      <Text wrap="truncate" color={theme.muted}>
        {truncate(" " + hints(state), width)}
      </Text>
    </Box>
  )
}
