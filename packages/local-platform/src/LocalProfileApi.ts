/**
 * The local Profile API as a library for tests, in the spirit of LocalStack,
 * the Firebase emulators and DynamoDB Local: start it in-process on a free
 * loopback port, get its base URL and a credential, point the code under
 * test at it, stop it.
 *
 * ```ts
 * const api = await LocalProfileApi.start({ seed: "demo" })
 * process.env = { ...process.env, ...api.env }   // AEP_* variables
 * // … the code under test calls api.baseUrl …
 * await api.stop()
 * ```
 *
 * With `@effect/vitest`, `it.layer(LocalProfileApi.layerClient({ seed: "demo" }))`
 * gives every test a `ProfileClient` wired to a fresh emulator.
 *
 * @since 0.1.0
 */
import { HttpApiBuilder, HttpServer } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { AccessToken, Platform, ProfileClient } from "@rtcp/core"
import { Cause, Context, Data, Effect, Exit, Layer, Logger, LogLevel, Redacted, Scope } from "effect"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type * as Faults from "./Faults.js"
import { demoClient } from "./ImsTokens.js"
import { seedDemo } from "./Seed.js"
import * as Server from "./Server.js"

export interface Options {
  /**
   * Where the store lives: `":memory:"` (the default; gone when stopped),
   * `":temp:"` (a fresh temporary folder, deleted when stopped), or a folder
   * (created if missing, kept, reused by the next start).
   */
  readonly data?: string | undefined
  /**
   * `"demo"`: the demo retail datasets with 100 customers, Jane Doe
   * (`jane.doe@example.com`, namespace `Email`) among them;
   * `{ profiles: n }`: the same with n customers; `false` (the default): empty.
   */
  readonly seed?: "demo" | { readonly profiles: number } | false | undefined
  /** Fault rules, latency and seed (see `Faults`); none by default. */
  readonly faults?: Faults.FaultOptions | undefined
  /** Serves `/rtcp/admin/…` (change faults at run time). Off by default. */
  readonly admin?: boolean | undefined
  /** 0 (the default) picks a free port. */
  readonly port?: number | undefined
  /** Default 127.0.0.1. */
  readonly host?: string | undefined
  /** The sandbox of `credentials` and `env` (default `prod`; only `prod` exists until one is created). */
  readonly sandbox?: string | undefined
  /** Lifetime of the tokens its IMS issues (default 24 h). */
  readonly tokenTtlSeconds?: number | undefined
  /** Effect logs below this level are dropped (default Warning: seeding and start-up stay quiet). */
  readonly logLevel?: LogLevel.LogLevel | undefined
}

/** How many customers `seed: "demo"` generates: enough for every demo dataset, quick to ingest. */
export const DEMO_PROFILES = 100

/** The OAuth server-to-server credential the emulator accepts, as AEP's Developer Console names its parts. */
export interface Credentials {
  readonly clientId: string
  readonly clientSecret: string
  readonly orgId: string
  /** `x-api-key` (the client id). */
  readonly apiKey: string
  readonly sandbox: string
}

/** A running emulator. */
export interface LocalProfileApiInfo {
  /** Platform and IMS base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly baseUrl: string
  readonly port: number
  readonly credentials: Credentials
  /**
   * The `AEP_*` variables that point `ProfileClient.layerConfig` (and the
   * rtcp apps) at this emulator: `AEP_PLATFORM_URL`, `AEP_IMS_URL`,
   * `AEP_CLIENT_ID`, `AEP_CLIENT_SECRET`, `AEP_ORG_ID`, `AEP_API_KEY`, `AEP_SANDBOX`.
   */
  readonly env: Readonly<Record<string, string>>
  /** The data folder, or `":memory:"`. */
  readonly data: string
}

/** What `start` returns: the emulator and the way to stop it. */
export interface RunningLocalProfileApi extends LocalProfileApiInfo {
  /** Closes the port, drops an in-memory store, deletes a `":temp:"` folder. Safe to call twice. */
  readonly stop: () => Promise<void>
}

/** The emulator of the current scope (provided by `layer` and `layerClient`). */
export class LocalProfileApi extends Context.Tag("@rtcp/local-platform/LocalProfileApi")<LocalProfileApi, LocalProfileApiInfo>() {}

/**
 * Why the emulator did not start. `message` is one line that says what to
 * fix (the command lines print it as it is).
 */
export class StartError extends Data.TaggedError("StartError")<{
  readonly reason: "InvalidPort" | "PortInUse" | "DataNotAFolder" | "DataUnusable" | "InvalidOptions" | "Unknown"
  readonly message: string
  readonly cause?: unknown
}> {}

/** A port the OS accepts: an integer from 0 to 65535 (0 picks a free one). */
export const checkPort = (port: number, flag = "port"): Effect.Effect<number, StartError> =>
  Number.isInteger(port) && port >= 0 && port <= 65_535
    ? Effect.succeed(port)
    : Effect.fail(new StartError({ reason: "InvalidPort", message: `${flag} ${port} is not a port: use a whole number from 0 to 65535 (0 picks a free one)` }))

/**
 * A data folder that exists is a folder, or is created. Checked before the
 * store opens, so a file in the way is one sentence rather than EEXIST from
 * deep inside `mkdir`.
 */
export const checkDataFolder = (directory: string, flag = "data folder"): Effect.Effect<string, StartError> =>
  Effect.suspend(() => {
    if (directory === ":memory:") return Effect.succeed(directory)
    let stats
    try {
      stats = statSync(directory, { throwIfNoEntry: false })
    } catch (error) {
      return Effect.fail(new StartError({ reason: "DataUnusable", message: `${flag} ${directory} cannot be read: ${codeOf(error)}`, cause: error }))
    }
    if (stats !== undefined && !stats.isDirectory()) {
      return Effect.fail(
        new StartError({ reason: "DataNotAFolder", message: `${flag} ${directory} is a file, not a folder: give a folder (created if missing) or :memory:` })
      )
    }
    return Effect.succeed(directory)
  })

const codeOf = (error: unknown) =>
  typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : String(error)

/** The first error in a cause's chain whose `code` is set (Node's `listen` errors hide under ServeError). */
const nodeCode = (error: unknown, depth = 0): string | undefined => {
  if (typeof error !== "object" || error === null || depth > 5) return undefined
  if ("code" in error && typeof error.code === "string") return error.code
  return "cause" in error ? nodeCode(error.cause, depth + 1) : undefined
}

/**
 * Turns what Node and the store throw while starting into a `StartError`
 * naming the port or the folder. Used by `make` and by the command lines.
 */
export const explainStartFailure = (cause: Cause.Cause<unknown>, where: { readonly port: number; readonly host: string; readonly data?: string | undefined }): StartError => {
  const failure = [...Cause.failures(cause), ...Cause.defects(cause)][0]
  if (failure instanceof StartError) return failure
  const code = nodeCode(failure)
  switch (code) {
    case "EADDRINUSE":
      return new StartError({ reason: "PortInUse", message: `port ${where.port} is already in use on ${where.host}: stop what uses it or pick another (0 picks a free one)`, cause: failure })
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return new StartError({ reason: "InvalidOptions", message: `cannot listen on ${where.host}: no such local address (127.0.0.1 for loopback, 0.0.0.0 for every interface)`, cause: failure })
    case "EACCES":
      return where.port > 0 && where.port < 1024
        ? new StartError({ reason: "InvalidPort", message: `port ${where.port} needs privileges: use a port from 1024 up (0 picks a free one)`, cause: failure })
        : new StartError({ reason: "DataUnusable", message: `permission denied${where.data ? ` on data folder ${where.data}` : ""}`, cause: failure })
    case "EEXIST":
    case "ENOTDIR":
      return new StartError({ reason: "DataNotAFolder", message: `data folder ${where.data} is a file, or lies under a file: give a folder or :memory:`, cause: failure })
    case "SQLITE_CANTOPEN":
    case "SQLITE_READONLY":
    case "EROFS":
      return new StartError({ reason: "DataUnusable", message: `cannot write the database in data folder ${where.data} (${code})`, cause: failure })
    default:
      return new StartError({ reason: "Unknown", message: `the local Profile API did not start: ${failure instanceof Error ? failure.message : Cause.pretty(cause).split("\n")[0]}`, cause: failure })
  }
}

const profilesOf = (seed: Options["seed"]): number =>
  seed === undefined || seed === false ? 0 : seed === "demo" ? DEMO_PROFILES : seed.profiles

/**
 * The emulator, started in the current scope and stopped when it closes.
 * Seeding happens before the port opens, so the first request already sees
 * the data.
 */
export const make = (options: Options = {}): Effect.Effect<LocalProfileApiInfo, StartError, Scope.Scope> =>
  Effect.gen(function* () {
    const host = options.host ?? "127.0.0.1"
    const port = yield* checkPort(options.port ?? 0)
    const sandbox = options.sandbox ?? "prod"
    const profiles = profilesOf(options.seed)
    if (!Number.isInteger(profiles) || profiles < 0) {
      return yield* new StartError({ reason: "InvalidOptions", message: `seed.profiles must be a whole number ≥ 0, got ${profiles}` })
    }
    const data =
      options.data === ":temp:"
        ? yield* Effect.acquireRelease(
            Effect.sync(() => mkdtempSync(join(tmpdir(), "rtcp-local-profile-api-"))),
            (folder) => Effect.sync(() => rmSync(folder, { recursive: true, force: true }))
          )
        : yield* checkDataFolder(options.data ?? ":memory:")

    const service = Server.layer({ directory: data, tokenTtlSeconds: options.tokenTtlSeconds, faults: options.faults, admin: options.admin })
    const server = HttpApiBuilder.serve().pipe(
      Layer.provide(
        Layer.effectDiscard(profiles > 0 ? Effect.asVoid(seedDemo({ sandbox: "prod", profiles })) : Effect.void).pipe(Layer.provideMerge(service))
      ),
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port, host })),
      Layer.provide(Logger.minimumLogLevel(options.logLevel ?? LogLevel.Warning)),
      // Nobody exports spans from a test emulator (see Server.serve).
      Layer.provide(Layer.setTracerEnabled(false))
    )
    // The store's layer creates its folder as it is built, which throws; the
    // sandbox catches that with the rest, so every failure becomes a StartError.
    const context = yield* Layer.build(Layer.suspend(() => server)).pipe(
      Effect.sandbox,
      Effect.mapError((cause) => explainStartFailure(cause, { port, host, data }))
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    const boundPort = address._tag === "TcpAddress" ? address.port : port
    const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host
    const baseUrl = `http://${urlHost}:${boundPort}`
    const credentials: Credentials = {
      clientId: demoClient.clientId,
      clientSecret: Redacted.value(demoClient.clientSecret),
      orgId: demoClient.orgId,
      apiKey: demoClient.clientId,
      sandbox
    }
    return {
      baseUrl,
      port: boundPort,
      credentials,
      data: options.data === ":temp:" ? data : (options.data ?? ":memory:"),
      env: {
        AEP_PLATFORM_URL: baseUrl,
        AEP_IMS_URL: baseUrl,
        AEP_CLIENT_ID: credentials.clientId,
        AEP_CLIENT_SECRET: credentials.clientSecret,
        AEP_ORG_ID: credentials.orgId,
        AEP_API_KEY: credentials.apiKey,
        AEP_SANDBOX: sandbox
      }
    } satisfies LocalProfileApiInfo
  })

/**
 * Starts the emulator; the promise rejects with a `StartError` (port in use,
 * a file where the data folder should be…).
 */
export const start = async (options: Options = {}): Promise<RunningLocalProfileApi> => {
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(Scope.extend(make(options), scope))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, exit))
    throw Cause.squash(exit.cause)
  }
  let stopping: Promise<void> | undefined
  return {
    ...exit.value,
    stop: () => (stopping ??= Effect.runPromise(Scope.close(scope, Exit.void)))
  }
}

/** The emulator as a layer: started when the layer is built, stopped when its scope closes. */
export const layer = (options: Options = {}): Layer.Layer<LocalProfileApi, StartError> => Layer.scoped(LocalProfileApi, make(options))

/**
 * A `ProfileClient` wired to a fresh emulator (OAuth through the emulator's
 * own IMS, Node's HTTP client), with the emulator itself as `LocalProfileApi`:
 *
 * ```ts
 * it.layer(LocalProfileApi.layerClient({ seed: "demo" }))((it) => {
 *   it.effect("reads Jane Doe", () => Effect.gen(function* () { … }))
 * })
 * ```
 */
export const layerClient = (
  options: Options = {}
): Layer.Layer<ProfileClient.ProfileClient | Platform.Platform | AccessToken.AccessToken | LocalProfileApi, StartError> =>
  Layer.unwrapEffect(
    Effect.map(LocalProfileApi, (api) =>
      ProfileClient.layer.pipe(
        Layer.provideMerge(
          Layer.merge(
            AccessToken.layerOAuth({ clientId: api.credentials.clientId, clientSecret: Redacted.make(api.credentials.clientSecret), imsUrl: api.baseUrl }),
            Platform.layer({
              platformUrl: api.baseUrl,
              imsUrl: api.baseUrl,
              orgId: api.credentials.orgId,
              apiKey: api.credentials.apiKey,
              sandbox: api.credentials.sandbox
            })
          )
        ),
        Layer.provide(NodeHttpClient.layerUndici)
      )
    )
  ).pipe(Layer.provideMerge(layer(options)))
