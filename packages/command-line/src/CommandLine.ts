/**
 * What rtcp's command lines (`rtcp-service`, `rtcp-proxy`, `rtcp`) share, so
 * that a mistake reads the same in each: one line on stderr naming the flag
 * and what to do, and exit code 2; never a stack trace, never a
 * `{"_tag":"InvalidValue",…}` dump. A stack trace is kept for what is not the
 * user's mistake (exit code 1).
 *
 * @effect/cli prints its own validation errors (coloured, several lines,
 * without the flag's name for a bad integer) before it fails with a
 * `ValidationError`. `run` silences that printing, keeps the error, and
 * writes one line of its own; the commands' handlers keep the usual console.
 *
 * @since 0.1.0
 */
import { CliConfig, Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Config, ConfigError, Console, Data, Effect, Option } from "effect"
import { mkdirSync, statSync } from "node:fs"
import { createServer } from "node:net"

/**
 * A mistake of the person at the command line (a busy port, a file where a
 * folder should be, a missing key file, an upstream that does not answer).
 * `message` is the whole story in one line; `run` prints it and exits 2.
 */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** Any failure with a message becomes a `UsageError` carrying it (e.g. a `StartError` of the local platform). */
export const orUsageError = <A, E extends { readonly message: string }, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, UsageError, R> =>
  Effect.mapError(effect, (error) => new UsageError({ message: error.message }))

// ---------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------

/** `--port`: a whole number from 0 to 65535, checked when the flags are read (before anything starts). */
export const parsePort = (text: string, flag: string): number => {
  const trimmed = text.trim()
  const port = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${flag} ${text} is not a port: use a whole number from 0 to 65535 (0 picks a free one)`)
  }
  return port
}

const messageOf = (error: unknown) => HelpDoc.p(error instanceof Error ? error.message : String(error))

/**
 * A flag whose text `parse` turns into a value, or throws an Error whose
 * message says what to fix; the message is prefixed with the flag's name
 * unless it already starts with it.
 */
export const parsed =
  <A>(flag: string, parse: (text: string) => A) =>
  (self: Options.Options<string>): Options.Options<A> =>
    Options.mapTryCatch(self, parse, (error) => {
      const message = error instanceof Error ? error.message : String(error)
      return HelpDoc.p(message.startsWith(flag) ? message : `${flag}: ${message}`)
    })

/**
 * A port flag with its default shown in `--help`, optionally read from an
 * environment variable when the flag is not given.
 */
export const port = (name: string, options: { readonly default: number; readonly description: string; readonly env?: string | undefined }) => {
  const flag = `--${name}`
  const integer = Options.integer(name)
  return (options.env === undefined ? integer : integer.pipe(Options.withFallbackConfig(Config.integer(options.env)))).pipe(
    Options.withDefault(options.default),
    Options.mapTryCatch((value) => parsePort(String(value), flag), messageOf),
    Options.withDescription(`${options.description} (default ${options.default}${options.env === undefined ? "" : `; env ${options.env}`})`)
  )
}

// ---------------------------------------------------------------------------
// Terminal
// ---------------------------------------------------------------------------

// CSI and OSC sequences: what @effect/printer-ansi emits for bold and colours.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g

/** The text without ANSI escape sequences. */
export const stripAnsi = (text: string): string => text.replace(ANSI, "")

const plainFor = (stream: NodeJS.WriteStream) => (args: ReadonlyArray<unknown>) =>
  stream.isTTY === true ? args : args.map((arg) => (typeof arg === "string" ? stripAnsi(arg) : arg))

/**
 * The console, with colours only on a terminal (`--help > help.txt` is plain
 * text); `quiet` drops what is written to stderr (@effect/cli's own error
 * printing, replaced by `run`'s one line).
 */
const terminalConsole = (base: Console.Console, quiet: boolean): Console.Console => {
  const out = plainFor(process.stdout)
  const err = plainFor(process.stderr)
  return {
    ...base,
    log: (...args) => base.log(...out(args)),
    info: (...args) => base.info(...out(args)),
    debug: (...args) => base.debug(...out(args)),
    error: (...args) => (quiet ? Effect.void : base.error(...err(args))),
    warn: (...args) => (quiet ? Effect.void : base.warn(...err(args)))
  }
}

const withTerminalConsole = (quiet: boolean) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Console.consoleWith(Effect.succeed), (base) => Effect.withConsole(effect, terminalConsole(base, quiet)))

// ---------------------------------------------------------------------------
// Validation errors as one line
// ---------------------------------------------------------------------------

const LOG_LEVELS = ["all", "trace", "debug", "info", "warning", "error", "fatal", "none"]

const BUILT_IN = ["--help", "-h", "--version", "--wizard", "--completions", "--log-level"]

/** The command's help as plain text: what the one-line messages look flags up in. */
export interface Usage {
  /** Every `--flag` the command (and its subcommands) documents, built-ins included. */
  readonly flags: ReadonlySet<string>
  readonly help: string
}

export const usageOf = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>): Usage => {
  const help = stripAnsi(HelpDoc.toAnsiText(Command.getHelp(command, CliConfig.defaultConfig)))
  return { help, flags: new Set([...BUILT_IN, ...(help.match(/--[a-z0-9][a-z0-9-]*/gi) ?? [])]) }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const oneLine = (text: string) => stripAnsi(text).replace(/\s+/g, " ").trim()

/** The first argument that looks like a flag and is not one of `known`. */
const unknownFlag = (argv: ReadonlyArray<string>, known: ReadonlySet<string>) =>
  argv.find((arg) => arg.startsWith("-") && arg !== "-" && arg !== "--" && !/^-\d/.test(arg) && !known.has(arg.split("=", 1)[0]!))

/** The flag `value` was given to (`--flag value` or `--flag=value`). */
const flagOf = (argv: ReadonlyArray<string>, value: string) => {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg.startsWith("--") && arg.endsWith(`=${value}`)) return arg.split("=", 1)[0]
    if (arg.startsWith("--") && argv[i + 1] === value) return arg
  }
  return undefined
}

const article = (word: string) => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`)

/**
 * The one line that says what is wrong with the command line: @effect/cli's
 * message, with the flag named where it leaves it out.
 */
export const describeValidationError = (
  error: ValidationError.ValidationError,
  argv: ReadonlyArray<string>,
  usage: Usage
): string => {
  const known = usage.flags
  const text = oneLine(HelpDoc.toAnsiText(error.error))
  // @effect/cli's built-in --log-level: a bad level surfaces as a command mismatch.
  const logLevel = argv.findIndex((arg) => arg === "--log-level" || arg.startsWith("--log-level="))
  if (logLevel >= 0) {
    const value = argv[logLevel]!.includes("=") ? argv[logLevel]!.split("=")[1] : argv[logLevel + 1]
    if (value === undefined || !LOG_LEVELS.includes(value.toLowerCase())) {
      return `--log-level ${value ?? ""}: use one of ${LOG_LEVELS.join(", ")}`.replace(" :", ":")
    }
  }
  if (/^Received unknown argument|^Invalid subcommand/.test(text) || ValidationError.isCommandMismatch(error)) {
    const flag = unknownFlag(argv, known)
    if (flag !== undefined) return `unknown flag ${flag.split("=", 1)[0]} (--help lists the flags)`
    const argument = /'([^']*)'/.exec(text)?.[1]
    if (/^Received unknown argument/.test(text) && argument !== undefined) return `unexpected argument '${argument}' (--help lists what is accepted)`
    return `${text} (--help lists what is accepted)`
  }
  const notA = /^'(.*)' is not a (\w+)$/.exec(text)
  if (notA !== null) {
    const [, value, type] = notA
    const flag = flagOf(argv, value!)
    return `${flag ?? "a flag"} ${value}: not ${article(type!)}`
  }
  const cases = /^Expected one of the following cases: (.*)$/.exec(text)
  if (cases !== null) {
    const choices = cases[1]!.split(", ")
    const flag = new RegExp(`(--[a-z0-9-]+) ${escapeRegExp(choices.join(" | "))}`).exec(usage.help)?.[1]
    const given = argv.find((arg, i) => flag !== undefined && (argv[i - 1] === flag || arg.startsWith(`${flag}=`)))
    const value = given?.startsWith(`${flag}=`) ? given.slice(flag!.length + 1) : given
    return flag === undefined ? `${text}` : `${flag} ${value ?? ""}: use one of ${choices.join(", ")}`.replace(" :", ":")
  }
  const missing = /^Expected to find option: '([^']+)'/.exec(text)
  if (missing !== null) return `${missing[1]} is required`
  if (text === "" && ValidationError.isMultipleValuesDetected(error)) return `a flag was given more than once: give it once`
  return text === "" ? "invalid command line (--help lists what is accepted)" : text
}

// ---------------------------------------------------------------------------
// Running a command
// ---------------------------------------------------------------------------

/** A configuration error's own sentence(s), without Effect's parentheses. */
export const describeConfigError = (error: ConfigError.ConfigError): string =>
  ConfigError.isAnd(error)
    ? `${describeConfigError(error.left)}; ${describeConfigError(error.right)}`
    : ConfigError.isOr(error)
      ? `${describeConfigError(error.left)}; or ${describeConfigError(error.right)}`
      : oneLine(error.message)

/**
 * `argv` with `--log-level` (and its value) moved right after the program's
 * name: @effect/cli reads its built-in flags only before the command's own,
 * and after them it says "Invalid subcommand", which sends the reader to the
 * wrong flag.
 */
export const hoistLogLevel = (argv: ReadonlyArray<string>): ReadonlyArray<string> => {
  const at = argv.findIndex((arg, i) => i >= 2 && (arg === "--log-level" || arg.startsWith("--log-level=")))
  if (at < 0) return argv
  const width = argv[at] === "--log-level" && at + 1 < argv.length ? 2 : 1
  return [...argv.slice(0, 2), ...argv.slice(at, at + width), ...argv.slice(2, at), ...argv.slice(at + width)]
}

export interface RunOptions {
  /** The program's name as typed (`rtcp-service`): the prefix of every error line. */
  readonly name: string
  readonly version: string
}

/**
 * `Command.run`, with usage mistakes reported as one line and exit code 2,
 * colours only on a terminal, and any other failure printed in full with
 * exit code 1. Succeeds once the exit code is set.
 */
export const run =
  <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>, options: RunOptions) =>
  (argv: ReadonlyArray<string>) => {
    const say = (line: string, code: number) =>
      Effect.sync(() => {
        process.stderr.write(`${options.name}: ${line}\n`)
        process.exitCode = code
      })
    const args = argv.slice(2)
    return Command.run(Command.transformHandler(command, withTerminalConsole(false)), options)(hoistLogLevel(argv)).pipe(
      withTerminalConsole(true),
      Effect.catchAllCause((cause) => {
        if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
        const failure = Cause.failureOption(cause)
        if (Option.isSome(failure)) {
          const error: unknown = failure.value
          if (ValidationError.isValidationError(error)) {
            return ValidationError.isHelpRequested(error) ? Effect.void : say(describeValidationError(error, args, usageOf(command)), 2)
          }
          if (error instanceof UsageError) return say(error.message, 2)
          // An AEP_* (or other) variable missing or malformed: its message names it.
          if (ConfigError.isConfigError(error)) return say(describeConfigError(error), 2)
        }
        return say(Cause.pretty(cause), 1)
      })
    )
  }

/** `run` on `process.argv` with Node's context, as a program's last statement. */
export const main = <Name extends string, E, A>(
  command: Command.Command<Name, CommandContext, E, A>,
  options: RunOptions
): void =>
  run(command, options)(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain({ disableErrorReporting: true }))

/** What a command's handler may use without providing it. */
export type CommandContext = NodeContext.NodeContext

// ---------------------------------------------------------------------------
// Checks before anything starts
// ---------------------------------------------------------------------------

/**
 * Fails with a `UsageError` naming the port when something already listens
 * on it, so a program can say so before it spends time seeding or loading.
 * (Whoever takes the port in between still fails the real listen, which the
 * program reports the same way.) Port 0 is always free.
 */
export const ensurePortFree = (port: number, host: string): Effect.Effect<void, UsageError> =>
  port === 0
    ? Effect.void
    : Effect.async<void, UsageError>((resume) => {
        const probe = createServer()
        probe.once("error", (error: NodeJS.ErrnoException) => {
          resume(
            error.code === "EADDRINUSE"
              ? Effect.fail(new UsageError({ message: `port ${port} is already in use on ${host}: stop what uses it or pick another (0 picks a free one)` }))
              : // Anything else (no such address, no privilege) the real listen reports.
                Effect.void
          )
        })
        probe.listen({ port, host, exclusive: true }, () => probe.close(() => resume(Effect.void)))
      })

/**
 * A folder the program writes into: created when missing; a file in its
 * place (or a parent that is a file, or no permission) is a `UsageError`
 * naming the flag, rather than EEXIST from deep inside `mkdir`.
 */
export const ensureFolder = (path: string, flag: string): Effect.Effect<void, UsageError> =>
  Effect.suspend(() => {
    const stats = statSync(path, { throwIfNoEntry: false })
    if (stats !== undefined && !stats.isDirectory()) {
      return Effect.fail(new UsageError({ message: `${flag} ${path} is a file, not a folder: give a folder (created if missing)` }))
    }
    try {
      mkdirSync(path, { recursive: true })
      return Effect.void
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      return Effect.fail(
        new UsageError({
          message:
            code === "ENOTDIR" || code === "EEXIST"
              ? `${flag} ${path} lies under a file: give a folder`
              : `${flag} ${path} cannot be created (${code ?? String(error)})`
        })
      )
    }
  })
