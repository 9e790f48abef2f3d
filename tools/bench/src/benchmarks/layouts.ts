/**
 * Issue item 4, the raw baseline of other storage layouts: how fast one
 * SQLite connection can write the web events (6.35 M of the 9.04 M records
 * at 1,000,000 profiles) with the store's event table, with its text key
 * replaced by an integer one, and with no index at all; and the rows alone,
 * with no identity resolved. Set beside the events' share of the 2-minute
 * target, they say what a layout can change and what it cannot.
 */
import type { Benchmark } from "../lib/benchmark.js"
import { barChart } from "../lib/chart.js"
import { runWorker } from "../lib/child.js"
import { datasets, recordsOf } from "../lib/seed.js"
import { sizes } from "../lib/sizes.js"
import { best, fmt } from "../lib/stats.js"
import { removeDir, scratchDir } from "../lib/store.js"
import type { Layout, LayoutArgs, LayoutResult } from "../workers/layout.js"

const MINUTES_TARGET = 2

// Types only from the worker: importing it would run it here.
const LAYOUTS: ReadonlyArray<Layout> = ["store", "integer-key", "no-index", "rows-only"]

const labels: Record<Layout, string> = {
  store: "the store's layout (text key)",
  "integer-key": "integer (hashed) event key",
  "no-index": "no index on events",
  "rows-only": "no index, no identities resolved"
}

/** The web events' share of all seeded records at `profiles`, counted rather than assumed. */
const webShare = (profiles: number) => {
  let web = 0
  let all = 0
  for (const spec of datasets) {
    let n = 0
    for (const record of recordsOf(spec.key, profiles)) if (record !== undefined) n++
    all += n
    if (spec.key === "web") web = n
  }
  return web / all
}

const benchmark: Benchmark = {
  name: "layouts",
  title: "Raw write rate of the web events in other storage layouts (one SQLite writer)",
  order: 12,
  run: async (context) => {
    const perSize: Array<Record<string, unknown>> = []
    const summary: Array<string> = []
    const groups: Array<{ label: string; bars: Array<{ label: string; value: number; note?: string }> }> = []
    const markers: Array<{ value: number; label: string; group: string }> = []
    for (const profiles of sizes(context).ingest) {
      const label = `${profiles.toLocaleString("en-US")} profiles`
      const runs: Record<string, Array<LayoutResult>> = {}
      for (let run = 1; run <= context.runs; run++) {
        for (const layout of LAYOUTS) {
          const dir = scratchDir(context, `layout-${layout}-${profiles}`)
          try {
            const result = await runWorker<LayoutResult>("layout", { layout, profiles, dir, cacheMb: context.sqliteCacheMb } satisfies LayoutArgs, {
              timeoutMs: Math.max(10 * 60_000, profiles * 3),
              log: context.log
            })
            ;(runs[layout] ??= []).push(result)
            context.log(`  ${label}, run ${run}/${context.runs}, ${labels[layout]}: ${fmt(result.records)} events in ${fmt(result.wallMs / 1000)} s`)
          } finally {
            removeDir(dir)
          }
        }
      }
      const share = webShare(profiles)
      // The seconds the events may take if all records share the 2 minutes evenly, scaled to this size.
      const budgetSeconds = MINUTES_TARGET * 60 * share * (profiles / 1_000_000)
      const chosen = LAYOUTS.map((layout) => best(runs[layout]!, (r) => r.recordsPerSecond))
      perSize.push({
        profiles,
        webShareOfRecords: Number(share.toFixed(3)),
        budgetSeconds: Number(budgetSeconds.toFixed(1)),
        layouts: Object.fromEntries(
          chosen.map((r) => [
            r.layout,
            {
              records: r.records,
              seconds: Number((r.wallMs / 1000).toFixed(2)),
              cpuSeconds: Number((r.cpuMs / 1000).toFixed(2)),
              recordsPerSecond: Math.round(r.recordsPerSecond),
              maxRssMb: Math.round(r.maxRssMb),
              databaseMb: Math.round(r.databaseMb),
              runs: runs[r.layout]!.map((x) => Number((x.wallMs / 1000).toFixed(2)))
            }
          ])
        )
      })
      summary.push(
        `${label}, ${fmt(chosen[0]!.records)} web events (${fmt(share * 100)} % of the records; their share of 2 min: ${fmt(budgetSeconds)} s at this size): ` +
          chosen.map((r) => `${labels[r.layout]} ${fmt(r.wallMs / 1000)} s (${fmt(r.recordsPerSecond)} rec/s)`).join(", ")
      )
      groups.push({
        label,
        bars: chosen.map((r) => ({ label: labels[r.layout], value: r.recordsPerSecond, note: `${fmt(r.wallMs / 1000)} s` }))
      })
      markers.push({ value: chosen[0]!.records / budgetSeconds, label: "rate for 2 min at 1,000,000", group: label })
    }
    return {
      figures: { sqliteCacheMb: context.sqliteCacheMb ?? "the store's (64 MiB)", sizes: perSize },
      targets: [],
      summary,
      plots: [
        {
          file: "layouts.svg",
          svg: barChart({
            title: "Web events written raw, by layout: records per second (higher is better)",
            subtitle: `one SQLite connection, one transaction; best of ${context.runs} runs`,
            unit: "rec/s",
            groups,
            markers
          })
        }
      ]
    }
  }
}

export default benchmark
