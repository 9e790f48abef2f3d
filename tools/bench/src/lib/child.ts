/**
 * Workers run in child processes: each measurement gets a fresh process, so
 * its peak memory (`maxRSS`) and CPU time are its own, and a server under
 * load does not share an event loop with its load generator.
 *
 * Protocol: the worker reads its arguments as JSON on stdin and writes
 * `\u0001READY <json>` (servers, once listening) and `\u0001RESULT <json>`
 * lines on stdout; every other line is passed to the log.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

export const MARK = "\u0001"
const here = dirname(fileURLToPath(import.meta.url))

export const workerPath = (name: string) => join(here, "..", "workers", `${name}.ts`)

export interface WorkerOptions {
  /** The worker is killed after this long. */
  readonly timeoutMs: number
  readonly log?: ((line: string) => void) | undefined
  /** Extra node flags (`--cpu-prof`, `--max-old-space-size=…`). */
  readonly nodeArgs?: ReadonlyArray<string> | undefined
}

/** Workers still running: stopped with the benchmark, whatever ends it. */
const live = new Set<ChildProcess>()
const stopAll = () => {
  for (const child of live) child.kill("SIGKILL")
}
process.on("exit", stopAll)
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopAll()
    process.exit(130)
  })
}

const launch = (name: string, args: unknown, options: WorkerOptions) => {
  const child = spawn(process.execPath, ["--conditions=@rtcp/source", "--import", "tsx", ...(options.nodeArgs ?? []), workerPath(name)], {
    stdio: ["pipe", "pipe", "pipe"]
  })
  child.stdin!.end(JSON.stringify(args))
  live.add(child)
  child.on("exit", () => live.delete(child))
  return child
}

interface Listener {
  readonly ready: (info: any) => void
  readonly result: (value: any) => void
}

const listen = (child: ChildProcess, name: string, options: WorkerOptions, listener: Listener) => {
  const stderr: Array<string> = []
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (line.startsWith(`${MARK}READY `)) listener.ready(JSON.parse(line.slice(MARK.length + 6)))
    else if (line.startsWith(`${MARK}RESULT `)) listener.result(JSON.parse(line.slice(MARK.length + 7)))
    else if (line.trim() !== "") options.log?.(`  [${name}] ${line}`)
  })
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderr.push(line)
    if (stderr.length > 40) stderr.shift()
    options.log?.(`  [${name}!] ${line}`)
  })
  return stderr
}

/** Runs a worker to completion and returns its result. */
export const runWorker = <R>(name: string, args: unknown, options: WorkerOptions): Promise<R> =>
  new Promise<R>((resolve, reject) => {
    const child = launch(name, args, options)
    let result: { value: R } | undefined
    const stderr = listen(child, name, options, { ready: () => {}, result: (value) => (result = { value }) })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`worker ${name} ran past its ${Math.round(options.timeoutMs / 1000)} s bound and was stopped`))
    }, options.timeoutMs)
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      if (result) resolve(result.value)
      else reject(new Error(`worker ${name} exited (${code ?? signal}) without a result:\n${stderr.join("\n")}`))
    })
  })

export interface Running<I, R> {
  readonly info: I
  readonly pid: number
  /** SIGTERM; resolves with what the worker reports on the way out (its peak memory, say). */
  readonly stop: () => Promise<R | undefined>
}

/** Starts a long-running worker (a server) and resolves once it says READY. */
export const startWorker = <I, R = unknown>(name: string, args: unknown, options: WorkerOptions): Promise<Running<I, R>> =>
  new Promise((resolve, reject) => {
    const child = launch(name, args, options)
    let result: R | undefined
    let started = false
    const exited = new Promise<void>((done) => child.on("exit", () => done()))
    const stderr = listen(child, name, options, {
      ready: (info: I) => {
        started = true
        clearTimeout(timer)
        resolve({
          info,
          pid: child.pid!,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill("SIGTERM")
              const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
              await exited
              clearTimeout(killer)
            }
            return result
          }
        })
      },
      result: (value: R) => (result = value)
    })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`worker ${name} did not start within ${Math.round(options.timeoutMs / 1000)} s`))
    }, options.timeoutMs)
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      if (!started) reject(new Error(`worker ${name} exited (${code ?? signal}) before it was ready:\n${stderr.join("\n")}`))
    })
  })
