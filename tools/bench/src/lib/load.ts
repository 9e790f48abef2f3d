/**
 * HTTP load with autocannon, against loopback only and bounded in time:
 * `connections` keep one request in flight each for `seconds`. Latencies are
 * taken per response (autocannon's own histogram rounds to whole
 * milliseconds).
 */
import autocannon from "autocannon"
import { summarize } from "./stats.js"

export interface LoadOptions {
  /** Origin, e.g. `http://127.0.0.1:8080`. */
  readonly url: string
  readonly connections: number
  readonly seconds: number
  /** Paths requested in turn; `/` when omitted. */
  readonly paths?: ReadonlyArray<string> | undefined
  readonly headers?: Record<string, string> | undefined
  /** An unmeasured run first (JIT, caches), default 2 s. */
  readonly warmupSeconds?: number | undefined
}

export interface LoadResult {
  readonly requests: number
  readonly requestsPerSecond: number
  readonly latencyMs: { readonly mean: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number }
  readonly errors: number
  readonly timeouts: number
  readonly non2xx: number
  readonly seconds: number
}

const once = (options: LoadOptions, seconds: number) =>
  new Promise<LoadResult>((resolve, reject) => {
    if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(options.url)) {
      reject(new Error(`load is only generated against loopback, not ${options.url}`))
      return
    }
    const latencies: Array<number> = []
    let next = 0
    const paths = options.paths ?? ["/"]
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: seconds,
        timeout: 10,
        headers: options.headers ?? {},
        requests: [{ method: "GET", setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }) }]
      },
      (error, result) => {
        if (error) return reject(error)
        const s = summarize(latencies)
        resolve({
          requests: result.requests.total,
          requestsPerSecond: result.requests.total / result.duration,
          latencyMs: { mean: s.mean, p50: s.p50, p90: s.p90, p99: s.p99, max: s.max },
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          seconds: result.duration
        })
      }
    )
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime)
    })
  })

export const load = async (options: LoadOptions): Promise<LoadResult> => {
  const warmup = options.warmupSeconds ?? 2
  if (warmup > 0) await once(options, warmup)
  return once(options, options.seconds)
}
