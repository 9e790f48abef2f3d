/**
 * HTTP load with autocannon, against loopback only and bounded in time:
 * `connections` keep one request in flight each for `seconds`. Latencies are
 * taken per response (autocannon's own histogram rounds to whole
 * milliseconds).
 */
import autocannon, { type Result as AutocannonResult } from "autocannon"
import { Agent, request } from "node:http"
import { summarize } from "./stats.js"

export interface LoadOptions {
  /** Origin, e.g. `http://127.0.0.1:8080`. */
  readonly url: string
  /** More origins serving the same thing: the connections are split across `url` and these. */
  readonly also?: ReadonlyArray<string> | undefined
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

const run = (
  options: LoadOptions,
  url: string,
  connections: number,
  seconds: number,
  latencies: Array<number>,
  amount?: number,
  onResponse?: () => void
) =>
  new Promise<AutocannonResult>((resolve, reject) => {
    if (!isLoopback(url)) {
      reject(new Error(`load is only generated against loopback, not ${url}`))
      return
    }
    let next = 0
    const paths = options.paths ?? ["/"]
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        ...(amount === undefined ? {} : { amount }),
        timeout: 10,
        headers: options.headers ?? {},
        requests: [{ method: "GET", setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }) }]
      },
      (error, result) => (error ? reject(error) : resolve(result))
    )
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime)
      onResponse?.()
    })
  })

/**
 * One load generator; with several `also` origins (processes serving one
 * store), its connections are split evenly across them, round-robin by
 * connection as a TCP balancer in front would, and the figures are the
 * whole's: latencies of every response together.
 */
const once = async (options: LoadOptions, seconds: number): Promise<LoadResult> => {
  const urls = [options.url, ...(options.also ?? [])]
  const latencies: Array<number> = []
  const results = await Promise.all(
    urls.map((url, i) =>
      run(options, url, Math.floor(options.connections / urls.length) + (i < options.connections % urls.length ? 1 : 0), seconds, latencies)
    )
  )
  const s = summarize(latencies)
  const duration = Math.max(...results.map((r) => r.duration))
  const sum = (f: (r: AutocannonResult) => number) => results.reduce((n, r) => n + f(r), 0)
  return {
    requests: sum((r) => r.requests.total),
    requestsPerSecond: sum((r) => r.requests.total) / duration,
    latencyMs: { mean: s.mean, p50: s.p50, p90: s.p90, p99: s.p99, max: s.max },
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    non2xx: sum((r) => r.non2xx),
    seconds: duration
  }
}

export const load = async (options: LoadOptions): Promise<LoadResult> => {
  const warmup = options.warmupSeconds ?? 2
  if (warmup > 0) await once(options, warmup)
  return once(options, options.seconds)
}

/**
 * Every path asked exactly once, `connections` at a time: what a cold
 * service does with a set of lookups it has never answered (nothing kept,
 * every page read from disk or SQLite's cache for the first time).
 */
export const pass = async (options: Omit<LoadOptions, "seconds" | "warmupSeconds" | "also">): Promise<LoadResult> => {
  const latencies: Array<number> = []
  const amount = (options.paths ?? ["/"]).length
  // autocannon ends an `amount` run on its next one-second tick: the pass ends with its last answer instead.
  const began = performance.now()
  let last = began
  const result = await run({ ...options, seconds: 3600 }, options.url, Math.min(options.connections, amount), 3600, latencies, amount, () => {
    last = performance.now()
  })
  const s = summarize(latencies)
  const seconds = (last - began) / 1000
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / seconds,
    latencyMs: { mean: s.mean, p50: s.p50, p90: s.p90, p99: s.p99, max: s.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    seconds
  }
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
