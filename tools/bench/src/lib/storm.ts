/**
 * The proxy's production scenarios (issue 12): two replicas sharing Redis
 * answering cached lookups, and a storm (about 10 % 5xx, and 25 consecutive
 * 429s with `Retry-After: 1` every 6 s) through `/v1/profiles/…` and the
 * AEP single-profile GET, as the success rate callers see.
 */
import { loadavg } from "node:os"
import type { Context } from "./benchmark.js"
import { PROXY_KEY, startProxy } from "./gateways.js"
import { load, type LoadResult } from "./load.js"
import { platformHeaders, profilePath, startService, withServer } from "./service.js"

export const REDIS_URL = process.env.RTCP_BENCH_REDIS_URL ?? process.env.RTCP_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

const proxyHeaders = { "x-api-key": PROXY_KEY, "x-sandbox-name": "prod" }

type Identity = { readonly namespace: string; readonly id: string }

/** Cached lookups over `identities` through two replicas sharing one Redis, half the callers on each. */
export const twoReplicas = async (
  context: Context,
  options: { readonly upstream: string; readonly identities: ReadonlyArray<Identity>; readonly callers: number; readonly seconds: number }
) => {
  const prefix = `rtcp-bench:${process.pid}:${Date.now()}:`
  const start = (name: string) => startProxy(context, { upstream: options.upstream, cacheTtl: "60s", name, redis: { url: REDIS_URL, prefix } })
  const [a, b] = await Promise.all([start("replica-a"), start("replica-b")])
  try {
    const paths = options.identities.map(profilePath)
    const half = Math.max(1, Math.floor(options.callers / 2))
    const [ra, rb] = await Promise.all([
      load({ url: a.url, connections: half, seconds: options.seconds, headers: proxyHeaders, paths }),
      load({ url: b.url, connections: half, seconds: options.seconds, headers: proxyHeaders, paths })
    ])
    return {
      requestsPerSecond: ra.requestsPerSecond + rb.requestsPerSecond,
      p50Ms: Math.max(ra.latencyMs.p50, rb.latencyMs.p50),
      p99Ms: Math.max(ra.latencyMs.p99, rb.latencyMs.p99),
      failed: ra.errors + ra.timeouts + ra.non2xx + rb.errors + rb.timeouts + rb.non2xx,
      replicas: [ra, rb]
    }
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

const STORM_RULES = [
  "POST /data/core/ups/access/entities 429 retry-after=1 times=25",
  "GET /data/core/ups/access/entities 429 retry-after=1 times=25",
  "* /data/core/** 503 p=0.05",
  "* /data/core/** 500 p=0.05"
]

export interface StormResult {
  readonly cacheTtl: string
  readonly requests: number
  readonly succeeded: number
  readonly successRate: number
  readonly failed: number
  /** Requests the load generator gave up on after 10 s (counted in `failed`). */
  readonly timedOut: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly storms: number
  /** The 1-minute load average when it ended (the machine is shared). */
  readonly load1: number
}

/**
 * The storm scenario against a service with fault injection, once per cache
 * setting. The proxy's `--timeout` (9 s) is below the load generator's
 * patience (10 s): its deadline-aware retries must answer before the caller
 * gives up, as they would be configured in front of real callers.
 */
export const storm = async (
  context: Context,
  options: { readonly dir: string; readonly identities: ReadonlyArray<Identity>; readonly callers: number; readonly seconds: number }
): Promise<ReadonlyArray<StormResult>> =>
  (
    await withServer(startService(context, { dir: options.dir, admin: true }), async ({ token, url: upstream }) => {
      const setFaults = async (rules: ReadonlyArray<string>) => {
        const response = await fetch(`${upstream}/rtcp/admin/faults`, {
          method: "PUT",
          headers: { ...platformHeaders(token), "content-type": "application/json" },
          body: JSON.stringify({ rules })
        })
        if (!response.ok) throw new Error(`faults not set: ${response.status} ${await response.text()}`)
      }
      const results: Array<StormResult> = []
      for (const cacheTtl of ["2s", "0"]) {
        const proxy = await startProxy(context, { upstream, cacheTtl, name: `storm-${cacheTtl}`, args: ["--timeout", "9s"] })
        try {
          const paths = options.identities.flatMap((identity) => [
            `/v1/profiles/${identity.namespace}/${encodeURIComponent(identity.id)}`,
            profilePath(identity)
          ])
          // Warm up without faults, then the storm: 25 consecutive 429s every 6 s over 5xx noise.
          await load({ url: proxy.url, connections: options.callers, seconds: 2, warmupSeconds: 0, headers: proxyHeaders, paths })
          let storms = 0
          await setFaults(STORM_RULES)
          storms++
          const timer = setInterval(() => {
            storms++
            setFaults(STORM_RULES).catch((error: unknown) => context.log(`storm not set: ${String(error)}`))
          }, 6000)
          let result: LoadResult
          try {
            result = await load({ url: proxy.url, connections: options.callers, seconds: options.seconds, warmupSeconds: 0, headers: proxyHeaders, paths })
          } finally {
            clearInterval(timer)
            await setFaults([])
          }
          // autocannon's `errors` include its `timeouts` (a request unanswered after 10 s counts as one).
          const failed = result.errors + result.non2xx
          const succeeded = result.requests - result.non2xx
          results.push({
            cacheTtl,
            requests: result.requests + result.errors,
            succeeded,
            failed,
            timedOut: result.timeouts,
            successRate: succeeded / Math.max(1, result.requests + result.errors),
            p99Ms: Number(result.latencyMs.p99.toFixed(1)),
            maxMs: Number(result.latencyMs.max.toFixed(1)),
            storms,
            load1: Number(loadavg()[0]!.toFixed(2))
          })
          context.log(`  storm, cache-ttl ${cacheTtl}: ${succeeded}/${result.requests + result.errors} succeeded (${result.timeouts} unanswered after 10 s), p99 ${result.latencyMs.p99.toFixed(0)} ms, max ${result.latencyMs.max.toFixed(0)} ms`)
        } finally {
          await proxy.stop()
        }
      }
      return results
    })
  ).value
