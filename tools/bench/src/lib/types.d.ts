// The two untyped CommonJS packages the benchmarks use, typed as far as they are used.

declare module "better-sqlite3" {
  interface RunResult {
    readonly changes: number
    readonly lastInsertRowid: number | bigint
  }
  interface Statement {
    run(...params: ReadonlyArray<unknown>): RunResult
    get(...params: ReadonlyArray<unknown>): any
    all(...params: ReadonlyArray<unknown>): Array<any>
    pluck(toggle?: boolean): Statement
  }
  interface Database {
    prepare(sql: string): Statement
    pragma(source: string, options?: { simple?: boolean }): unknown
    exec(source: string): Database
    transaction<F extends (...args: Array<any>) => unknown>(fn: F): F
    close(): void
  }
  const Database: new (filename: string, options?: { readonly?: boolean }) => Database
  export default Database
}

declare module "autocannon" {
  interface Histogram {
    readonly average: number
    readonly mean: number
    readonly p50: number
    readonly p90: number
    readonly p99: number
    readonly max: number
    readonly total: number
  }
  interface Result {
    readonly requests: Histogram
    readonly latency: Histogram
    readonly errors: number
    readonly timeouts: number
    readonly non2xx: number
    readonly duration: number
    readonly statusCodeStats: Record<string, { count: number }>
  }
  interface Request {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
    setupRequest?: (request: Request, context: Record<string, unknown>) => Request
  }
  interface Options {
    url: string
    connections?: number
    duration?: number
    pipelining?: number
    timeout?: number
    headers?: Record<string, string>
    requests?: Array<Request>
  }
  interface Instance {
    on(event: "response", listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): Instance
    stop(): void
  }
  function autocannon(options: Options, callback: (error: Error | null, result: Result) => void): Instance
  export type { Result }
  export default autocannon
}
