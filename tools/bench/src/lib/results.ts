/** Where figures and plots go: `bench/results/*.json`, `bench/plots/*.svg`. */
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, loadavg, totalmem } from "node:os"
import { join } from "node:path"
import type { Benchmark, Context, Report } from "./benchmark.js"

export const machine = () => ({
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpuModel: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  /** Other load on the machine when the benchmark started: 1, 5 and 15 minute averages. */
  loadAverage: loadavg().map((x) => Number(x.toFixed(2)))
})

const commit = (root: string) => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim()
  } catch {
    return undefined
  }
}

/** The file name suffix of a size: the default sizes write `ingest.json`, `--size 1m` writes `ingest.1m.json`. */
export const suffix = (context: Context) =>
  `${context.size === "default" ? "" : `.${context.size}`}${context.sqliteCacheMb === undefined ? "" : `.sqlite-cache-${context.sqliteCacheMb}mb`}` +
  // A partial run never replaces the full run's file.
  (context.only === undefined ? "" : `.only-${[...context.only].sort().join("-")}`)

export const write = (
  context: Context,
  benchmark: Benchmark,
  report: Report,
  run: { readonly startedAt: Date; readonly machine: ReturnType<typeof machine> }
) => {
  const results = join(context.root, "bench", "results")
  const plots = join(context.root, "bench", "plots")
  mkdirSync(results, { recursive: true })
  mkdirSync(plots, { recursive: true })
  const plotFiles = report.plots.map((plot) => plot.file.replace(/\.svg$/, `${suffix(context)}.svg`))
  report.plots.forEach((plot, i) => writeFileSync(join(plots, plotFiles[i]!), plot.svg))
  const file = join(results, `${benchmark.name}${suffix(context)}.json`)
  writeFileSync(
    file,
    JSON.stringify(
      {
        benchmark: benchmark.name,
        title: benchmark.title,
        size: context.size,
        runs: context.runs,
        startedAt: run.startedAt.toISOString(),
        durationSeconds: Math.round((Date.now() - run.startedAt.getTime()) / 1000),
        commit: commit(context.root),
        machine: run.machine,
        loadAverageAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
        targets: report.targets,
        figures: report.figures,
        plots: plotFiles.map((name) => `bench/plots/${name}`)
      },
      null,
      2
    ) + "\n"
  )
  return { file, plots: plotFiles.map((name) => join(plots, name)) }
}
