/**
 * Issue item 2: GET profile and GET events at 32 concurrent connections on a
 * seeded store, against a Hono hello-world route on the same machine (the
 * HTTP ceiling): throughput and p50/p99 latency. A hello world on the
 * service's own HTTP stack (@effect/platform HttpApi) is measured too, so the
 * gap splits into framework and lookup work.
 *
 * Each service process first answers every identity once (the first pass,
 * reported on its own: every answer read from the store), then the load is
 * measured: the steady state of a service that has been running, where an
 * answer is kept until the next write. The same loads with
 * `--lookup-cache-mb 0` say what a lookup costs when it is read every time.
 */
import { Workers } from "@rtcp/local-platform"
import { type Benchmark, target } from "../lib/benchmark.js"
import { barChart } from "../lib/chart.js"
import { lookupsDuringBatch } from "../lib/duringBatch.js"
import { load, type LoadResult, pass } from "../lib/load.js"
import { lookupIdentities } from "../lib/seed.js"
import {
  eventsPath,
  platformHeaders,
  profilePath,
  type Resources,
  startEffectHello,
  startHono,
  startService,
  withServer
} from "../lib/service.js"
import { cpuProfileArgs, sizes } from "../lib/sizes.js"
import { best, fmt } from "../lib/stats.js"
import { ensureStore } from "../lib/store.js"

const CONNECTIONS = 32
const RATIO_TARGET = 0.4
const P99_TARGET_MS = 10
const NAMES = ["Hono hello world", "Effect HttpApi hello world", "GET profile", "GET events"]

const brief = (r: LoadResult) => ({
  requestsPerSecond: Math.round(r.requestsPerSecond),
  p50Ms: Number(r.latencyMs.p50.toFixed(2)),
  p90Ms: Number(r.latencyMs.p90.toFixed(2)),
  p99Ms: Number(r.latencyMs.p99.toFixed(2)),
  meanMs: Number(r.latencyMs.mean.toFixed(2)),
  requests: r.requests,
  errors: r.errors + r.timeouts,
  non2xx: r.non2xx
})

const benchmark: Benchmark = {
  name: "lookups",
  title: "GET profile and GET events at 32 connections vs a Hono hello world",
  order: 20,
  run: async (context) => {
    const { loadSeconds, lookupStore } = sizes(context)
    const store = await ensureStore(context, lookupStore)
    const identities = lookupIdentities(lookupStore, 5000)
    // What `rtcp-service` picks here, and the configuration measured beside it.
    const workers = Workers.count({ directory: store.dir })
    const other = workers === 1 ? 2 : 1
    const hono: Array<LoadResult> = []
    const effectHello: Array<LoadResult> = []
    const profile: Array<LoadResult> = []
    const events: Array<LoadResult> = []
    const profileOne: Array<LoadResult> = []
    const eventsOne: Array<LoadResult> = []
    const profileStore: Array<LoadResult> = []
    const eventsStore: Array<LoadResult> = []
    const profileFirst: Array<LoadResult> = []
    const eventsFirst: Array<LoadResult> = []
    const serviceResources: Array<Resources | undefined> = []
    for (let run = 1; run <= context.runs; run++) {
      context.log(`run ${run}/${context.runs}: Hono, Effect HttpApi hello, GET profile, GET events (${loadSeconds} s each, ${CONNECTIONS} connections)`)
      const ceiling = await withServer(startHono(context), ({ url }) => load({ url, connections: CONNECTIONS, seconds: loadSeconds }))
      hono.push(ceiling.value)
      const framework = await withServer(startEffectHello(context), ({ url }) => load({ url, connections: CONNECTIONS, seconds: loadSeconds }))
      effectHello.push(framework.value)
      const measure = (workers: number | "default", lookupCacheMb?: number) => withServer(
        startService(
          context,
          { dir: store.dir, workers, lookupCacheMb },
          cpuProfileArgs(context, `lookups-workers-${workers}${lookupCacheMb === 0 ? "-no-cache" : ""}`)
        ),
        async ({ token, url }) => {
          const headers = platformHeaders(token)
          // Every lookup must find its profile: a 404 is cheaper and would flatter the figures.
          for (const path of [profilePath(identities[0]!), eventsPath(identities[0]!)]) {
            const response = await fetch(`${url}${path}`, { headers })
            if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`)
          }
          // Each identity once first, on a fresh process: the cold figure. The load after it is
          // the steady state a service that has been running meets (its answers kept until a write).
          const pFirst = await pass({ url, connections: CONNECTIONS, headers, paths: identities.map(profilePath) })
          const p = await load({ url, connections: CONNECTIONS, seconds: loadSeconds, headers, paths: identities.map(profilePath) })
          const eFirst = await pass({ url, connections: CONNECTIONS, headers, paths: identities.map(eventsPath) })
          const e = await load({ url, connections: CONNECTIONS, seconds: loadSeconds, headers, paths: identities.map(eventsPath) })
          return { p, e, pFirst, eFirst }
        }
      )
      // As a user runs it: the lean route, and --workers at its default…
      const served = await measure("default")
      // …and the other way: one process (--workers 1), or two readers where the default is one process.
      const single = await measure(other)
      profileOne.push(single.value.p)
      eventsOne.push(single.value.e)
      // …and every lookup read from the store (--lookup-cache-mb 0): what a lookup costs when its answer is not kept.
      const reads = await measure("default", 0)
      profileStore.push(reads.value.p)
      eventsStore.push(reads.value.e)
      profile.push(served.value.p)
      events.push(served.value.e)
      profileFirst.push(served.value.pFirst)
      eventsFirst.push(served.value.eFirst)
      serviceResources.push(served.resources)
      context.log(
        `  Hono ${fmt(ceiling.value.requestsPerSecond)} req/s; Effect hello ${fmt(framework.value.requestsPerSecond)} req/s; ` +
          `first pass: profile ${fmt(served.value.pFirst.requestsPerSecond)} req/s, events ${fmt(served.value.eFirst.requestsPerSecond)} req/s; ` +
          `profile ${fmt(served.value.p.requestsPerSecond)} req/s p99 ${fmt(served.value.p.latencyMs.p99)} ms; ` +
          `events ${fmt(served.value.e.requestsPerSecond)} req/s p99 ${fmt(served.value.e.latencyMs.p99)} ms; ` +
          `--workers ${other}: profile ${fmt(single.value.p.requestsPerSecond)} req/s p99 ${fmt(single.value.p.latencyMs.p99)} ms, ` +
          `events ${fmt(single.value.e.requestsPerSecond)} req/s p99 ${fmt(single.value.e.latencyMs.p99)} ms; ` +
          `no cache: profile ${fmt(reads.value.p.requestsPerSecond)} req/s p99 ${fmt(reads.value.p.latencyMs.p99)} ms, ` +
          `events ${fmt(reads.value.e.requestsPerSecond)} req/s p99 ${fmt(reads.value.e.latencyMs.p99)} ms`
      )
    }
    // Once, after the runs: it writes to a copy of the store.
    const batchRecords = context.size === "smoke" ? 1_000 : 30_000
    context.log(`GET profile at ${CONNECTIONS} connections while the same service processes a batch of ${batchRecords.toLocaleString("en-US")} records`)
    const duringBatch = await lookupsDuringBatch(context, store, identities.map(profilePath), { records: batchRecords, seconds: loadSeconds + 4 })
    const h = best(hono, (r) => r.requestsPerSecond)
    const x = best(effectHello, (r) => r.requestsPerSecond)
    const p = best(profile, (r) => r.requestsPerSecond)
    const e = best(events, (r) => r.requestsPerSecond)
    const p1 = best(profileOne, (r) => r.requestsPerSecond)
    const e1 = best(eventsOne, (r) => r.requestsPerSecond)
    const pf = best(profileFirst, (r) => r.requestsPerSecond)
    const ef = best(eventsFirst, (r) => r.requestsPerSecond)
    const p0 = best(profileStore, (r) => r.requestsPerSecond)
    const e0 = best(eventsStore, (r) => r.requestsPerSecond)
    const failures = [...profile, ...events, ...profileOne, ...eventsOne, ...profileStore, ...eventsStore, ...profileFirst, ...eventsFirst].reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0)
    const profileRatio = p.requestsPerSecond / h.requestsPerSecond
    const eventsRatio = e.requestsPerSecond / h.requestsPerSecond
    const label = `${lookupStore.toLocaleString("en-US")} profiles`
    return {
      figures: {
        storeProfiles: lookupStore,
        connections: CONNECTIONS,
        seconds: loadSeconds,
        identities: identities.length,
        hono: brief(h),
        effectHttpApiHello: { ...brief(x), ratioToCeiling: Number((x.requestsPerSecond / h.requestsPerSecond).toFixed(3)) },
        getProfile: { ...brief(p), ratioToCeiling: Number(profileRatio.toFixed(3)) },
        getEvents: { ...brief(e), ratioToCeiling: Number(eventsRatio.toFixed(3)) },
        defaultWorkers: workers,
        otherWorkers: other,
        otherConfiguration: {
          getProfile: { ...brief(p1), ratioToCeiling: Number((p1.requestsPerSecond / h.requestsPerSecond).toFixed(3)) },
          getEvents: { ...brief(e1), ratioToCeiling: Number((e1.requestsPerSecond / h.requestsPerSecond).toFixed(3)) }
        },
        firstPass: {
          getProfile: { ...brief(pf), ratioToCeiling: Number((pf.requestsPerSecond / h.requestsPerSecond).toFixed(3)) },
          getEvents: { ...brief(ef), ratioToCeiling: Number((ef.requestsPerSecond / h.requestsPerSecond).toFixed(3)) }
        },
        storeReads: {
          getProfile: { ...brief(p0), ratioToCeiling: Number((p0.requestsPerSecond / h.requestsPerSecond).toFixed(3)) },
          getEvents: { ...brief(e0), ratioToCeiling: Number((e0.requestsPerSecond / h.requestsPerSecond).toFixed(3)) }
        },
        duringBatch,
        failedRequests: failures,
        serviceMaxRssMb: Math.round(Math.max(...serviceResources.map((r) => r?.maxRssMb ?? 0))),
        runs: {
          hono: hono.map(brief),
          effectHttpApiHello: effectHello.map(brief),
          getProfile: profile.map(brief),
          getEvents: events.map(brief),
          getProfileFirstPass: profileFirst.map(brief),
          getEventsFirstPass: eventsFirst.map(brief),
          getProfileOtherWorkers: profileOne.map(brief),
          getEventsOtherWorkers: eventsOne.map(brief),
          getProfileStoreReads: profileStore.map(brief),
          getEventsStoreReads: eventsStore.map(brief)
        }
      },
      targets: [
        target(`GET profile throughput / Hono hello world, ${label}`, profileRatio, "×", ">=", RATIO_TARGET),
        target(`GET profile p99 latency at ${CONNECTIONS} connections, ${label}`, p.latencyMs.p99, "ms", "<=", P99_TARGET_MS),
        target(`GET events throughput / Hono hello world, ${label}`, eventsRatio, "×", ">=", RATIO_TARGET),
        target(`GET events p99 latency at ${CONNECTIONS} connections, ${label}`, e.latencyMs.p99, "ms", "<=", P99_TARGET_MS)
      ],
      summary: [
        `store of ${label}, ${identities.length} distinct identities, ${CONNECTIONS} connections, ${loadSeconds} s per run${failures > 0 ? `, ${failures} failed requests` : ""}`,
        `Hono hello world: ${fmt(h.requestsPerSecond)} req/s, p50 ${fmt(h.latencyMs.p50)} ms, p99 ${fmt(h.latencyMs.p99)} ms`,
        `Effect HttpApi hello world (the service's framework): ${fmt(x.requestsPerSecond)} req/s (${fmt(x.requestsPerSecond / h.requestsPerSecond)}× Hono), p50 ${fmt(x.latencyMs.p50)} ms, p99 ${fmt(x.latencyMs.p99)} ms`,
        `the service as a user runs it: lean route, --workers ${workers} (the default here), after one pass over the ${identities.length} identities`,
        `GET profile: ${fmt(p.requestsPerSecond)} req/s (${fmt(profileRatio)}× Hono), p50 ${fmt(p.latencyMs.p50)} ms, p99 ${fmt(p.latencyMs.p99)} ms`,
        `GET events:  ${fmt(e.requestsPerSecond)} req/s (${fmt(eventsRatio)}× Hono), p50 ${fmt(e.latencyMs.p50)} ms, p99 ${fmt(e.latencyMs.p99)} ms`,
        `--workers ${other}, GET profile: ${fmt(p1.requestsPerSecond)} req/s (${fmt(p1.requestsPerSecond / h.requestsPerSecond)}× Hono), p50 ${fmt(p1.latencyMs.p50)} ms, p99 ${fmt(p1.latencyMs.p99)} ms`,
        `--workers ${other}, GET events:  ${fmt(e1.requestsPerSecond)} req/s (${fmt(e1.requestsPerSecond / h.requestsPerSecond)}× Hono), p50 ${fmt(e1.latencyMs.p50)} ms, p99 ${fmt(e1.latencyMs.p99)} ms`,
        `the first pass itself (a fresh process, each identity once, every answer read from the store):`,
        `  GET profile: ${fmt(pf.requestsPerSecond)} req/s (${fmt(pf.requestsPerSecond / h.requestsPerSecond)}× Hono), p50 ${fmt(pf.latencyMs.p50)} ms, p99 ${fmt(pf.latencyMs.p99)} ms`,
        `  GET events:  ${fmt(ef.requestsPerSecond)} req/s (${fmt(ef.requestsPerSecond / h.requestsPerSecond)}× Hono), p50 ${fmt(ef.latencyMs.p50)} ms, p99 ${fmt(ef.latencyMs.p99)} ms`,
        `while the service processes a batch of ${duringBatch.records.toLocaleString("en-US")} records (${fmt(duringBatch.batchMs)} ms): ` +
          `${fmt(duringBatch.during.answers)} answers (${fmt(duringBatch.during.perSecond)}/s), p99 ${fmt(duringBatch.during.p99Ms)} ms, slowest ${fmt(duringBatch.during.maxMs)} ms; ` +
          `outside it p99 ${fmt(duringBatch.outside.p99Ms)} ms, slowest ${fmt(duringBatch.outside.maxMs)} ms`,
        `every lookup read from the store (--lookup-cache-mb 0; the targets are measured with the cache, the default):`,
        `  GET profile: ${fmt(p0.requestsPerSecond)} req/s (${fmt(p0.requestsPerSecond / h.requestsPerSecond)}× Hono), p50 ${fmt(p0.latencyMs.p50)} ms, p99 ${fmt(p0.latencyMs.p99)} ms`,
        `  GET events:  ${fmt(e0.requestsPerSecond)} req/s (${fmt(e0.requestsPerSecond / h.requestsPerSecond)}× Hono), p50 ${fmt(e0.latencyMs.p50)} ms, p99 ${fmt(e0.latencyMs.p99)} ms`
      ],
      plots: [
        {
          file: "lookups-throughput.svg",
          svg: barChart({
            title: "Lookups: requests per second at 32 connections (higher is better)",
            subtitle: `store of ${label}; best of ${context.runs} runs of ${loadSeconds} s`,
            unit: "req/s",
            groups: [
              {
                label: "throughput",
                bars: [
                  { label: "Hono hello world", value: h.requestsPerSecond },
                  { label: "Effect HttpApi hello world", value: x.requestsPerSecond, note: `${(x.requestsPerSecond / h.requestsPerSecond).toFixed(2)}× Hono` },
                  { label: "GET profile", value: p.requestsPerSecond, note: `${profileRatio.toFixed(2)}× Hono` },
                  { label: "GET events", value: e.requestsPerSecond, note: `${eventsRatio.toFixed(2)}× Hono` },
                  { label: `GET profile, --workers ${other}`, value: p1.requestsPerSecond, note: `${(p1.requestsPerSecond / h.requestsPerSecond).toFixed(2)}× Hono` },
                  { label: `GET events, --workers ${other}`, value: e1.requestsPerSecond, note: `${(e1.requestsPerSecond / h.requestsPerSecond).toFixed(2)}× Hono` },
                  { label: "GET profile, first pass", value: pf.requestsPerSecond, note: `${(pf.requestsPerSecond / h.requestsPerSecond).toFixed(2)}× Hono` },
                  { label: "GET events, first pass", value: ef.requestsPerSecond, note: `${(ef.requestsPerSecond / h.requestsPerSecond).toFixed(2)}× Hono` },
                  { label: "GET profile, no cache", value: p0.requestsPerSecond, note: `${(p0.requestsPerSecond / h.requestsPerSecond).toFixed(2)}× Hono` },
                  { label: "GET events, no cache", value: e0.requestsPerSecond, note: `${(e0.requestsPerSecond / h.requestsPerSecond).toFixed(2)}× Hono` }
                ]
              }
            ],
            markers: [{ value: RATIO_TARGET * h.requestsPerSecond, label: `target ${RATIO_TARGET}× Hono` }]
          })
        },
        {
          file: "lookups-latency.svg",
          svg: barChart({
            title: "Lookups: latency at 32 connections (lower is better)",
            subtitle: `store of ${label}; the run with the best throughput`,
            unit: "ms",
            groups: [
              { label: "p50", bars: [h, x, p, e].map((r, i) => ({ label: NAMES[i]!, value: r.latencyMs.p50 })) },
              { label: "p99", bars: [h, x, p, e].map((r, i) => ({ label: NAMES[i]!, value: r.latencyMs.p99 })) }
            ],
            markers: [{ value: P99_TARGET_MS, label: `target p99 ${P99_TARGET_MS} ms`, group: "p99" }]
          })
        }
      ]
    }
  }
}

export default benchmark
