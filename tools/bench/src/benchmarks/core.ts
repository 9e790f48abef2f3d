/**
 * Issue item 4: the core client's per-call overhead against a raw fetch of
 * the same endpoint, and 1,000 concurrent single lookups turned into
 * batched calls by `ProfileLookup`.
 */
import { type Benchmark, target } from "../lib/benchmark.js"
import { barChart } from "../lib/chart.js"
import { runWorker } from "../lib/child.js"
import { lookupIdentities } from "../lib/seed.js"
import { startService, withServer } from "../lib/service.js"
import { cpuProfileArgs, sizes } from "../lib/sizes.js"
import { best, fmt } from "../lib/stats.js"
import { ensureStore } from "../lib/store.js"
import type { CoreArgs, CoreResult } from "../workers/core.js"

const OVERHEAD_TARGET = 1.3

const benchmark: Benchmark = {
  name: "core",
  title: "Core client: typed call vs raw fetch; 1,000 concurrent lookups batched",
  order: 30,
  run: async (context) => {
    const profiles = sizes(context).coreStore
    const store = await ensureStore(context, profiles)
    const identities = lookupIdentities(profiles, 3000)
    const calls = context.size === "smoke" ? 200 : 2000
    const runs: Array<CoreResult> = []
    for (let run = 1; run <= context.runs; run++) {
      context.log(`run ${run}/${context.runs}: ${calls} calls each of raw fetch, typed on undici, typed on fetch; then 3 rounds of 1,000 concurrent lookups`)
      const { value } = await withServer(startService(context, { dir: store.dir }), ({ token, url }) =>
        runWorker<CoreResult>("core", { url, token, identities, calls, concurrent: 1000, rounds: 3 } satisfies CoreArgs, {
          timeoutMs: 10 * 60_000,
          log: context.log,
          nodeArgs: cpuProfileArgs(context, "core-client")
        })
      )
      runs.push(value)
      context.log(
        `  raw p50 ${fmt(value.raw.p50Ms)} ms; typed p50 ${fmt(value.typed.p50Ms)} ms on undici (${fmt(value.typed.p50Ms / value.raw.p50Ms)}×), ` +
          `${fmt(value.typedFetch.p50Ms)} ms on fetch (${fmt(value.typedFetch.p50Ms / value.raw.p50Ms)}×)`
      )
    }
    const ratio = (r: CoreResult) => r.typed.p50Ms / r.raw.p50Ms
    const chosen = best(runs, ratio, false)
    const rounds = runs.flatMap((r) => r.batching)
    const batched = best(rounds, (r) => r.batched.ms, false)
    const single = best(rounds, (r) => r.single.ms, false)
    const speedup = single.single.ms / batched.batched.ms
    const meanRatio = chosen.typed.meanMs / chosen.raw.meanMs
    const stats = (s: CoreResult["typed"]) => ({
      meanMs: Number(s.meanMs.toFixed(3)),
      p50Ms: Number(s.p50Ms.toFixed(3)),
      p99Ms: Number(s.p99Ms.toFixed(3)),
      clientCpuUsPerCall: Math.round(s.clientCpuUs)
    })
    return {
      figures: {
        storeProfiles: profiles,
        callsPerKind: calls,
        perCall: {
          typedUndici: stats(chosen.typed),
          typedFetch: stats(chosen.typedFetch),
          raw: stats(chosen.raw),
          ratioP50Fetch: Number((chosen.typedFetch.p50Ms / chosen.raw.p50Ms).toFixed(3)),
          ratioP50: Number(ratio(chosen).toFixed(3)),
          ratioMean: Number(meanRatio.toFixed(3)),
          clientCpuRatio: Number((chosen.typed.clientCpuUs / chosen.raw.clientCpuUs).toFixed(3))
        },
        batching: {
          lookups: 1000,
          batched: { ms: Math.round(batched.batched.ms), httpCalls: batched.batched.httpCalls },
          single: { ms: Math.round(single.single.ms), httpCalls: single.single.httpCalls },
          speedup: Number(speedup.toFixed(2))
        },
        runs: runs.map((r) => ({
          typedUndici: stats(r.typed),
          typedFetch: stats(r.typedFetch),
          raw: stats(r.raw),
          batching: r.batching,
          clientMaxRssMb: Math.round(r.maxRssMb)
        }))
      },
      targets: [
        target("typed call (NodeHttpClient.layerUndici) / raw fetch, per call (p50)", ratio(chosen), "×", "<=", OVERHEAD_TARGET),
        target(
          "typed call (FetchHttpClient.layer) / raw fetch, per call (p50)",
          chosen.typedFetch.p50Ms / chosen.raw.p50Ms,
          "×",
          "<=",
          OVERHEAD_TARGET
        )
      ],
      summary: [
        `per call, sequential, store of ${profiles.toLocaleString("en-US")} profiles: raw fetch p50 ${fmt(chosen.raw.p50Ms)} ms (mean ${fmt(chosen.raw.meanMs)}); ` +
          `typed getProfile on layerUndici p50 ${fmt(chosen.typed.p50Ms)} ms (mean ${fmt(chosen.typed.meanMs)}): ${fmt(ratio(chosen))}× (mean ${fmt(meanRatio)}×); ` +
          `on FetchHttpClient p50 ${fmt(chosen.typedFetch.p50Ms)} ms: ${fmt(chosen.typedFetch.p50Ms / chosen.raw.p50Ms)}×`,
        `client CPU per call: raw ${fmt(chosen.raw.clientCpuUs)} µs, typed on undici ${fmt(chosen.typed.clientCpuUs)} µs, typed on fetch ${fmt(chosen.typedFetch.clientCpuUs)} µs`,
        `1,000 concurrent lookups: ProfileLookup ${batched.batched.httpCalls} HTTP calls in ${fmt(batched.batched.ms)} ms; ` +
          `1,000 getProfile calls ${single.single.httpCalls} HTTP calls in ${fmt(single.single.ms)} ms (${fmt(speedup)}× faster batched)`
      ],
      plots: [
        {
          file: "core.svg",
          svg: barChart({
            title: "Core client (lower is better)",
            subtitle: `local service, store of ${profiles.toLocaleString("en-US")} profiles; best of ${context.runs} runs`,
            unit: "ms",
            groups: [
              {
                label: "one GET profile at a time (p50)",
                bars: [
                  { label: "raw fetch", value: chosen.raw.p50Ms },
                  { label: "getProfile, layerUndici", value: chosen.typed.p50Ms, note: `${ratio(chosen).toFixed(2)}× raw` },
                  {
                    label: "getProfile, FetchHttpClient",
                    value: chosen.typedFetch.p50Ms,
                    note: `${(chosen.typedFetch.p50Ms / chosen.raw.p50Ms).toFixed(2)}× raw`
                  }
                ]
              },
              {
                label: "1,000 concurrent lookups (total)",
                bars: [
                  { label: "1,000 × getProfile", value: single.single.ms, note: `${single.single.httpCalls} calls` },
                  { label: "ProfileLookup (batched)", value: batched.batched.ms, note: `${batched.batched.httpCalls} calls` }
                ]
              }
            ],
            markers: [{ value: OVERHEAD_TARGET * chosen.raw.p50Ms, label: `target ${OVERHEAD_TARGET}× raw`, group: "one GET profile at a time (p50)" }]
          })
        }
      ]
    }
  }
}

export default benchmark
