/**
 * Starts `rtcp-proxy` as a process, as a user would. The one place that
 * says how: today through tsx from the sources; when the bin runs compiled
 * JavaScript, change `command` alone.
 */
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const app = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

export const command = {
  executable: process.execPath,
  args: ["--conditions=@rtcp/source", "--import", "tsx", "src/main.ts"],
  cwd: app
}

/** The test's environment with `overrides`; an `undefined` value removes the variable. */
const environment = (overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...overrides }
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete env[name]
  return env
}

export interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the command line to its end (killed after `timeoutMs`); never rejects on a non-zero exit. */
export const cli = (args: ReadonlyArray<string>, options: { readonly timeoutMs?: number; readonly env?: Record<string, string | undefined> } = {}) =>
  new Promise<Finished>((resolve, reject) => {
    const child = spawn(command.executable, [...command.args, ...args], {
      cwd: command.cwd,
      env: environment(options.env),
      stdio: ["ignore", "pipe", "pipe"]
    })
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

/** What every usage mistake must look like: exit code 2 and exactly one line on stderr, no stack, no dump. */
export const expectUsageError = (finished: Finished, program: string) => {
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

export interface Running {
  /** Everything written to stdout so far. */
  readonly stdout: () => string
  readonly stderr: () => string
  /** SIGTERM, then the exit. */
  readonly stop: () => Promise<number | null>
}

/** Starts the command line and resolves once stdout matches `ready` (rejects when it exits or `timeoutMs` passes first). */
export const start = (args: ReadonlyArray<string>, ready: RegExp, options: { readonly timeoutMs?: number; readonly env?: Record<string, string | undefined> } = {}) =>
  new Promise<Running>((resolve, reject) => {
    const child = spawn(command.executable, [...command.args, ...args], {
      cwd: command.cwd,
      env: environment(options.env),
      stdio: ["ignore", "pipe", "pipe"]
    })
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
