/**
 * Issue item 3: the rtcp proxy from 64 concurrent callers, against calling
 * the upstream (the local profile service) directly and against nginx as a
 * plain reverse proxy on the same upstream, in one run:
 *
 * - **pass-through**: GET experience events, which the proxy forwards byte
 *   for byte (no cache). Throughput with every caller sending as fast as it
 *   can; then the latency each gateway adds at a steady offered rate of a
 *   quarter of what the slower of the upstream and the proxy manages (at
 *   saturation a gateway's latency is a queue, not its own work).
 * - **cached lookups**: GET profile for 100 profiles with a 60 s cache:
 *   every answer but the first of each comes from the proxy's cache. Judged
 *   against the Hono hello world on this machine (the HTTP ceiling).
 * - **hot-key mix**: GET profile with the proxy's default 2 s cache, 90 % of
 *   requests for 10 hot profiles and 10 % spread over 5,000 others: upstream
 *   calls per 100 caller requests, from the proxy's own `/metrics`.
 * - **lookups, mostly misses**: GET profile over 5,000 profiles: the
 *   proxy's batching against the upstream called one profile at a time.
 * - **two replicas sharing Redis**: the cached lookups through two proxies
 *   with one shared cache, half the callers on each, next to one replica.
 * - **storm**: the upstream answers about 10 % 5xx and 25 consecutive 429s
 *   every 6 s; the success rate callers see through `/v1/profiles/…` and the
 *   AEP single-profile GET, with the cache on (2 s) and with `--cache-ttl 0`.
 */
import { loadavg } from "node:os"
import { type Benchmark, type Context, type Report, target, type Target } from "../lib/benchmark.js"
import { barChart } from "../lib/chart.js"
import { type Gateway, nginxBinary, nginxVersion, PROXY_KEY, type ProxyGateway, startNginx, startProxy } from "../lib/gateways.js"
import { load, type LoadOptions, type LoadResult, paced } from "../lib/load.js"
import { lookupIdentities } from "../lib/seed.js"
import { eventsPath, platformHeaders, profilePath, startHono, startService, withServer } from "../lib/service.js"
import { cpuProfileArgs, sizes } from "../lib/sizes.js"
import { best, fmt } from "../lib/stats.js"
import { ensureStore } from "../lib/store.js"
import { storm, type StormResult, twoReplicas } from "../lib/storm.js"

const CALLERS = 64
const CACHED_RATIO_TARGET = 0.6
const ADDED_P99_TARGET_MS = 3
const HOT_CALLS_TARGET = 10
const HOT_KEYS = 10
const COLD_KEYS = 5000
const CACHED_KEYS = 100
/** The offered rate of the added-latency figures, as a share of the slower of the upstream direct and the proxy at saturation. */
const RATE_SHARE = 0.25
const STORM_SUCCESS_TARGET = 0.999
const STORM_SECONDS = 30

const proxyHeaders = { "x-api-key": PROXY_KEY, "x-sandbox-name": "prod" }

const brief = (r: LoadResult) => ({
  requestsPerSecond: Math.round(r.requestsPerSecond),
  p50Ms: Number(r.latencyMs.p50.toFixed(2)),
  p99Ms: Number(r.latencyMs.p99.toFixed(2)),
  meanMs: Number(r.latencyMs.mean.toFixed(2)),
  requests: r.requests,
  failed: r.errors + r.timeouts + r.non2xx
})

/** Path i of the hot-key mix: 1 in 10 cold, the rest over the hot keys, interleaved so every second has the same mix. */
const hotKeyPaths = (identities: ReadonlyArray<{ readonly namespace: string; readonly id: string }>): Array<string> => {
  const hot = identities.slice(0, HOT_KEYS)
  const cold = identities.slice(HOT_KEYS, HOT_KEYS + COLD_KEYS)
  const paths: Array<string> = []
  for (let i = 0, c = 0; i < cold.length * 10; i++) {
    paths.push(profilePath(i % 10 === 9 ? cold[c++ % cold.length]! : hot[(i * 7) % hot.length]!))
  }
  return paths
}

interface Run {
  readonly hono: LoadResult
  readonly passThrough: { readonly direct: LoadResult; readonly nginx?: LoadResult | undefined; readonly proxy: LoadResult }
  readonly atRate: {
    readonly rate: number
    readonly direct: LoadResult
    readonly nginx?: LoadResult | undefined
    readonly proxy: LoadResult
  }
  readonly lookups: { readonly direct: LoadResult; readonly proxy: LoadResult; readonly upstreamCallsPer100: number }
  readonly cached: { readonly proxy: LoadResult; readonly upstreamCallsPer100: number }
  readonly hotKey: { readonly proxy: LoadResult; readonly upstreamCallsPer100: number }
  readonly proxyMaxRssMb: number
  readonly nginxMaxRssMb: number | undefined
}

/** Runs `body` with a gateway, stopping it afterwards whatever happens. */
const withGateway = async <G extends Gateway, A>(start: Promise<G>, body: (gateway: G) => Promise<A>): Promise<{ value: A; maxRssMb: number }> => {
  const gateway = await start
  try {
    const value = await body(gateway)
    return { value, maxRssMb: gateway.maxRssMb() }
  } finally {
    await gateway.stop()
  }
}

/** Load through a gateway after a warm-up, with the gateway's CPU per request (the warm-up's not counted). */
const through = async (gateway: Gateway, options: LoadOptions) => {
  await load({ ...options, seconds: options.warmupSeconds ?? 2, warmupSeconds: 0 })
  const cpu = gateway.cpuMs()
  const result = await load({ ...options, warmupSeconds: 0 })
  return { result, cpuUsPerRequest: ((gateway.cpuMs() - cpu) * 1000) / Math.max(1, result.requests) }
}

/** The same through the proxy, with the upstream calls it made for it. */
const measured = async (proxy: ProxyGateway, options: LoadOptions) => {
  const before = await proxy.upstreamCalls()
  const { cpuUsPerRequest, result } = await through(proxy, options)
  const calls = (await proxy.upstreamCalls()) - before
  return { result, cpuUsPerRequest, upstreamCallsPer100: (100 * calls) / Math.max(1, result.requests) }
}

const PARTS = ["cached", "pass", "replicas", "storm"] as const
type Part = (typeof PARTS)[number]

const load1 = () => Number(loadavg()[0]!.toFixed(2))

/**
 * `--only cached,pass,replicas,storm`: just those figures, each with the
 * load average when it was taken (the machine is shared), in
 * `bench/results/proxy.only-<parts>.json`. The full run stays the record;
 * this is for working on one figure without the rest's ten minutes.
 */
const partial = async (context: Context, only: ReadonlyArray<string>): Promise<Report> => {
  const unknown = only.filter((part) => !(PARTS as ReadonlyArray<string>).includes(part))
  if (unknown.length > 0) throw new Error(`unknown part ${unknown.join(", ")}; the proxy benchmark's parts are ${PARTS.join(", ")}`)
  const wants = (part: Part) => only.includes(part)
  const { coreStore, loadSeconds } = sizes(context)
  const seconds = Math.max(2, Math.round(loadSeconds * 0.7))
  const store = await ensureStore(context, coreStore)
  const identities = lookupIdentities(coreStore, HOT_KEYS + COLD_KEYS)
  const figures: Record<string, unknown> = { callers: CALLERS, seconds }
  const targets: Array<Target> = []
  const summary: Array<string> = []
  if (wants("cached") || wants("pass")) {
    const cachedRuns: Array<{ hono: LoadResult; proxy: LoadResult; ratio: number; cpuUsPerRequest: number; load1: number }> = []
    const passRuns: Array<{ direct: LoadResult; proxy: LoadResult; proxyCpuUs: number; nginx?: LoadResult; nginxCpuUs?: number; load1: number }> = []
    const nginx = nginxBinary()
    for (let run = 1; run <= context.runs; run++) {
      const hono = wants("cached") ? (await withServer(startHono(context), ({ url }) => load({ url, connections: CALLERS, seconds }))).value : undefined
      await withServer(startService(context, { dir: store.dir }), async ({ token, url: upstream }) => {
        const headers = platformHeaders(token)
        const profiles = identities.map(profilePath)
        const events = identities.map(eventsPath)
        if (hono !== undefined) {
          const cached = await withGateway(startProxy(context, { upstream, cacheTtl: "60s", name: "cached", nodeArgs: cpuProfileArgs(context, "proxy-cached") }), (proxy) =>
            measured(proxy, { url: proxy.url, connections: CALLERS, seconds, headers: proxyHeaders, paths: profiles.slice(0, CACHED_KEYS) })
          )
          const ratio = cached.value.result.requestsPerSecond / hono.requestsPerSecond
          cachedRuns.push({ hono, proxy: cached.value.result, ratio, cpuUsPerRequest: cached.value.cpuUsPerRequest, load1: load1() })
          context.log(`  cached: Hono ${fmt(hono.requestsPerSecond)} req/s, proxy ${fmt(cached.value.result.requestsPerSecond)} req/s (${fmt(ratio)}×), ${fmt(cached.value.cpuUsPerRequest)} µs CPU/answer; load ${load1()}`)
        }
        if (wants("pass")) {
          const direct = await load({ url: upstream, connections: CALLERS, seconds, headers, paths: events })
          const viaNginx =
            nginx === undefined
              ? undefined
              : await withGateway(startNginx(context, { upstream, binary: nginx }), (gateway) => through(gateway, { url: gateway.url, connections: CALLERS, seconds, headers, paths: events }))
          const proxied = await withGateway(startProxy(context, { upstream, cacheTtl: "2s", name: "pass", nodeArgs: cpuProfileArgs(context, "proxy-pass") }), (proxy) =>
            through(proxy, { url: proxy.url, connections: CALLERS, seconds, headers: proxyHeaders, paths: events })
          )
          passRuns.push({
            direct,
            proxy: proxied.value.result,
            proxyCpuUs: proxied.value.cpuUsPerRequest,
            ...(viaNginx === undefined ? {} : { nginx: viaNginx.value.result, nginxCpuUs: viaNginx.value.cpuUsPerRequest }),
            load1: load1()
          })
          context.log(
            `  pass-through: direct ${fmt(direct.requestsPerSecond)}, nginx ${viaNginx ? fmt(viaNginx.value.result.requestsPerSecond) : "-"}, proxy ${fmt(proxied.value.result.requestsPerSecond)} req/s; ` +
              `CPU/request proxy ${fmt(proxied.value.cpuUsPerRequest)} µs, nginx ${viaNginx ? fmt(viaNginx.value.cpuUsPerRequest) : "-"} µs; load ${load1()}`
          )
        }
      })
    }
    if (cachedRuns.length > 0) {
      const top = best(cachedRuns, (r) => r.ratio)
      figures.cachedLookups = { best: { hono: brief(top.hono), proxy: brief(top.proxy), ratioToHono: Number(top.ratio.toFixed(3)), proxyCpuUsPerRequest: Math.round(top.cpuUsPerRequest), load1: top.load1 }, runs: cachedRuns.map((r) => ({ ...r, hono: brief(r.hono), proxy: brief(r.proxy) })) }
      targets.push(target(`cached lookups / Hono hello world, ${CALLERS} callers`, top.ratio, "×", ">=", CACHED_RATIO_TARGET))
      summary.push(`cached lookups: ${fmt(top.proxy.requestsPerSecond)} req/s, Hono ${fmt(top.hono.requestsPerSecond)} req/s (${fmt(top.ratio)}×), ${fmt(top.cpuUsPerRequest)} µs of proxy CPU per answer (load ${top.load1})`)
    }
    if (passRuns.length > 0) {
      const top = best(passRuns, (r) => -r.proxyCpuUs)
      figures.passThrough = { runs: passRuns.map((r) => ({ ...r, direct: brief(r.direct), proxy: brief(r.proxy), nginx: r.nginx === undefined ? null : brief(r.nginx) })) }
      summary.push(
        `pass-through (GET events), saturated: direct ${fmt(top.direct.requestsPerSecond)}, nginx ${top.nginx ? fmt(top.nginx.requestsPerSecond) : "-"}, proxy ${fmt(top.proxy.requestsPerSecond)} req/s; ` +
          `CPU per forwarded request: proxy ${fmt(top.proxyCpuUs)} µs, nginx ${top.nginxCpuUs === undefined ? "-" : fmt(top.nginxCpuUs)} µs (load ${top.load1})`
      )
    }
  }
  if (wants("replicas")) {
    const replicas = (
      await withServer(startService(context, { dir: store.dir }), ({ url: upstream }) =>
        twoReplicas(context, { upstream, identities: identities.slice(0, CACHED_KEYS), callers: CALLERS, seconds })
      )
    ).value
    figures.twoReplicasSharedCache = { requestsPerSecond: Math.round(replicas.requestsPerSecond), p99Ms: Number(replicas.p99Ms.toFixed(2)), failed: replicas.failed, load1: load1() }
    summary.push(`two replicas sharing Redis, cached lookups: ${fmt(replicas.requestsPerSecond)} req/s in all (p99 ${fmt(replicas.p99Ms)} ms; load ${load1()})`)
  }
  if (wants("storm")) {
    const storms = await storm(context, { dir: store.dir, identities: identities.slice(0, 1000), callers: CALLERS, seconds: context.size === "smoke" ? seconds : STORM_SECONDS })
    figures.storm = { scenario: `${CALLERS} callers, ~10% 5xx and 25 consecutive 429s (Retry-After: 1) every 6 s`, results: storms }
    targets.push(target(`storm: success rate, worst of cache on and --cache-ttl 0`, Math.min(...storms.map((r) => r.successRate)), "", ">=", STORM_SUCCESS_TARGET))
    summary.push(
      ...storms.map(
        (result) =>
          `storm, cache-ttl ${result.cacheTtl}: ${(100 * result.successRate).toFixed(2)}% of ${result.requests.toLocaleString("en-US")} requests succeeded (${result.timedOut} unanswered), p99 ${fmt(result.p99Ms)} ms, max ${fmt(result.maxMs)} ms (load ${result.load1})`
      )
    )
  }
  return { figures, targets, summary, plots: [] }
}

const benchmark: Benchmark = {
  name: "proxy",
  title: "Proxy: cached, pass-through and hot-key lookups from 64 callers vs the upstream direct and nginx",
  order: 25,
  run: async (context) => {
    if (context.only !== undefined) return partial(context, context.only)
    const { coreStore, loadSeconds } = sizes(context)
    // Fourteen figures per run: shorter ones keep the default run of every benchmark under 10 minutes.
    const seconds = Math.max(2, Math.round(loadSeconds * 0.7))
    const store = await ensureStore(context, coreStore)
    const identities = lookupIdentities(coreStore, HOT_KEYS + COLD_KEYS)
    const nginx = nginxBinary()
    if (nginx === undefined) context.log("nginx is not installed (Debian: apt-get install nginx-light): measuring without it")
    const runs: Array<Run> = []
    // CPU per forwarded request (µs) of each gateway at saturation, and of the proxy per cached answer.
    const nginxCpu: Array<number> = []
    const proxyCpu: Array<number> = []
    const cachedCpu: Array<number> = []
    let rate: number | undefined
    for (let run = 1; run <= context.runs; run++) {
      context.log(`run ${run}/${context.runs}: ${CALLERS} callers, ${seconds} s per figure`)
      const hono = (await withServer(startHono(context), ({ url }) => load({ url, connections: CALLERS, seconds }))).value
      const served = await withServer(startService(context, { dir: store.dir }), async ({ token, url: upstream }) => {
        const headers = platformHeaders(token)
        const events = identities.map(eventsPath)
        const profiles = identities.map(profilePath)
        for (const path of [events[0]!, profiles[0]!]) {
          const response = await fetch(`${upstream}${path}`, { headers })
          if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`)
        }
        const direct = await load({ url: upstream, connections: CALLERS, seconds, headers, paths: events })
        // The offered rate of the latency figures is a share of the slower of the upstream and the
        // proxy at saturation: a rate the proxy cannot forward would measure its queue, not what it adds.
        const atRateFor = (rate: number) => ({ connections: CALLERS, seconds, paths: events, rate })
        const proxied = await withGateway(startProxy(context, { upstream, cacheTtl: "2s", name: "default", nodeArgs: cpuProfileArgs(context, "proxy-default") }), async (proxy) => {
          const check = await fetch(`${proxy.url}${events[0]}`, { headers: proxyHeaders })
          if (!check.ok) throw new Error(`the proxy answered ${check.status} for GET events: ${await check.text()}`)
          const { cpuUsPerRequest, result: saturated } = await through(proxy, { url: proxy.url, connections: CALLERS, seconds, headers: proxyHeaders, paths: events })
          proxyCpu.push(cpuUsPerRequest)
          rate ??= Math.max(20, Math.round((Math.min(direct.requestsPerSecond, saturated.requestsPerSecond) * RATE_SHARE) / 10) * 10)
          const steady = await paced({ ...atRateFor(rate), url: proxy.url, headers: proxyHeaders })
          const lookups = await measured(proxy, { url: proxy.url, connections: CALLERS, seconds, headers: proxyHeaders, paths: profiles })
          const hotKey = await measured(proxy, { url: proxy.url, connections: CALLERS, seconds, headers: proxyHeaders, paths: hotKeyPaths(identities) })
          return { saturated, steady, lookups, hotKey }
        })
        const atRate = atRateFor(rate!)
        const directAtRate = await paced({ ...atRate, url: upstream, headers })
        const directLookups = await load({ url: upstream, connections: CALLERS, seconds, headers, paths: profiles })

        const viaNginx = nginx
          ? await withGateway(startNginx(context, { upstream, binary: nginx }), async (gateway) => {
              const url = gateway.url
              const check = await fetch(`${url}${events[0]}`, { headers })
              if (!check.ok) throw new Error(`nginx answered ${check.status} for GET events: ${await check.text()}`)
              const { cpuUsPerRequest, result: saturated } = await through(gateway, { url, connections: CALLERS, seconds, headers, paths: events })
              nginxCpu.push(cpuUsPerRequest)
              const steady = await paced({ ...atRate, url, headers })
              return { saturated, steady }
            })
          : undefined


        const cached = await withGateway(startProxy(context, { upstream, cacheTtl: "60s", name: "cached", nodeArgs: cpuProfileArgs(context, "proxy-cached") }), (proxy) =>
          measured(proxy, {
            url: proxy.url,
            connections: CALLERS,
            seconds,
            headers: proxyHeaders,
            paths: profiles.slice(0, CACHED_KEYS)
          })
        )
        cachedCpu.push(cached.value.cpuUsPerRequest)
        return { direct, directAtRate, directLookups, viaNginx, proxied, cached }
      })
      const v = served.value
      const result: Run = {
        hono,
        passThrough: { direct: v.direct, nginx: v.viaNginx?.value.saturated, proxy: v.proxied.value.saturated },
        atRate: { rate: rate!, direct: v.directAtRate, nginx: v.viaNginx?.value.steady, proxy: v.proxied.value.steady },
        lookups: { direct: v.directLookups, proxy: v.proxied.value.lookups.result, upstreamCallsPer100: v.proxied.value.lookups.upstreamCallsPer100 },
        cached: { proxy: v.cached.value.result, upstreamCallsPer100: v.cached.value.upstreamCallsPer100 },
        hotKey: { proxy: v.proxied.value.hotKey.result, upstreamCallsPer100: v.proxied.value.hotKey.upstreamCallsPer100 },
        proxyMaxRssMb: Math.max(v.proxied.maxRssMb, v.cached.maxRssMb),
        nginxMaxRssMb: v.viaNginx?.maxRssMb
      }
      runs.push(result)
      context.log(
        `  Hono ${fmt(hono.requestsPerSecond)} req/s; cached ${fmt(result.cached.proxy.requestsPerSecond)} req/s; ` +
          `pass-through direct ${fmt(result.passThrough.direct.requestsPerSecond)}, nginx ${result.passThrough.nginx ? fmt(result.passThrough.nginx.requestsPerSecond) : "-"}, ` +
          `proxy ${fmt(result.passThrough.proxy.requestsPerSecond)} req/s; at ${rate} req/s p99 direct ${fmt(result.atRate.direct.latencyMs.p99)} ms, ` +
          `nginx ${result.atRate.nginx ? fmt(result.atRate.nginx.latencyMs.p99) : "-"} ms, proxy ${fmt(result.atRate.proxy.latencyMs.p99)} ms; ` +
          `hot-key ${fmt(result.hotKey.upstreamCallsPer100)} upstream calls/100`
      )
    }

    // Issue 12's scenarios, once: replicas over Redis, and the storm (each needs its own processes).
    context.log(`two replicas sharing Redis, then the storm scenario (${STORM_SECONDS} s per cache setting)`)
    const replicas = (
      await withServer(startService(context, { dir: store.dir }), ({ url: upstream }) =>
        twoReplicas(context, { upstream, identities: identities.slice(0, CACHED_KEYS), callers: CALLERS, seconds })
      )
    ).value
    const storms: ReadonlyArray<StormResult> = await storm(context, {
      dir: store.dir,
      identities: identities.slice(0, 1000),
      callers: CALLERS,
      seconds: context.size === "smoke" ? seconds : STORM_SECONDS
    })
    const worstStorm = Math.min(...storms.map((result) => result.successRate))

    // Each figure is the best of its runs: the runs are interleaved, so noise hits every subject alike.
    const h = best(runs.map((r) => r.hono), (r) => r.requestsPerSecond)
    const cached = best(runs.map((r) => r.cached), (r) => r.proxy.requestsPerSecond)
    const passDirect = best(runs.map((r) => r.passThrough.direct), (r) => r.requestsPerSecond)
    const passNginx = runs[0]!.passThrough.nginx ? best(runs.map((r) => r.passThrough.nginx!), (r) => r.requestsPerSecond) : undefined
    const passProxy = best(runs.map((r) => r.passThrough.proxy), (r) => r.requestsPerSecond)
    // Added latency is taken within one run (gateway and direct measured minutes apart would compare two machines' moods).
    const added = (pick: (r: Run) => LoadResult | undefined) => {
      const perRun = runs
        .map((r) => ({ gateway: pick(r), direct: r.atRate.direct }))
        .filter((x): x is { gateway: LoadResult; direct: LoadResult } => x.gateway !== undefined)
        .map(({ direct, gateway }) => ({
          p50: gateway.latencyMs.p50 - direct.latencyMs.p50,
          p99: gateway.latencyMs.p99 - direct.latencyMs.p99,
          gateway,
          direct
        }))
      return perRun.length === 0 ? undefined : best(perRun, (x) => x.p99, false)
    }
    const addedProxy = added((r) => r.atRate.proxy)!
    const addedNginx = added((r) => r.atRate.nginx)
    const hot = best(runs.map((r) => r.hotKey), (r) => r.upstreamCallsPer100, false)
    const lookups = best(runs.map((r) => r.lookups), (r) => r.proxy.requestsPerSecond)
    const lookupsDirect = best(runs.map((r) => r.lookups.direct), (r) => r.requestsPerSecond)
    const cachedRatio = cached.proxy.requestsPerSecond / h.requestsPerSecond
    const failed = runs.reduce(
      (sum, r) =>
        sum +
        [r.passThrough.direct, r.passThrough.nginx, r.passThrough.proxy, r.atRate.direct, r.atRate.nginx, r.atRate.proxy, r.lookups.direct, r.lookups.proxy, r.cached.proxy, r.hotKey.proxy]
          .filter((x): x is LoadResult => x !== undefined)
          .reduce((s, x) => s + x.errors + x.timeouts + x.non2xx, 0),
      0
    )
    const nginxLabel = nginx ? nginxVersion(nginx) : "nginx not installed"
    return {
      figures: {
        callers: CALLERS,
        seconds,
        upstream: `local profile service, store of ${coreStore.toLocaleString("en-US")} profiles`,
        nginx: nginxLabel,
        honoHelloWorld: brief(h),
        cachedLookups: {
          profiles: CACHED_KEYS,
          cacheTtl: "60s",
          ...brief(cached.proxy),
          ratioToHono: Number(cachedRatio.toFixed(3)),
          upstreamCallsPer100: Number(cached.upstreamCallsPer100.toFixed(2)),
          proxyCpuUsPerRequest: Math.round(Math.min(...cachedCpu))
        },
        passThrough: {
          request: "GET experience events (forwarded byte for byte)",
          saturated: {
            direct: brief(passDirect),
            nginx: passNginx ? brief(passNginx) : null,
            proxy: { ...brief(passProxy), ratioToDirect: Number((passProxy.requestsPerSecond / passDirect.requestsPerSecond).toFixed(3)) },
            cpuUsPerRequest: { proxy: Math.round(Math.min(...proxyCpu)), nginx: nginxCpu.length === 0 ? null : Math.round(Math.min(...nginxCpu)) }
          },
          atRate: {
            requestsPerSecond: runs[0]!.atRate.rate,
            direct: brief(addedProxy.direct),
            proxy: { ...brief(addedProxy.gateway), addedP50Ms: Number(addedProxy.p50.toFixed(2)), addedP99Ms: Number(addedProxy.p99.toFixed(2)) },
            nginx: addedNginx
              ? { ...brief(addedNginx.gateway), addedP50Ms: Number(addedNginx.p50.toFixed(2)), addedP99Ms: Number(addedNginx.p99.toFixed(2)) }
              : null
          }
        },
        hotKeyMix: {
          mix: `${100 - 10}% of requests for ${HOT_KEYS} profiles, 10% over ${COLD_KEYS.toLocaleString("en-US")}; cache 2s`,
          ...brief(hot.proxy),
          upstreamCallsPer100: Number(hot.upstreamCallsPer100.toFixed(2))
        },
        lookupsMostlyMisses: {
          profiles: COLD_KEYS + HOT_KEYS,
          direct: brief(lookupsDirect),
          proxy: { ...brief(lookups.proxy), ratioToDirect: Number((lookups.proxy.requestsPerSecond / lookupsDirect.requestsPerSecond).toFixed(3)) },
          upstreamCallsPer100: Number(lookups.upstreamCallsPer100.toFixed(2))
        },
        twoReplicasSharedCache: {
          redis: "one Redis, shared cache (60s), half the callers on each replica",
          requestsPerSecond: Math.round(replicas.requestsPerSecond),
          p50Ms: Number(replicas.p50Ms.toFixed(2)),
          p99Ms: Number(replicas.p99Ms.toFixed(2)),
          failed: replicas.failed,
          singleReplicaRequestsPerSecond: Math.round(cached.proxy.requestsPerSecond)
        },
        storm: {
          scenario: `${CALLERS} callers, ~10% 5xx and 25 consecutive 429s (Retry-After: 1) every 6 s`,
          results: storms
        },
        failedRequests: failed,
        proxyMaxRssMb: Math.round(Math.max(...runs.map((r) => r.proxyMaxRssMb))),
        nginxMaxRssMb: runs[0]!.nginxMaxRssMb === undefined ? null : Math.round(Math.max(...runs.map((r) => r.nginxMaxRssMb ?? 0))),
        runs: runs.map((r) => ({
          hono: brief(r.hono),
          cached: { ...brief(r.cached.proxy), upstreamCallsPer100: r.cached.upstreamCallsPer100 },
          passThrough: { direct: brief(r.passThrough.direct), nginx: r.passThrough.nginx ? brief(r.passThrough.nginx) : null, proxy: brief(r.passThrough.proxy) },
          atRate: { rate: r.atRate.rate, direct: brief(r.atRate.direct), nginx: r.atRate.nginx ? brief(r.atRate.nginx) : null, proxy: brief(r.atRate.proxy) },
          hotKey: { ...brief(r.hotKey.proxy), upstreamCallsPer100: r.hotKey.upstreamCallsPer100 },
          lookups: { direct: brief(r.lookups.direct), proxy: brief(r.lookups.proxy), upstreamCallsPer100: r.lookups.upstreamCallsPer100 }
        }))
      },
      targets: [
        target(`cached lookups / Hono hello world, ${CALLERS} callers`, cachedRatio, "×", ">=", CACHED_RATIO_TARGET),
        target(`pass-through p99 added latency at ${runs[0]!.atRate.rate} req/s`, addedProxy.p99, "ms", "<=", ADDED_P99_TARGET_MS),
        target(`hot-key mix: upstream calls per 100 caller requests`, hot.upstreamCallsPer100, "", "<=", HOT_CALLS_TARGET),
        target(`storm: success rate, worst of cache on and --cache-ttl 0`, worstStorm, "", ">=", STORM_SUCCESS_TARGET)
      ],
      summary: [
        `${CALLERS} callers, ${seconds} s per figure, upstream: local profile service (${coreStore.toLocaleString("en-US")} profiles); ${nginxLabel}${failed > 0 ? `; ${failed} failed requests` : ""}`,
        `Hono hello world: ${fmt(h.requestsPerSecond)} req/s`,
        `cached lookups (${CACHED_KEYS} profiles): ${fmt(cached.proxy.requestsPerSecond)} req/s (${fmt(cachedRatio)}× Hono), p50 ${fmt(cached.proxy.latencyMs.p50)} ms, p99 ${fmt(cached.proxy.latencyMs.p99)} ms, ${fmt(cached.upstreamCallsPer100)} upstream calls/100`,
        `pass-through (GET events), saturated: direct ${fmt(passDirect.requestsPerSecond)} req/s, nginx ${passNginx ? fmt(passNginx.requestsPerSecond) : "-"} req/s, proxy ${fmt(passProxy.requestsPerSecond)} req/s`,
        `CPU per request: proxy ${fmt(Math.min(...proxyCpu))} µs forwarding, ${fmt(Math.min(...cachedCpu))} µs answering from cache; nginx ${nginxCpu.length === 0 ? "-" : fmt(Math.min(...nginxCpu))} µs forwarding`,
        `pass-through at ${runs[0]!.atRate.rate} req/s: added p50/p99 proxy ${fmt(addedProxy.p50)}/${fmt(addedProxy.p99)} ms` +
          (addedNginx ? `, nginx ${fmt(addedNginx.p50)}/${fmt(addedNginx.p99)} ms` : "") +
          ` (direct p50 ${fmt(addedProxy.direct.latencyMs.p50)} ms, p99 ${fmt(addedProxy.direct.latencyMs.p99)} ms)`,
        `hot-key mix: ${fmt(hot.proxy.requestsPerSecond)} req/s, p99 ${fmt(hot.proxy.latencyMs.p99)} ms, ${fmt(hot.upstreamCallsPer100)} upstream calls per 100 requests`,
        `two replicas sharing Redis, cached lookups: ${fmt(replicas.requestsPerSecond)} req/s in all (p99 ${fmt(replicas.p99Ms)} ms), one replica ${fmt(cached.proxy.requestsPerSecond)} req/s`,
        ...storms.map(
          (result) =>
            `storm, cache-ttl ${result.cacheTtl}: ${(100 * result.successRate).toFixed(2)}% of ${result.requests.toLocaleString("en-US")} requests succeeded, p99 ${fmt(result.p99Ms)} ms, max ${fmt(result.maxMs)} ms`
        ),
        `lookups over ${(COLD_KEYS + HOT_KEYS).toLocaleString("en-US")} profiles: direct ${fmt(lookupsDirect.requestsPerSecond)} req/s, proxy ${fmt(lookups.proxy.requestsPerSecond)} req/s (${fmt(lookups.upstreamCallsPer100)} upstream calls/100)`
      ],
      plots: [
        {
          file: "proxy-throughput.svg",
          svg: barChart({
            title: `Proxy: requests per second from ${CALLERS} callers (higher is better)`,
            subtitle: `upstream: local profile service, ${coreStore.toLocaleString("en-US")} profiles; best of ${context.runs} runs of ${seconds} s`,
            unit: "req/s",
            groups: [
              {
                label: "cached lookups",
                bars: [
                  { label: "Hono hello world", value: h.requestsPerSecond },
                  { label: "rtcp proxy, cached", value: cached.proxy.requestsPerSecond, note: `${cachedRatio.toFixed(2)}× Hono` }
                ]
              },
              {
                label: "pass-through: GET events",
                bars: [
                  { label: "upstream direct", value: passDirect.requestsPerSecond },
                  ...(passNginx ? [{ label: "nginx", value: passNginx.requestsPerSecond }] : []),
                  { label: "rtcp proxy", value: passProxy.requestsPerSecond }
                ]
              },
              {
                label: "GET profile, 5,010 profiles",
                bars: [
                  { label: "upstream direct", value: lookupsDirect.requestsPerSecond },
                  { label: "rtcp proxy (batched)", value: lookups.proxy.requestsPerSecond, note: `${fmt(lookups.upstreamCallsPer100)} calls/100` },
                  { label: "rtcp proxy, hot-key mix", value: hot.proxy.requestsPerSecond, note: `${fmt(hot.upstreamCallsPer100)} calls/100` }
                ]
              }
            ],
            markers: [{ value: CACHED_RATIO_TARGET * h.requestsPerSecond, label: `target ${CACHED_RATIO_TARGET}× Hono`, group: "cached lookups" }]
          })
        },
        {
          file: "proxy-latency.svg",
          svg: barChart({
            title: `Proxy: pass-through latency at ${runs[0]!.atRate.rate} req/s (lower is better)`,
            subtitle: `GET events over ${CALLERS} connections, evenly spaced at a quarter of the upstream's direct throughput; the run with the lowest added p99`,
            unit: "ms",
            groups: (["p50", "p99"] as const).map((p) => ({
              label: p,
              bars: [
                { label: "upstream direct", value: addedProxy.direct.latencyMs[p] },
                ...(addedNginx ? [{ label: "nginx", value: addedNginx.gateway.latencyMs[p], note: `+${fmt(addedNginx[p])} ms` }] : []),
                { label: "rtcp proxy", value: addedProxy.gateway.latencyMs[p], note: `+${fmt(addedProxy[p])} ms` }
              ]
            })),
            markers: [{ value: addedProxy.direct.latencyMs.p99 + ADDED_P99_TARGET_MS, label: `direct + ${ADDED_P99_TARGET_MS} ms`, group: "p99" }]
          })
        }
      ]
    }
  }
}

export default benchmark
