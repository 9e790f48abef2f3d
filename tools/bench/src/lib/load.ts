/**
 * HTTP load with autocannon, against loopback only and bounded in time:
 * `connections` keep one request in flight each for `seconds`. Latencies are
 * taken per response (autocannon's own histogram rounds to whole
 * milliseconds).
 */
import autocannon from "autocannon"
import { Agent, request } from "node:http"
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

const isLoopback = (url: string) => /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(url)

const once = (options: LoadOptions, seconds: number) =>
  new Promise<LoadResult>((resolve, reject) => {
    if (!isLoopback(options.url)) {
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

export interface PacedOptions {
  readonly url: string
  /** Requests per second, sent evenly spaced whatever the answers (an open loop). */
  readonly rate: number
  readonly seconds: number
  /** Keep-alive connections the requests share (at most this many in flight). */
  readonly connections: number
  readonly paths: ReadonlyArray<string>
  readonly headers?: Record<string, string> | undefined
  readonly warmupSeconds?: number | undefined
}

/**
 * Latency at a fixed offered rate: the time each gateway adds, measured where
 * the upstream is not saturated (at saturation a gateway's latency is the
 * upstream's queue). autocannon's `overallRate` sends each second's quota
 * in a burst, which measures the burst; this spaces requests evenly.
 */
export const paced = async (options: PacedOptions): Promise<LoadResult> => {
  if (!isLoopback(options.url)) throw new Error(`load is only generated against loopback, not ${options.url}`)
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections })
  const origin = new URL(options.url)
  let next = 0
  const one = () =>
    new Promise<{ ms: number; status: number }>((resolve) => {
      const started = performance.now()
      const req = request(
        { agent, host: origin.hostname, port: origin.port, path: options.paths[next++ % options.paths.length], headers: options.headers ?? {} },
        (res) => {
          res.resume()
          res.on("end", () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0 }))
          res.on("error", () => resolve({ ms: performance.now() - started, status: 0 }))
        }
      )
      req.setTimeout(10_000, () => req.destroy())
      req.on("error", () => resolve({ ms: performance.now() - started, status: 0 }))
      req.end()
    })
  const run = async (seconds: number) => {
    const total = Math.max(1, Math.round(options.rate * seconds))
    const interval = 1000 / options.rate
    const began = performance.now()
    const pending: Array<Promise<{ ms: number; status: number }>> = []
    for (let i = 0; i < total; i++) {
      const due = began + i * interval
      const wait = due - performance.now()
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
      pending.push(one())
    }
    const answers = await Promise.all(pending)
    return { answers, seconds: (performance.now() - began) / 1000 }
  }
  try {
    if ((options.warmupSeconds ?? 2) > 0) await run(options.warmupSeconds ?? 2)
    const { answers, seconds } = await run(options.seconds)
    const s = summarize(answers.map((a) => a.ms))
    return {
      requests: answers.length,
      requestsPerSecond: answers.length / seconds,
      latencyMs: { mean: s.mean, p50: s.p50, p90: s.p90, p99: s.p99, max: s.max },
      errors: answers.filter((a) => a.status === 0).length,
      timeouts: 0,
      non2xx: answers.filter((a) => a.status !== 0 && (a.status < 200 || a.status > 299)).length,
      seconds
    }
  } finally {
    agent.destroy()
  }
}
