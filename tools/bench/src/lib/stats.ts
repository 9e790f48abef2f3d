/** Small numeric helpers shared by the benchmarks. */

export const percentile = (sorted: ReadonlyArray<number>, p: number): number => {
  if (sorted.length === 0) return NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index]!
}

export const summarize = (samples: ReadonlyArray<number>) => {
  const sorted = [...samples].sort((a, b) => a - b)
  const mean = sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length)
  return { n: sorted.length, mean, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN }
}

/** The run with the highest (or lowest) `score`. */
export const best = <A>(runs: ReadonlyArray<A>, score: (run: A) => number, higherIsBetter = true): A =>
  runs.reduce((a, b) => (higherIsBetter ? (score(b) > score(a) ? b : a) : score(b) < score(a) ? b : a))

/** 12,345 / 1.23 / 0.0123, readable in a terminal and a README. */
export const fmt = (x: number, digits = 3): string => {
  if (!Number.isFinite(x)) return String(x)
  const abs = Math.abs(x)
  if (abs >= 1000) return Math.round(x).toLocaleString("en-US")
  if (abs >= 100) return x.toFixed(0)
  return Number(x.toPrecision(digits)).toString()
}

export const mb = (bytes: number) => bytes / (1024 * 1024)

/** Least-squares slope of log(y) against log(x): the growth exponent. */
export const logLogSlope = (points: ReadonlyArray<readonly [number, number]>): number => {
  const xs = points.map(([x]) => Math.log(x))
  const ys = points.map(([, y]) => Math.log(y))
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  let num = 0
  let den = 0
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my)
    den += (xs[i]! - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
