/**
 * A table that renders only the rows that fit (10,000 rows cost what 20
 * do), with the list's filter, sort and cursor from the app state. Columns
 * narrower terminals cannot hold are dropped from the right (optional ones
 * first); every row is one line, so the layout never wraps.
 */
import { Box, Text } from "ink"
import { memo, useMemo } from "react"
import { fit } from "../format.js"
import type { Action } from "../keymap.js"
import { useApp } from "../runtime.js"
import { cursorOf, filterOf, type Sort, sortOf } from "../state/reducer.js"
import { theme } from "../theme.js"
import { useViewHandle, type Yanked } from "./handle.js"

export interface Column<R> {
  readonly title: string
  /** Fixed width; flexible when absent. */
  readonly width?: number | undefined
  /** Narrowest a flexible column may get before optional columns are dropped. */
  readonly min?: number | undefined
  readonly align?: "left" | "right" | undefined
  /** Dropped first when the terminal is narrow. */
  readonly optional?: boolean | undefined
  readonly value: (row: R) => string
  /** Sort key (defaults to `value`). */
  readonly sort?: ((row: R) => string | number) | undefined
  readonly color?: ((row: R) => string | undefined) | undefined
}

const GAP = 1
const MIN_FLEX = 6

/** The width of every column, `undefined` for those that do not fit. */
export const layoutColumns = <R,>(columns: ReadonlyArray<Column<R>>, total: number): ReadonlyArray<number | undefined> => {
  const shown = columns.map(() => true)
  const need = () =>
    columns.reduce((sum, column, i) => (shown[i] ? sum + (column.width ?? column.min ?? MIN_FLEX) : sum), 0) + GAP * (shown.filter(Boolean).length - 1)
  const dropOrder = [
    ...columns.map((c, i) => ({ c, i })).filter(({ c }) => c.optional).reverse(),
    ...columns.map((c, i) => ({ c, i })).filter(({ c, i }) => !c.optional && i > 0).reverse()
  ]
  for (const { i } of dropOrder) {
    if (need() <= total) break
    shown[i] = false
  }
  const fixed = columns.reduce((sum, column, i) => (shown[i] && column.width !== undefined ? sum + column.width : sum), 0)
  const visible = shown.filter(Boolean).length
  const flexible = columns.filter((column, i) => shown[i] && column.width === undefined).length
  const spare = Math.max(0, total - fixed - GAP * (visible - 1))
  let handedOut = 0
  let flexSeen = 0
  return columns.map((column, i) => {
    if (!shown[i]) return undefined
    if (column.width !== undefined) return Math.min(column.width, total)
    flexSeen++
    const share = flexSeen === flexible ? spare - handedOut : Math.floor(spare / flexible)
    handedOut += share
    return Math.max(1, share)
  })
}

export const filterRows = <R,>(rows: ReadonlyArray<R>, columns: ReadonlyArray<Column<R>>, filter: string): ReadonlyArray<R> => {
  const needle = filter.trim().toLowerCase()
  if (needle === "") return rows
  return rows.filter((row) => columns.some((column) => column.value(row).toLowerCase().includes(needle)))
}

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" })

export const sortRows = <R,>(rows: ReadonlyArray<R>, columns: ReadonlyArray<Column<R>>, sort: Sort | undefined): ReadonlyArray<R> => {
  if (!sort) return rows
  const column = columns[sort.column]
  if (!column) return rows
  const key = column.sort ?? column.value
  const keyed = rows.map((row, index) => ({ row, index, key: key(row) }))
  keyed.sort((a, b) => {
    const order =
      typeof a.key === "number" && typeof b.key === "number" ? a.key - b.key : collator.compare(String(a.key), String(b.key))
    return (sort.descending ? -order : order) || a.index - b.index
  })
  return keyed.map((entry) => entry.row)
}

/** First row shown so that the cursor stays on screen, centred once the list scrolls. */
export const windowStart = (cursor: number, count: number, visible: number): number =>
  Math.max(0, Math.min(cursor - Math.floor(visible / 2), count - visible))

export interface TableProps<R> {
  readonly rows: ReadonlyArray<R>
  readonly columns: ReadonlyArray<Column<R>>
  readonly width: number
  /** Lines, header included. */
  readonly height: number
  readonly rowKey: (row: R) => string
  /** View actions on the selected row (undefined when the list is empty); true when handled. */
  readonly onAction?: ((action: Action, row: R | undefined) => boolean) | undefined
  readonly empty?: string | undefined
  readonly loading?: boolean | undefined
  /** The rows could not be fetched (the status line says why). */
  readonly failed?: boolean | undefined
  /** What `y` copies of a row (default: its cells, tab-separated). */
  readonly yankRow?: ((row: R) => Yanked | undefined) | undefined
}

/** Filter, sort and cursor of the current list applied to `rows`, and the handle registered. */
export const useTableModel = <R,>(props: TableProps<R>) => {
  const { state } = useApp()
  const filter = filterOf(state)
  const sort = sortOf(state)
  const visibleRows = useMemo(
    () => sortRows(filterRows(props.rows, props.columns, filter), props.columns, sort),
    [props.rows, props.columns, filter, sort]
  )
  const cursor = Math.min(cursorOf(state), Math.max(0, visibleRows.length - 1))
  const selected = visibleRows[cursor]
  const page = Math.max(1, props.height - 1)
  useViewHandle({
    count: visibleRows.length,
    page,
    columns: props.columns.length,
    yank: (scope, now) => {
      const rows =
        filterOf(now) === filter && sortOf(now) === sort ? visibleRows : sortRows(filterRows(props.rows, props.columns, filterOf(now)), props.columns, sortOf(now))
      const line = (row: R) => props.columns.map((column) => column.value(row)).join("\t")
      if (scope === "all") {
        if (rows.length === 0) return undefined
        const header = props.columns.map((column) => column.title).join("\t")
        return { what: `${rows.length} ${rows.length === 1 ? "row" : "rows"} (tab-separated)`, text: [header, ...rows.map(line)].join("\n") }
      }
      const row = rows[Math.min(cursorOf(now), Math.max(0, rows.length - 1))]
      if (row === undefined) return undefined
      const custom = props.yankRow?.(row)
      return custom ?? { what: "the row", text: line(row) }
    },
    onAction: (action, now) => {
      const rows =
        filterOf(now) === filter && sortOf(now) === sort ? visibleRows : sortRows(filterRows(props.rows, props.columns, filterOf(now)), props.columns, sortOf(now))
      return props.onAction?.(action, rows[Math.min(cursorOf(now), Math.max(0, rows.length - 1))]) ?? false
    }
  })
  return { visibleRows, cursor, selected, sort, filter, page }
}

export function Table<R>(props: TableProps<R>) {
  const { visibleRows, cursor, sort, page, filter } = useTableModel(props)
  const widths = useMemo(() => layoutColumns(props.columns, props.width), [props.columns, props.width])
  const start = windowStart(cursor, visibleRows.length, page)
  const slice = visibleRows.slice(start, start + page)
  return (
    <Box flexDirection="column" width={props.width} height={props.height} overflow="hidden">
      <Text bold color={theme.accent} wrap="truncate">
        {props.columns
          .map((column, i) => {
            const w = widths[i]
            if (w === undefined) return undefined
            const arrow = sort?.column === i ? (sort.descending ? "▼" : "▲") : ""
            return fit(column.title.toUpperCase() + arrow, w, column.align)
          })
          .filter((cell) => cell !== undefined)
          .join(" ".repeat(GAP))}
      </Text>
      {slice.length === 0 ? (
        <Text color={theme.muted} wrap="truncate">
          {props.failed && props.rows.length === 0
            ? "could not load this list: see the status line (r retries)"
            : props.loading && props.rows.length === 0
            ? "loading…"
            : props.rows.length > 0 && filter
              ? `nothing matches /${filter} (Esc clears the filter)`
              : (props.empty ?? "nothing here")}
        </Text>
      ) : (
        slice.map((row, i) => (
          <Row key={props.rowKey(row)} row={row} columns={props.columns} widths={widths} selected={start + i === cursor} />
        ))
      )}
    </Box>
  )
}

interface RowProps<R> {
  readonly row: R
  readonly columns: ReadonlyArray<Column<R>>
  readonly widths: ReadonlyArray<number | undefined>
  readonly selected: boolean
}

function RowView<R>({ row, columns, widths, selected }: RowProps<R>) {
  const cells: Array<{ text: string; color: string | undefined }> = []
  columns.forEach((column, i) => {
    const w = widths[i]
    if (w === undefined) return
    if (cells.length > 0) cells.push({ text: " ".repeat(GAP), color: undefined })
    cells.push({ text: fit(column.value(row), w, column.align), color: column.color?.(row) })
  })
  if (selected) {
    return (
      <Text wrap="truncate" backgroundColor={theme.selected.backgroundColor} color={theme.selected.color}>
        {cells.map((cell) => cell.text).join("")}
      </Text>
    )
  }
  return (
    <Text wrap="truncate">
      {cells.map((cell, i) => (cell.color ? <Text key={i} color={cell.color}>{cell.text}</Text> : cell.text))}
    </Text>
  )
}

const Row = memo(RowView) as typeof RowView
