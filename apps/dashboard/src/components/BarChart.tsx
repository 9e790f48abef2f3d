/**
 * Horizontal bar charts as lines of text (eighth-block precision), so a
 * scrolling view can window them like any other line.
 */
import { Text } from "ink"
import type { ReactNode } from "react"
import { count, fit } from "../format.js"
import { theme } from "../theme.js"

export interface Bar {
  readonly label: string
  readonly value: number
  /** Shown after the value (a percentage…). */
  readonly note?: string | undefined
}

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]

/** A bar of `value / max` of `size` cells. */
export const bar = (value: number, max: number, size: number): string => {
  if (max <= 0 || size <= 0 || value <= 0) return ""
  const eighths = Math.max(1, Math.round((Math.min(value, max) / max) * size * 8))
  return "█".repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]
}

export interface BarChartOptions {
  readonly width: number
  readonly color?: string | undefined
  /** Widest label column. */
  readonly labelWidth?: number | undefined
}

/** One line per bar: label, bar, value. */
export const barLines = (bars: ReadonlyArray<Bar>, options: BarChartOptions): ReadonlyArray<ReactNode> => {
  if (bars.length === 0) return []
  const max = Math.max(...bars.map((b) => b.value))
  const valueWidth = Math.max(...bars.map((b) => (count(b.value) + (b.note ? ` ${b.note}` : "")).length))
  const labelWidth = Math.min(options.labelWidth ?? 24, Math.max(...bars.map((b) => b.label.length)), Math.floor(options.width / 2))
  const barWidth = Math.max(1, options.width - labelWidth - valueWidth - 2)
  return bars.map((b, i) => (
    <Text key={`${b.label}-${i}`} wrap="truncate">
      {fit(b.label, labelWidth)} <Text color={options.color ?? theme.bar}>{fit(bar(b.value, max, barWidth), barWidth)}</Text>{" "}
      {fit(count(b.value) + (b.note ? ` ${b.note}` : ""), valueWidth, "right")}
    </Text>
  ))
}
