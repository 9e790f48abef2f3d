/**
 * The frame around the views: header (upstream, org, sandbox), breadcrumbs,
 * status line (messages, errors, last update) and the bottom line (key hints,
 * or the `:` / `/` prompt).
 */
import { Box, Text } from "ink"
import { suggestion } from "../commands/registry.js"
import { clock, fit, truncate, width as cells } from "../format.js"
import { type Action, actsIn, keymap, labels, offeredBy } from "../keymap.js"
import { type AppState, filterOf, pane, route } from "../state/reducer.js"
import { permalink } from "../state/routes.js"
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
  const link = state.mode === "command" && candidates === undefined ? `permalink: ${permalink(route(state), state.sandbox)}  (:link copies it)` : undefined
  const message = status ? `${status.kind === "error" ? "✗" : status.kind === "busy" ? "…" : "✓"} ${clock(status.at)} ${status.text}` : ""
  const color = candidates || link ? theme.muted : status?.kind === "error" ? theme.error : status?.kind === "busy" ? theme.busy : theme.ok
  const room = Math.max(0, width - cells(right) - 2)
  // A message longer than the line says where to read it in full.
  const more = " · m full text"
  const text = candidates ?? link ?? (cells(message) > room && state.mode !== "command" ? `${truncate(message, Math.max(0, room - cells(more)))}${more}` : message)
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

/** In the order the hint line offers them: what the view does first, then moving around. */
const hintActions = [
  "create",
  "edit",
  "delete",
  "setDefault",
  "cancelJob",
  "lookup",
  "cyclePolicy",
  "cycleLeftPolicy",
  "diff",
  "explain",
  "open",
  "nextPane",
  "sortNext",
  "filter",
  "yank"
] as const

const short: Record<(typeof hintActions)[number], string> = {
  open: "open",
  create: "new",
  edit: "edit",
  delete: "delete",
  setDefault: "default",
  cancelJob: "cancel",
  lookup: "lookup",
  cyclePolicy: "policy",
  cycleLeftPolicy: "left policy",
  diff: "diff",
  explain: "explain",
  nextPane: "pane",
  sortNext: "sort",
  filter: "filter",
  yank: "copy"
}

/** Views whose items are trees with no tables inside (sorting means nothing there). */
const treeDetail = (state: AppState): boolean => {
  const r = route(state)
  if (!r.detail) return false
  if (r.view === "profiles" && !r.detail.id.startsWith("#")) return pane(state) === 0
  if (r.view === "explain") return false
  return r.view !== "requests"
}

/**
 * Key hints of the current screen, from the keymap: only keys that act
 * here. The view's own keys come first; what always works (`: command`,
 * `esc back`, `q quit`) is kept at the end, and `fixed` says how much of
 * the line it needs so that a narrow terminal drops view hints, never it.
 */
export const hints = (
  state: AppState,
  offered?: ReadonlyArray<Action> | undefined
): { readonly view: ReadonlyArray<string>; readonly fixed: ReadonlyArray<string> } => {
  const r = route(state)
  const view = r.view
  const detail = r.detail !== undefined
  const tree = treeDetail(state)
  const event = r.detail?.id.startsWith("#") === true
  // In a profile's tables only the timeline opens its rows; the Overview, diff and Messages open nothing.
  const profileTable = view === "profiles" && detail && !event && pane(state) !== 0
  const opens = !(profileTable && pane(state) !== 2) && view !== "diff" && view !== "messages" && !(view === "explain" && detail)
  const entries = keymap.filter(
    (entry) =>
      entry.modes.includes("normal") &&
      (hintActions as ReadonlyArray<string>).includes(entry.action) &&
      actsIn(entry, view, detail) &&
      offeredBy(entry, offered) &&
      !(entry.write && state.readOnly) &&
      !(tree && entry.action === "sortNext") &&
      !(view === "diff" && entry.action === "sortNext") &&
      !(!opens && entry.action === "open") &&
      !(view === "profiles" && !detail && entry.action === "create") &&
      !(event && (entry.action === "lookup" || entry.action === "cyclePolicy" || entry.action === "nextPane" || entry.action === "delete" || entry.action === "diff" || entry.action === "explain"))
  )
  const first = (entry: (typeof entries)[number]) => labels(entry).split(" ")[0]!
  const seen = new Set<string>()
  const rank = (entry: (typeof entries)[number]) => (hintActions as ReadonlyArray<string>).indexOf(entry.action)
  const parts = [...entries]
    .sort((a, b) => rank(a) - rank(b))
    .filter((entry) => entry.action !== "nextPane" || viewSpec(view)[r.detail ? "detailPanes" : "panes"].length > 1)
    .filter((entry) => (seen.has(entry.action) ? false : (seen.add(entry.action), true)))
    .map((entry) => `${first(entry)} ${short[entry.action as (typeof hintActions)[number]]}`)
  const fixed = [": command", ...(state.stack.length > 1 || filterOf(state) !== "" ? ["esc back"] : []), "? help", "q quit"]
  return { view: parts, fixed }
}

/** The hint line at a width: view hints that fit, then the fixed ones, always. */
export const hintLine = (state: AppState, width: number, offered?: ReadonlyArray<Action> | undefined): string => {
  const { view, fixed } = hints(state, offered)
  const tail = fixed.join("  ")
  let line = ""
  for (const part of view) {
    const next = line === "" ? part : `${line}  ${part}`
    if (cells(` ${next}  ${tail}`) > width) break
    line = next
  }
  return truncate(` ${line === "" ? tail : `${line}  ${tail}`}`, width)
}

export const BottomLine = ({
  state,
  width,
  offered
}: {
  readonly state: AppState
  readonly width: number
  /** The view's keys that act on the screen drawn (undefined: all). */
  readonly offered?: ReadonlyArray<Action> | undefined
}) => {
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
        {hintLine(state, width, offered)}
      </Text>
    </Box>
  )
}
