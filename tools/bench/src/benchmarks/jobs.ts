/**
 * Issue item 6: profile jobs on a store of 100,000 profiles: deleting a
 * dataset (the CRM profile dataset, and the web events dataset) and
 * exporting every merged profile.
 */
import type { Benchmark } from "../lib/benchmark.js"
import { barChart } from "../lib/chart.js"
import { runWorker } from "../lib/child.js"
import { datasets } from "../lib/seed.js"
import { sizes } from "../lib/sizes.js"
import { best, fmt } from "../lib/stats.js"
import { copyStore, ensureStore, removeDir } from "../lib/store.js"
import type { JobArgs, JobResult } from "../workers/jobs.js"

const crm = datasets.find((d) => d.key === "crm")!.name
const web = datasets.find((d) => d.key === "web")!.name

const benchmark: Benchmark = {
  name: "jobs",
  title: "Profile jobs: delete a dataset, export every profile",
  order: 50,
  run: async (context) => {
    const profiles = sizes(context).jobs
    const store = await ensureStore(context, profiles)
    const kinds: ReadonlyArray<{ readonly key: string; readonly label: string; readonly args: Omit<JobArgs, "dir"> }> = [
      { key: "deleteProfileDataset", label: "delete the CRM profile dataset", args: { kind: "delete", dataset: crm } },
      { key: "deleteEventDataset", label: "delete the web events dataset", args: { kind: "delete", dataset: web } },
      { key: "exportProfiles", label: "export every merged profile", args: { kind: "export" } }
    ]
    const results: Record<string, Array<JobResult>> = {}
    for (let run = 1; run <= context.runs; run++) {
      for (const kind of kinds) {
        // Each job on its own copy of the store: deletes change it, exports add files and a batch.
        const dir = copyStore(context, store, `job-${kind.key}`)
        try {
          const result = await runWorker<JobResult>("jobs", { ...kind.args, dir } satisfies JobArgs, { timeoutMs: 20 * 60_000, log: context.log })
          ;(results[kind.key] ??= []).push(result)
          context.log(`  run ${run}/${context.runs}, ${kind.label}: ${fmt(result.rows)} rows in ${fmt(result.seconds)} s`)
        } finally {
          removeDir(dir)
        }
      }
    }
    const chosen = Object.fromEntries(kinds.map((k) => [k.key, best(results[k.key]!, (r) => r.seconds, false)]))
    const label = `${profiles.toLocaleString("en-US")} profiles`
    return {
      figures: {
        storeProfiles: profiles,
        ...Object.fromEntries(
          kinds.map((k) => {
            const r = chosen[k.key]!
            return [
              k.key,
              {
                seconds: Number(r.seconds.toFixed(2)),
                rows: r.rows,
                rowsPerSecond: Math.round(r.rowsPerSecond),
                maxRssMb: Math.round(r.maxRssMb),
                ...(r.exportedMb === undefined ? {} : { exportedMb: Math.round(r.exportedMb) }),
                runs: results[k.key]!.map((x) => Number(x.seconds.toFixed(2)))
              }
            ]
          })
        )
      },
      targets: [],
      summary: kinds.map((k) => {
        const r = chosen[k.key]!
        const unit = k.args.kind === "export" ? "profiles" : "rows"
        return `${k.label} (store of ${label}): ${fmt(r.rows)} ${unit} in ${fmt(r.seconds)} s, ${fmt(r.rowsPerSecond)} ${unit}/s, peak ${fmt(r.maxRssMb)} MB${r.exportedMb === undefined ? "" : `, ${fmt(r.exportedMb)} MB of NDJSON`}`
      }),
      plots: [
        {
          file: "jobs.svg",
          svg: barChart({
            title: "Profile jobs: seconds from creation to the end (lower is better)",
            subtitle: `store of ${label}; best of ${context.runs} runs`,
            unit: "s",
            groups: [
              {
                label: "jobs",
                bars: kinds.map((k) => ({
                  label: k.label,
                  value: chosen[k.key]!.seconds,
                  note: `${fmt(chosen[k.key]!.rows)} ${k.args.kind === "export" ? "profiles" : "rows"}`
                }))
              }
            ]
          })
        }
      ]
    }
  }
}

export default benchmark
