/**
 * Runs a command line as a process, as a user would, for tests: every rtcp
 * program is tested through its real argv, stdout, stderr and exit code, and
 * this is the one place that knows how to spawn and watch one.
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"

/** How to start the program: the executable, its leading arguments, the folder. */
export interface CommandSpec {
  readonly executable: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
}

export interface RunOptions {
  /** Killed (SIGKILL) after this long; default 60 s. */
  readonly timeoutMs?: number
  /** The test's environment with these changes; `undefined` removes a variable. */
  readonly env?: Record<string, string | undefined>
}

export interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface Running {
  /** Everything written to stdout so far. */
  readonly stdout: () => string
  readonly stderr: () => string
  /** SIGTERM, then the exit. */
  readonly stop: () => Promise<number | null>
}

const environment = (overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...overrides }
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete env[name]
  return env
}

const spawnOf = (spec: CommandSpec, args: ReadonlyArray<string>, options: RunOptions) =>
  spawn(spec.executable, [...spec.args, ...args], { cwd: spec.cwd, env: environment(options.env), stdio: ["ignore", "pipe", "pipe"] })

/** Runs the program to its end; never rejects on a non-zero exit. */
export const run = (spec: CommandSpec, args: ReadonlyArray<string>, options: RunOptions = {}): Promise<Finished> =>
  new Promise((resolve, reject) => {
    const child = spawnOf(spec, args, options)
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000)
    child.once("error", reject)
    child.once("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/** Starts the program and resolves once stdout matches `ready` (rejects when it exits or the time runs out first). */
export const start = (spec: CommandSpec, args: ReadonlyArray<string>, ready: RegExp, options: RunOptions = {}): Promise<Running> =>
  new Promise((resolve, reject) => {
    const child = spawnOf(spec, args, options)
    let stdout = ""
    let stderr = ""
    const exited = new Promise<number | null>((done) => child.once("close", (code) => done(code)))
    const running: Running = {
      stdout: () => stdout,
      stderr: () => stderr,
      stop: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
        return exited
      }
    }
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`no ${ready} within ${options.timeoutMs ?? 60_000} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`))
    }, options.timeoutMs ?? 60_000)
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
      if (ready.test(stdout)) {
        clearTimeout(timer)
        resolve(running)
      }
    })
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before ${ready}\nstdout:\n${stdout}\nstderr:\n${stderr}`))
    })
  })

/**
 * What every usage mistake must look like: exit code 2 and exactly one line
 * on stderr, prefixed with the program's name, with no stack, no tagged dump
 * and no ANSI codes. Returns that line; throws saying what is wrong.
 */
export const expectUsageError = (finished: Finished, program: string): string => {
  const lines = finished.stderr.split("\n").filter((line) => line !== "")
  const problems = [
    finished.code === 2 ? undefined : `exit code ${finished.code}, not 2`,
    lines.length === 1 ? undefined : `${lines.length} lines on stderr, not 1`,
    lines[0]?.startsWith(`${program}: `) ? undefined : `the line does not start with "${program}: "`,
    /\bat .*:\d+:\d+|"_tag"|\u001b\[/.test(finished.stderr) ? "a stack trace, a tagged dump or ANSI codes" : undefined
  ].filter((problem) => problem !== undefined)
  if (problems.length > 0) throw new Error(`${problems.join("; ")}\nstderr:\n${finished.stderr}\nstdout:\n${finished.stdout}`)
  return lines[0]!
}
