/**
 * Issue item 5: how lookup latency, stitching time and memory grow with the
 * store, from 10,000 profiles up (to 1,000,000 with --size 1m), on a log-log
 * plot; each must grow no faster than n log n.
 */
import { type Benchmark, target, type Target } from "../lib/benchmark.js"
import { lineChart } from "../lib/chart.js"
import { runWorker } from "../lib/child.js"
import { sizes } from "../lib/sizes.js"
import { best, fmt, logLogSlope } from "../lib/stats.js"
import { ingestBest } from "../lib/store.js"
import type { ProbeArgs, ProbeResult } from "../workers/probe.js"

/** Slack on a fitted exponent: the machine is noisy. */
const TOLERANCE = 0.1

interface Point {
  readonly profiles: number
  readonly records: number
  readonly ingestSeconds: number
  readonly ingestMaxRssMb: number
  readonly probe: ProbeResult
}

const metrics: ReadonlyArray<{ readonly key: string; readonly label: string; readonly value: (p: Point) => number }> = [
  { key: "lookupProfileP50", label: "GET profile p50", value: (p) => p.probe.profileUs.p50 },
  { key: "lookupEventsP50", label: "GET events p50", value: (p) => p.probe.eventsUs.p50 },
  { key: "stitchPerRecord", label: "stitching, per record", value: (p) => p.probe.stitchUsPerRecord },
  { key: "ingestTotal", label: "ingestion with stitching, total", value: (p) => p.ingestSeconds },
  { key: "peakMemory", label: "peak memory (ingestion)", value: (p) => p.ingestMaxRssMb },
  { key: "databaseSize", label: "database size", value: (p) => p.probe.dbMb }
]

const benchmark: Benchmark = {
  name: "growth",
  title: "Growth of lookup latency, stitching time and memory with the store's size",
  order: 40,
  run: async (context) => {
    const points: Array<Point> = []
    for (const profiles of sizes(context).growth) {
      context.log(`${profiles.toLocaleString("en-US")} profiles`)
      const store = await ingestBest(context, profiles)
      const probes: Array<ProbeResult> = []
      for (let run = 1; run <= context.runs; run++) {
        probes.push(
          await runWorker<ProbeResult>("probe", { dir: store.dir, profiles, lookups: 1000, stitchRecords: 2000 } satisfies ProbeArgs, {
            timeoutMs: 20 * 60_000,
            log: context.log
          })
        )
      }
      const probe: ProbeResult = {
        ...best(probes, (p) => p.profileUs.p50, false),
        eventsUs: best(probes, (p) => p.eventsUs.p50, false).eventsUs,
        stitchUsPerRecord: Math.min(...probes.map((p) => p.stitchUsPerRecord))
      }
      points.push({
        profiles,
        records: store.meta.ingest.records,
        ingestSeconds: store.meta.ingest.wallMs / 1000,
        ingestMaxRssMb: store.meta.ingest.maxRssMb,
        probe
      })
      context.log(
        `  GET profile p50 ${fmt(probe.profileUs.p50)} µs, events p50 ${fmt(probe.eventsUs.p50)} µs, stitching ${fmt(probe.stitchUsPerRecord)} µs/record, ` +
          `ingestion ${fmt(store.meta.ingest.wallMs / 1000)} s, peak ${fmt(store.meta.ingest.maxRssMb)} MB, database ${fmt(probe.dbMb)} MB`
      )
    }
    const nlogn = (n: number) => n * Math.log(n)
    const referenceSlope = logLogSlope(points.map((p) => [p.profiles, nlogn(p.profiles)] as const))
    const targets: Array<Target> = []
    const slopes: Record<string, number> = {}
    for (const metric of metrics) {
      const slope = logLogSlope(points.map((p) => [p.profiles, metric.value(p)] as const))
      slopes[metric.key] = Number(slope.toFixed(3))
      if (["lookupProfileP50", "lookupEventsP50", "stitchPerRecord", "ingestTotal", "peakMemory"].includes(metric.key)) {
        targets.push(target(`growth exponent of ${metric.label} (n log n: ${referenceSlope.toFixed(2)})`, slope, "", "<=", referenceSlope + TOLERANCE))
      }
    }
    const first = points[0]!
    const relative = (value: (p: Point) => number) => points.map((p) => [p.profiles, value(p) / value(first)] as const)
    return {
      figures: {
        sizes: points.map((p) => ({
          profiles: p.profiles,
          records: p.records,
          ingestSeconds: Number(p.ingestSeconds.toFixed(2)),
          ingestUsPerRecord: Number(((p.ingestSeconds * 1e6) / p.records).toFixed(1)),
          ingestMaxRssMb: Math.round(p.ingestMaxRssMb),
          stitchUsPerRecord: Number(p.probe.stitchUsPerRecord.toFixed(1)),
          getProfileUs: { p50: Math.round(p.probe.profileUs.p50), p99: Math.round(p.probe.profileUs.p99) },
          getEventsUs: { p50: Math.round(p.probe.eventsUs.p50), p99: Math.round(p.probe.eventsUs.p99) },
          databaseMb: Math.round(p.probe.dbMb),
          probeMaxRssMb: Math.round(p.probe.maxRssMb)
        })),
        growthExponents: slopes,
        nLogNExponent: Number(referenceSlope.toFixed(3)),
        tolerance: TOLERANCE
      },
      targets,
      summary: [
        ...points.map(
          (p) =>
            `${p.profiles.toLocaleString("en-US").padStart(9)} profiles: GET profile p50 ${fmt(p.probe.profileUs.p50)} µs (p99 ${fmt(p.probe.profileUs.p99)}), ` +
            `events p50 ${fmt(p.probe.eventsUs.p50)} µs, stitching ${fmt(p.probe.stitchUsPerRecord)} µs/record, ingestion ${fmt(p.ingestSeconds)} s, ` +
            `peak ${fmt(p.ingestMaxRssMb)} MB, database ${fmt(p.probe.dbMb)} MB`
        ),
        `growth exponents (log-log slopes; n log n is ${referenceSlope.toFixed(2)} over this range): ` +
          metrics.map((m) => `${m.label} ${slopes[m.key]!.toFixed(2)}`).join(", ")
      ],
      plots: [
        {
          file: "growth.svg",
          svg: lineChart({
            title: "Growth with the store's size (log-log, relative to the smallest store)",
            subtitle: `best of ${context.runs} runs per size; dashed: n and n log n`,
            xLabel: "profiles",
            yLabel: `value / value at ${first.profiles.toLocaleString("en-US")} profiles`,
            xLog: true,
            yLog: true,
            series: [
              ...metrics.map((m) => ({ name: m.label, points: relative(m.value) })),
              { name: "n", points: relative((p) => p.profiles), dashed: true, color: "#999" },
              { name: "n log n", points: relative((p) => nlogn(p.profiles)), dashed: true, color: "#333" }
            ]
          })
        }
      ]
    }
  }
}

export default benchmark
