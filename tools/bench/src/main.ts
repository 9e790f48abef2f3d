/**
 * `npm run bench [-- <benchmark>…] [--size 1m] [--runs N] [--fresh] [--cpu-prof] [--sqlite-cache-mb N]`
 *
 * Runs the benchmarks of `src/benchmarks/` (every file there whose default
 * export is a Benchmark: adding one is adding a file), prints their figures,
 * writes them to `bench/results/<name>.json` and their plots to
 * `bench/plots/*.svg`.
 */
import { mkdirSync, readdirSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import type { Benchmark, Context, Size, Target } from "./lib/benchmark.js"
import { machine, write } from "./lib/results.js"
import { fmt } from "./lib/stats.js"

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, "..", "..", "..")

const usage = `Usage: npm run bench -- [benchmark…] [--size default|1m|smoke] [--runs N] [--fresh] [--cpu-prof] [--sqlite-cache-mb N] [--only PART,…] [--list]

  benchmark     one or more of the names --list shows (default: all, in order)
  --size 1m     the full sizes (1,000,000 profiles; takes about an hour here);
                the default sizes finish in under 10 minutes; --size smoke checks
                the harness in a minute (its figures mean nothing)
  --runs N      measurements per figure, the best reported (default 2)
  --fresh       rebuild the cached seeded stores in bench/tmp/stores
  --cpu-prof    write CPU profiles of the measured service processes to bench/tmp/profiles
  --sqlite-cache-mb N
                an experiment: give the ingesting SQLite connections (raw and
                service) an N MiB page cache instead of the store's 64 MiB
  --only PART,… only these parts of a benchmark that has parts (proxy: cached,
                pass, lookups, replicas, storm); written to <name>.only-<parts>.json
  --list        list the benchmarks`

const discover = async (): Promise<Array<Benchmark>> => {
  const dir = join(here, "benchmarks")
  const found: Array<Benchmark> = []
  for (const file of readdirSync(dir).filter((name) => /\.ts$/.test(name) && !name.endsWith(".d.ts"))) {
    const module = (await import(pathToFileURL(join(dir, file)).href)) as { default?: Benchmark }
    const benchmark = module.default
    if (benchmark && typeof benchmark.name === "string" && typeof benchmark.run === "function") found.push(benchmark)
  }
  return found.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name))
}

/** A target's verdict; a missed one with what it is up against, when the benchmark knows. */
const line = (target: Target) =>
  `${target.met ? "MET   " : "MISSED"} ${target.name}: ${fmt(target.value)} ${target.unit} (target ${target.op} ${fmt(target.limit)} ${target.unit})` +
  (!target.met && target.note !== undefined ? `\n         ${target.note}` : "")

const main = async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      size: { type: "string", default: "default" },
      runs: { type: "string", default: "2" },
      fresh: { type: "boolean", default: false },
      "cpu-prof": { type: "boolean", default: false },
      "sqlite-cache-mb": { type: "string" },
      only: { type: "string" },
      list: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false }
    }
  })
  if (values.help) return console.log(usage)
  const benchmarks = await discover()
  if (values.list) {
    for (const b of benchmarks) console.log(`${b.name.padEnd(10)} ${b.title}`)
    return
  }
  const size = values.size === "1m" || values.size === "1000000" ? "1m" : values.size === "default" || values.size === "smoke" ? values.size : undefined
  const runs = Number(values.runs)
  const cacheMb = values["sqlite-cache-mb"] === undefined ? undefined : Number(values["sqlite-cache-mb"])
  if (size === undefined || !Number.isInteger(runs) || runs < 1 || (cacheMb !== undefined && !(cacheMb > 0))) {
    console.error(usage)
    process.exit(2)
  }
  const unknown = positionals.filter((name) => !benchmarks.some((b) => b.name === name))
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(", ")}; there are ${benchmarks.map((b) => b.name).join(", ")}`)
    process.exit(2)
  }
  const selected = positionals.length === 0 ? benchmarks : benchmarks.filter((b) => positionals.includes(b.name))
  const cacheDir = join(root, "bench", "tmp")
  mkdirSync(cacheDir, { recursive: true })
  const context: Context = {
    size: size as Size,
    runs,
    root,
    cacheDir,
    fresh: values.fresh,
    cpuProfile: values["cpu-prof"],
    sqliteCacheMb: cacheMb,
    only: values.only === undefined ? undefined : values.only.split(",").map((part) => part.trim()).filter((part) => part !== ""),
    log: (message) => console.log(message)
  }
  const started = Date.now()
  const failed: Array<string> = []
  const judged: Array<Target> = []
  for (const benchmark of selected) {
    const startedAt = new Date()
    const before = machine()
    console.log(`\n=== ${benchmark.name}: ${benchmark.title} (size ${context.size}, best of ${context.runs}; load ${before.loadAverage.join(" ")}) ===`)
    try {
      const report = await benchmark.run(context)
      for (const text of report.summary) console.log(`  ${text}`)
      for (const target of report.targets) console.log(`  ${line(target)}`)
      judged.push(...report.targets)
      const written = write(context, benchmark, report, { startedAt, machine: before })
      console.log(`  -> ${relative(root, written.file)}${written.plots.map((p) => `, ${relative(root, p)}`).join("")}`)
    } catch (error) {
      failed.push(benchmark.name)
      console.error(`  ${benchmark.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    }
    console.log(`  (${Math.round((Date.now() - startedAt.getTime()) / 1000)} s)`)
  }
  console.log(`\n=== targets (${Math.round((Date.now() - started) / 1000)} s in all) ===`)
  for (const target of judged) console.log(`  ${line(target)}`)
  if (failed.length > 0) {
    console.error(`failed: ${failed.join(", ")}`)
    process.exitCode = 1
  }
}

await main()
