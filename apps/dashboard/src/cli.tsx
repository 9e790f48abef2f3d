/**
 * The dashboard's command line (`npm start` enters through `main.tsx`). With `AEP_*` credentials it talks to Adobe;
 * `--upstream URL` picks any upstream (the proxy included); otherwise it
 * starts the local profile service in this process, on a free loopback
 * port, with the demo data in `.rtcp/dashboard`, and stops it on exit.
 * Without a terminal it prints a summary and exits.
 */
import { Args, Command, Options } from "@effect/cli"
import { CommandLine } from "@rtcp/command-line"
import { render } from "ink"
import { Config, Effect, Layer, Logger, LogLevel, ManagedRuntime, Option } from "effect"
import { appendFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { App } from "./App.js"
import { summary } from "./summary.js"
import { routeFromArgs } from "./state/routes.js"
import { viewIds } from "./state/views.js"
import * as Upstream from "./upstream.js"

const upstream = Options.text("upstream").pipe(
  Options.optional,
  Options.withDescription(
    "Platform base URL to use instead of the local service: an rtcp proxy (with --proxy-key), another profile service, Adobe's gateway. " +
      "Authenticates with --proxy-key when given, else the AEP_* credential when one is set, else the local demo credential"
  )
)
const proxyKey = Options.redacted("proxy-key").pipe(
  Options.withFallbackConfig(Config.redacted("RTCP_PROXY_KEY")),
  Options.optional,
  Options.withDescription("Your caller key of the rtcp proxy at --upstream (env RTCP_PROXY_KEY); sent as the bearer token")
)
const sandbox = Options.text("sandbox").pipe(Options.optional, Options.withDescription("Sandbox to start in (default: AEP_SANDBOX or prod)"))
const readOnly = Options.boolean("read-only").pipe(Options.withDescription("Refuse every write: no create, edit, delete, cancel (default off)"))
const data = Options.text("data").pipe(
  Options.withDefault(".rtcp/dashboard"),
  Options.withDescription('Data folder of the local profile service (":memory:" for a throw-away store); also holds dashboard.log (default .rtcp/dashboard)')
)
const profiles = Options.integer("profiles").pipe(
  Options.withDefault(1000),
  Options.withDescription("Demo customers the local service is seeded with, on its first start in a data folder (default 1000)")
)
const refresh = Options.integer("refresh").pipe(
  Options.withDefault(5),
  Options.withDescription("Seconds between live refreshes; 0: only on r (default 5)")
)
const view = Options.choice("view", viewIds).pipe(Options.optional, Options.withDescription("View to open first"))
const where = Args.text({ name: "view [item…]" }).pipe(
  Args.repeated,
  Args.withDescription("A permalink: the screen to open, e.g. `profiles Email jane.doe@example.com`, `jobs system ID` (`:` in the dashboard shows the current one)")
)

/** npm runs scripts in the workspace folder; paths are relative to where `npm start` was typed. */
const fromInvocation = (path: string) => (path === ":memory:" ? path : resolve(process.env.INIT_CWD ?? process.cwd(), path))

/** Effect's logs go to a file: the terminal belongs to the dashboard. */
const fileLogger = (file: string) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.logfmtLogger.pipe(
      Logger.map((line) => {
        try {
          appendFileSync(file, line + "\n")
        } catch {
          // A log line is not worth failing for.
        }
      })
    )
  )

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const

const ENTER_ALT_SCREEN = "\u001b[?1049h\u001b[2J\u001b[H"
const LEAVE_ALT_SCREEN = "\u001b[?1049l"

const command = Command.make("rtcp", { upstream, proxyKey, sandbox, readOnly, data, profiles, refresh, view, where }, (options) =>
  Effect.gen(function* () {
    // The permalink words are repeated positionals, so @effect/cli hands an unknown flag to them: name it as a flag.
    const flag = options.where.find((word) => /^--?[A-Za-z]/.test(word))
    if (flag !== undefined) return yield* new CommandLine.UsageError({ message: `unknown flag ${flag.split("=", 1)[0]} (--help lists the flags)` })
    const opened = routeFromArgs(options.where)
    if ("error" in opened) return yield* new CommandLine.UsageError({ message: opened.error })
    if (Option.isSome(options.proxyKey) && Option.isNone(options.upstream)) {
      return yield* new CommandLine.UsageError({ message: "--proxy-key needs --upstream URL, the proxy's base URL (e.g. --upstream http://127.0.0.1:8081)" })
    }
    const given = Option.getOrUndefined(options.upstream)
    if (given !== undefined && !URL.canParse(given)) {
      return yield* new CommandLine.UsageError({ message: `--upstream ${given} is not a URL: give the base URL, e.g. http://127.0.0.1:8081` })
    }
    const directory = fromInvocation(options.data)
    const logFile = directory === ":memory:" ? join(fromInvocation(".rtcp"), "dashboard.log") : join(directory, "dashboard.log")
    yield* CommandLine.ensureFolder(dirname(logFile), directory === ":memory:" ? "the log folder" : "--data")
    const chosen = yield* Upstream.choose({
      upstream: options.upstream,
      sandbox: options.sandbox,
      directory,
      profiles: options.profiles,
      proxyKey: options.proxyKey
    }).pipe(CommandLine.orUsageError)
    const aepSandbox = yield* Config.option(Config.nonEmptyString("AEP_SANDBOX"))
    const startSandbox = Option.getOrElse(options.sandbox, () =>
      chosen.kind === "local" ? "prod" : Option.getOrElse(aepSandbox, () => "prod")
    )
    const layer = chosen.layer.pipe(Layer.provide(fileLogger(logFile)), Layer.merge(fileLogger(logFile)), Layer.merge(Logger.minimumLogLevel(LogLevel.Info)))
    const runtime = ManagedRuntime.make(layer)

    if (chosen.kind !== "local") {
      // Said in one line before anything is drawn: an upstream that does not answer or refuses us.
      const problem = yield* Effect.promise(() => runtime.runPromise(Upstream.probe({ proxyKey: Option.isSome(options.proxyKey) })).catch((error: unknown) => String(error)))
      if (problem !== undefined) {
        yield* Effect.promise(() => runtime.dispose())
        return yield* new CommandLine.UsageError({ message: problem })
      }
    }

    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      const code = yield* Effect.promise(() => summary(runtime, { kind: chosen.kind, sandbox: startSandbox })).pipe(
        Effect.ensuring(Effect.promise(() => runtime.dispose()))
      )
      process.exitCode = code
      return
    }

    // Whatever ends the session (q, Ctrl-C, SIGTERM, SIGHUP), the release runs: the
    // terminal leaves the alternate screen and the runtime (the local service with it) stops.
    let url: string | undefined
    yield* Effect.acquireUseRelease(
      Effect.sync(() => {
        process.stdout.write(ENTER_ALT_SCREEN)
        const instance = render(
          <App
            runtime={runtime}
            kind={chosen.kind}
            connecting={
              chosen.kind === "local"
                ? "starting the local profile service (a first start seeds the demo data)…"
                : chosen.kind === "adobe"
                  ? "signing in to Adobe IMS…"
                  : "connecting…"
            }
            sandbox={startSandbox}
            readOnly={options.readOnly}
            refreshMs={Math.max(0, options.refresh) * 1000}
            view={Option.getOrUndefined(options.view)}
            stack={options.where.length > 0 ? opened.stack : undefined}
          />,
          { exitOnCtrlC: false, maxFps: 20, patchConsole: true }
        )
        runtime.runPromise(Upstream.Upstream).then(
          (info) => {
            url = info.kind === "local" ? info.url : undefined
          },
          () => undefined
        )
        return instance
      }),
      (instance) =>
        Effect.promise(() => {
          // Signals end the session like q does. Our listener must stay registered until the
          // cleanup is done: with none left, Ink's signal-exit would re-raise the signal and
          // kill the process before the terminal and the local service are restored.
          const stop = () => instance.unmount()
          for (const signal of SIGNALS) process.on(signal, stop)
          return instance.waitUntilExit().finally(() => {
            setImmediate(() => {
              for (const signal of SIGNALS) process.off(signal, stop)
            })
          })
        }),
      (instance) =>
        Effect.promise(async () => {
          instance.unmount()
          process.stdout.write(LEAVE_ALT_SCREEN)
          await runtime.dispose()
          if (url) process.stdout.write(`rtcp: stopped the local profile service at ${url}\n`)
        })
    )
  })
).pipe(Command.withDescription("A k9s-style terminal dashboard for the Real-Time Customer Profile API"))

CommandLine.main(command, { name: "rtcp", version: "0.1.0" })
