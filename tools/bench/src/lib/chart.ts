/**
 * A tiny SVG chart module: horizontal bar charts and line charts (linear or
 * log axes). Plain strings, no dependency; the output renders on GitHub.
 */

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]
const FONT = `font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"`

const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** 1234567 → "1.23M", 0.0123 → "0.0123". */
export const short = (x: number): string => {
  const abs = Math.abs(x)
  if (abs >= 1e9) return `${trim(x / 1e9)}G`
  if (abs >= 1e6) return `${trim(x / 1e6)}M`
  if (abs >= 1e4) return `${trim(x / 1e3)}k`
  if (abs >= 100) return Math.round(x).toString()
  return trim(x)
}
const trim = (x: number) => Number(x.toPrecision(3)).toString()

const text = (x: number, y: number, content: string, attrs = "") =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} ${attrs}>${esc(content)}</text>`

const frame = (width: number, height: number, title: string, subtitle: string | undefined, body: string) =>
  [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    text(16, 24, title, `font-size="16" font-weight="600" fill="#111"`),
    subtitle ? text(16, 42, subtitle, `font-size="12" fill="#555"`) : "",
    body,
    `</svg>`
  ].join("\n")

export interface Bar {
  readonly label: string
  readonly value: number
  /** Printed after the value (e.g. "0.52× raw"). */
  readonly note?: string | undefined
  readonly color?: string | undefined
}

export interface BarGroup {
  readonly label: string
  readonly bars: ReadonlyArray<Bar>
}

export interface BarChart {
  readonly title: string
  readonly subtitle?: string | undefined
  readonly unit: string
  readonly groups: ReadonlyArray<BarGroup>
  /** Vertical marker lines, e.g. a target. */
  readonly markers?: ReadonlyArray<{ readonly value: number; readonly label: string; readonly group?: string | undefined }> | undefined
  readonly width?: number | undefined
}

/** Horizontal bars, grouped; each bar labelled with its value. */
export const barChart = (chart: BarChart): string => {
  const width = chart.width ?? 760
  const longest = Math.max(...chart.groups.flatMap((g) => g.bars.map((b) => b.label.length)))
  // About 6.5 px per character at 12 px.
  const left = Math.max(120, Math.ceil(longest * 6.5) + 24)
  const right = 170
  const barHeight = 18
  const gap = 6
  const groupGap = 16
  const top = chart.subtitle ? 60 : 44
  const max = Math.max(...chart.groups.flatMap((g) => g.bars.map((b) => b.value)), ...(chart.markers ?? []).map((m) => m.value)) * 1.05 || 1
  const scale = (v: number) => left + (Math.max(0, v) / max) * (width - left - right)
  const parts: Array<string> = []
  let y = top
  for (const group of chart.groups) {
    parts.push(text(16, y + 12, group.label, `font-size="13" font-weight="600" fill="#222"`))
    y += 20
    const groupTop = y
    group.bars.forEach((bar, i) => {
      const color = bar.color ?? PALETTE[i % PALETTE.length]
      parts.push(text(left - 8, y + barHeight - 5, bar.label, `font-size="12" fill="#333" text-anchor="end"`))
      parts.push(`<rect x="${left}" y="${y}" width="${(scale(bar.value) - left).toFixed(1)}" height="${barHeight}" fill="${color}" rx="2"/>`)
      parts.push(
        text(scale(bar.value) + 6, y + barHeight - 5, `${short(bar.value)} ${chart.unit}${bar.note ? `  ${bar.note}` : ""}`, `font-size="12" fill="#111"`)
      )
      y += barHeight + gap
    })
    for (const marker of (chart.markers ?? []).filter((m) => m.group === undefined || m.group === group.label)) {
      const x = scale(marker.value)
      parts.push(`<line x1="${x.toFixed(1)}" y1="${groupTop - 4}" x2="${x.toFixed(1)}" y2="${y - gap + 4}" stroke="#d62728" stroke-dasharray="4 3" stroke-width="1.5"/>`)
      parts.push(text(x + 3, groupTop - 6, marker.label, `font-size="11" fill="#d62728"`))
    }
    y += groupGap
  }
  return frame(width, y + 8, chart.title, chart.subtitle, parts.join("\n"))
}

export interface Series {
  readonly name: string
  readonly points: ReadonlyArray<readonly [number, number]>
  readonly dashed?: boolean | undefined
  readonly color?: string | undefined
}

export interface LineChart {
  readonly title: string
  readonly subtitle?: string | undefined
  readonly xLabel: string
  readonly yLabel: string
  readonly xLog?: boolean | undefined
  readonly yLog?: boolean | undefined
  readonly series: ReadonlyArray<Series>
  readonly width?: number | undefined
  readonly height?: number | undefined
}

const ticks = (lo: number, hi: number, log: boolean): Array<number> => {
  if (log) {
    const out: Array<number> = []
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e
        if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v)
      }
    }
    return out.length >= 2 ? out : [lo, hi]
  }
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 5 || 1))
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= 6) ?? step * 10
  const out: Array<number> = []
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-9; v += nice) out.push(Number(v.toPrecision(12)))
  return out
}

/** Lines with markers; log axes for growth plots. */
export const lineChart = (chart: LineChart): string => {
  const width = chart.width ?? 760
  const height = chart.height ?? 440
  const left = 70
  // The legend sits on the right: about 6 px per character at 11 px.
  const right = Math.max(150, Math.ceil(Math.max(...chart.series.map((s) => s.name.length)) * 6) + 52)
  const top = chart.subtitle ? 60 : 44
  const bottom = 50
  const points = chart.series.flatMap((s) => s.points).filter(([x, y]) => (!chart.xLog || x > 0) && (!chart.yLog || y > 0))
  const xs = points.map(([x]) => x)
  const ys = points.map(([, y]) => y)
  let [xlo, xhi] = [Math.min(...xs), Math.max(...xs)]
  let [ylo, yhi] = [Math.min(...ys), Math.max(...ys)]
  if (chart.yLog) [ylo, yhi] = [ylo / 1.3, yhi * 1.3]
  else [ylo, yhi] = [Math.min(0, ylo), yhi * 1.08]
  if (chart.xLog) [xlo, xhi] = [xlo / 1.15, xhi * 1.15]
  const f = (log: boolean | undefined) => (v: number) => (log ? Math.log10(v) : v)
  const fx = f(chart.xLog)
  const fy = f(chart.yLog)
  const sx = (x: number) => left + ((fx(x) - fx(xlo)) / (fx(xhi) - fx(xlo) || 1)) * (width - left - right)
  const sy = (y: number) => height - bottom - ((fy(y) - fy(ylo)) / (fy(yhi) - fy(ylo) || 1)) * (height - top - bottom)
  const parts: Array<string> = []
  for (const t of ticks(xlo, xhi, chart.xLog === true)) {
    parts.push(`<line x1="${sx(t).toFixed(1)}" y1="${top}" x2="${sx(t).toFixed(1)}" y2="${height - bottom}" stroke="#eee"/>`)
    parts.push(text(sx(t), height - bottom + 16, short(t), `font-size="11" fill="#555" text-anchor="middle"`))
  }
  for (const t of ticks(ylo, yhi, chart.yLog === true)) {
    parts.push(`<line x1="${left}" y1="${sy(t).toFixed(1)}" x2="${width - right}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`)
    parts.push(text(left - 6, sy(t) + 4, short(t), `font-size="11" fill="#555" text-anchor="end"`))
  }
  parts.push(`<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}" fill="none" stroke="#999"/>`)
  parts.push(text((left + width - right) / 2, height - 12, chart.xLabel, `font-size="12" fill="#333" text-anchor="middle"`))
  parts.push(
    `<text transform="translate(16 ${(top + height - bottom) / 2}) rotate(-90)" ${FONT} font-size="12" fill="#333" text-anchor="middle">${esc(chart.yLabel)}</text>`
  )
  chart.series.forEach((series, i) => {
    const color = series.color ?? PALETTE[i % PALETTE.length]
    const visible = series.points.filter(([x, y]) => (!chart.xLog || x > 0) && (!chart.yLog || y > 0))
    if (visible.length === 0) return
    const d = visible.map(([x, y], k) => `${k === 0 ? "M" : "L"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ")
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${series.dashed ? ` stroke-dasharray="6 4"` : ""}/>`)
    if (!series.dashed) for (const [x, y] of visible) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3.5" fill="${color}"/>`)
    const ly = top + 14 + i * 18
    parts.push(`<line x1="${width - right + 12}" y1="${ly - 4}" x2="${width - right + 34}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${series.dashed ? ` stroke-dasharray="6 4"` : ""}/>`)
    parts.push(text(width - right + 40, ly, series.name, `font-size="11" fill="#222"`))
  })
  return frame(width, height, chart.title, chart.subtitle, parts.join("\n"))
}
