/**
 * `npm run proxy -- --port 8081 --upstream http://127.0.0.1:8080 --keys proxy-keys.json`
 *
 * Upstream, in order: Adobe when `AEP_*` credentials are set (`--upstream`
 * then overrides AEP_PLATFORM_URL); a local profile service at `--upstream`
 * (its demo credential); else the local profile service started in this
 * process with demo data. SIGTERM/SIGINT shut down gracefully; SIGHUP
 * reloads the key file (which is also reloaded when it changes).
 */
import { Command, Options } from "@effect/cli"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { CommandLine } from "@rtcp/command-line"
import { AepConfig } from "@rtcp/core"
import { Config, Console, Effect, FiberRef, Option } from "effect"
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { generateKey, hashKey, type KeyStore, openKeyStore, staticKeyStore } from "./keys.js"
import * as Local from "./local.js"
import * as Log from "./log.js"
import { makeMetrics } from "./metrics.js"
import { parseBytes, parseDuration, parseRateLimit, parseUpstreamUrl } from "./options.js"
import { startProxy } from "./server.js"
import { makeSharedState } from "./shared.js"
import * as Tracing from "./tracing.js"
import * as Upstream from "./upstream.js"

/** Accepted only when the upstream is the embedded demo service and no key file exists. */
export const DEMO_KEY = "rtcp-proxy-demo"

const log = Log.write

const port = CommandLine.port("port", { default: 8081, env: "RTCP_PROXY_PORT", description: "Port of the proxy; 0 picks a free one" })
const host = Options.text("host").pipe(
  Options.withFallbackConfig(Config.string("RTCP_PROXY_HOST")),
  Options.withDefault("127.0.0.1"),
  Options.withDescription("Address to bind, default 127.0.0.1 (env RTCP_PROXY_HOST)")
)
const opsPort = CommandLine.port("ops-port", {
  default: 8091,
  env: "RTCP_PROXY_OPS_PORT",
  description: "Port of /healthz, /readyz, /metrics and /openapi.json, kept apart so it can stay internal"
})
const opsHost = Options.text("ops-host").pipe(
  Options.withFallbackConfig(Config.string("RTCP_PROXY_OPS_HOST")),
  Options.withDefault("127.0.0.1"),
  Options.withDescription("Address of the ops listener, default 127.0.0.1 (env RTCP_PROXY_OPS_HOST)")
)
const upstream = Options.text("upstream").pipe(
  Options.withFallbackConfig(Config.string("RTCP_PROXY_UPSTREAM")),
  CommandLine.parsed("--upstream", (text) => parseUpstreamUrl(text, "--upstream")),
  Options.optional,
  Options.withDescription(
    "Base URL of a local profile service (its demo credential is used); with AEP_* set, replaces AEP_PLATFORM_URL. " +
      "Default: start the local profile service in this process with demo data (env RTCP_PROXY_UPSTREAM)"
  )
)
const keys = Options.text("keys").pipe(
  Options.withFallbackConfig(Config.string("RTCP_PROXY_KEYS")),
  Options.withDefault("proxy-keys.json"),
  Options.withDescription("Key file (JSON, hashed keys; reloaded when it changes and on SIGHUP), default proxy-keys.json (env RTCP_PROXY_KEYS)")
)
const sandbox = Options.text("sandbox").pipe(
  Options.withFallbackConfig(Config.string("AEP_SANDBOX")),
  Options.withDefault("prod"),
  Options.withDescription("Sandbox for callers that send no x-sandbox-name, default prod (env AEP_SANDBOX)")
)
const cacheTtl = Options.text("cache-ttl").pipe(
  Options.withFallbackConfig(Config.string("RTCP_PROXY_CACHE_TTL")),
  Options.withDefault("2s"),
  CommandLine.parsed("--cache-ttl", parseDuration),
  Options.withDescription("How long profile lookups are cached, default 2s (0 disables; writes through the proxy clear it) (env RTCP_PROXY_CACHE_TTL)")
)
const batchWindow = Options.text("batch-window").pipe(
  Options.withDefault("5ms"),
  CommandLine.parsed("--batch-window", parseDuration),
  Options.withDescription("How long a lookup waits for others to share its POST /access/entities, default 5ms")
)
const maxBatch = Options.integer("max-batch").pipe(
  Options.withDefault(100),
  Options.withDescription("Identities per POST /access/entities, default 100")
)
const timeoutOption = Options.text("timeout").pipe(
  Options.withFallbackConfig(Config.string("RTCP_PROXY_TIMEOUT")),
  Options.withDefault("30s"),
  CommandLine.parsed("--timeout", parseDuration),
  Options.withDescription("Per-request timeout, default 30s; the upstream call is cancelled (env RTCP_PROXY_TIMEOUT)")
)
const maxBody = Options.text("max-body").pipe(
  Options.withFallbackConfig(Config.string("RTCP_PROXY_MAX_BODY")),
  Options.withDefault("1mb"),
  CommandLine.parsed("--max-body", parseBytes),
  Options.withDescription("Largest request body, default 1mb (env RTCP_PROXY_MAX_BODY)")
)
const rateLimit = Options.text("rate-limit").pipe(
  Options.withFallbackConfig(Config.string("RTCP_PROXY_RATE_LIMIT")),
  Options.withDefault("50/1s"),
  CommandLine.parsed("--rate-limit", parseRateLimit),
  Options.withDescription("Rate limit of keys that set none, requests/window, default 50/1s (env RTCP_PROXY_RATE_LIMIT)")
)
const grace = Options.text("grace").pipe(
  Options.withDefault("10s"),
  CommandLine.parsed("--grace", parseDuration),
  Options.withDescription("On SIGTERM, how long in-flight requests may take before connections are cut, default 10s")
)
const seedProfiles = Options.integer("seed-profiles").pipe(
  Options.withDefault(1000),
  Options.withDescription("Demo customers of the embedded local profile service, default 1000")
)
/** A listener that cannot open: a busy port is the user's to fix, anything else a failure in full. */
const listenFailure = (error: unknown) => {
  const { code, port, address } = (error ?? {}) as { code?: string; port?: number; address?: string }
  return code === "EADDRINUSE"
    ? Effect.fail(new CommandLine.UsageError({ message: `port ${port} is already in use on ${address}: stop what uses it or pick another (0 picks a free one)` }))
    : code === "EADDRNOTAVAIL" || code === "ENOTFOUND"
      ? Effect.fail(new CommandLine.UsageError({ message: `cannot listen on ${address ?? "that address"}: not an address of this machine` }))
      : Effect.die(error)
}

const redis = Options.text("redis").pipe(
  Options.withFallbackConfig(Config.string("RTCP_PROXY_REDIS_URL").pipe(Config.orElse(() => Config.string("REDIS_URL")))),
  Options.optional,
  Options.withDescription(
    "Redis shared by the replicas (rate limits, lookup cache, upstream gate and budget), e.g. redis://127.0.0.1:6379; " +
      "default none: state in this process (env RTCP_PROXY_REDIS_URL or REDIS_URL)"
  )
)
const redisPrefix = Options.text("redis-prefix").pipe(
  Options.withFallbackConfig(Config.string("RTCP_PROXY_REDIS_PREFIX")),
  Options.withDefault("rtcp-proxy:"),
  Options.withDescription("Prefix of the proxy's Redis keys; replicas of one proxy share it, default rtcp-proxy: (env RTCP_PROXY_REDIS_PREFIX)")
)
const staleIfError = Options.text("stale-if-error").pipe(
  Options.withFallbackConfig(Config.string("RTCP_PROXY_STALE_IF_ERROR")),
  Options.withDefault("30s"),
  CommandLine.parsed("--stale-if-error", parseDuration),
  Options.withDescription(
    "How old a cached profile may be and still be served while upstream answers 429/5xx or is down (Cache-Status says so), default 30s; 0 disables (env RTCP_PROXY_STALE_IF_ERROR)"
  )
)
const upstreamBudget = Options.integer("upstream-budget").pipe(
  Options.withFallbackConfig(Config.integer("RTCP_PROXY_UPSTREAM_BUDGET")),
  Options.optional,
  Options.withDescription(
    "Calls per second to Adobe across all replicas, split in equal shares between the callers active in the last 2 s; default none (env RTCP_PROXY_UPSTREAM_BUDGET)"
  )
)

const serve = Command.make(
  "rtcp-proxy",
  {
    port,
    host,
    opsPort,
    opsHost,
    upstream,
    keys,
    sandbox,
    cacheTtl,
    batchWindow,
    maxBatch,
    timeoutOption,
    maxBody,
    rateLimit,
    grace,
    seedProfiles,
    redis,
    redisPrefix,
    staleIfError,
    upstreamBudget
  },
  (options) =>
    Effect.gen(function* () {
      // --log-level is @effect/cli's built-in flag: it sets the handler's minimum level (default Info).
      const logLevel = yield* FiberRef.get(FiberRef.currentMinimumLogLevel)
      // `npm run proxy` runs in apps/proxy; a relative path means the caller's directory.
      const keysPath = resolve(process.env.INIT_CWD ?? process.cwd(), options.keys)
      // Mistakes first, before seeding the embedded service takes seconds.
      yield* CommandLine.ensurePortFree(options.port, options.host)
      if (options.opsPort !== options.port || options.opsHost !== options.host || options.port === 0) {
        yield* CommandLine.ensurePortFree(options.opsPort, options.opsHost)
      } else {
        return yield* new CommandLine.UsageError({ message: `--port and --ops-port are both ${options.port}: give the ops listener a port of its own` })
      }
      const aep = (yield* AepConfig.isConfigured) ? Option.some(yield* AepConfig.config) : Option.none()
      const given = Option.getOrUndefined(options.upstream)
      const embedded = Option.isNone(aep) && given === undefined

      const local = embedded
        ? yield* Effect.acquireRelease(
            Effect.promise(() => Local.start({ profiles: options.seedProfiles })),
            (platform) => Effect.promise(() => platform.close())
          )
        : undefined
      const credentials = Option.isSome(aep)
        ? Upstream.credentialsFromConfig(aep.value, given)
        : Upstream.credentialsForLocal(given ?? local!.url, Local.demoClient, options.sandbox)
      const chosen =
        Option.isSome(aep) && options.sandbox !== aep.value.settings.sandbox
          ? { ...credentials, settings: { ...credentials.settings, sandbox: options.sandbox } }
          : credentials

      if (!embedded && !existsSync(keysPath)) {
        return yield* new CommandLine.UsageError({
          message: `key file ${keysPath} not found: create one (see apps/proxy/README.md; "rtcp-proxy hash-key" makes a key and its hash), or give --keys`
        })
      }
      const keyStore: KeyStore = yield* Effect.tryPromise({
        try: async () => {
          if (existsSync(keysPath)) {
            return openKeyStore({
              path: keysPath,
              defaultRateLimit: options.rateLimit,
              onReload: (count) => log({ msg: "key file reloaded", keys: count }),
              onError: (error) => log({ level: "error", msg: "key file not reloaded; the previous keys stay in force", error: error.message })
            })
          }
          log({
            level: "warn",
            msg: `no key file at ${keysPath}: accepting the demo key "${DEMO_KEY}" (read-write, any sandbox) because the upstream is the embedded demo service`
          })
          return staticKeyStore({ keys: [{ name: "demo", sha256: hashKey(DEMO_KEY), sandboxes: ["*"], access: "write" }] }, { defaultRateLimit: options.rateLimit })
        },
        // A key file that does not parse is the user's to fix; its message names the file and the entry.
        catch: (error) => new CommandLine.UsageError({ message: error instanceof Error ? error.message.replace(/\s+/g, " ") : String(error) })
      })

      const metrics = makeMetrics({ defaultMetrics: true })
      const shared = makeSharedState({
        redisUrl: Option.getOrUndefined(options.redis),
        prefix: options.redisPrefix,
        upstreamBudget: Option.getOrUndefined(options.upstreamBudget)
      })
      yield* Effect.addFinalizer(() => Effect.promise(() => shared.close()))
      const upstreamClient = Upstream.make({
        credentials: chosen,
        httpClient: NodeHttpClient.layerUndici,
        pool: true,
        metrics,
        cacheTtlMs: options.cacheTtl,
        staleIfErrorMs: options.staleIfError,
        shared,
        // Retries stop in time for the last answer to reach the caller before --timeout.
        retryDeadlineMs: Math.max(0, options.timeoutOption - Math.min(1000, options.timeoutOption / 10)),
        tracing: Tracing.layerFromEnv(NodeHttpClient.layerUndici),
        batchWindow: options.batchWindow,
        maxBatchSize: options.maxBatch,
        logLevel
      })
      const proxy = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: () =>
            startProxy({
              port: options.port,
              host: options.host,
              opsPort: options.opsPort,
              opsHost: options.opsHost,
              graceMs: options.grace,
              keys: keyStore,
              metrics,
              timeoutMs: options.timeoutOption,
              maxBodyBytes: options.maxBody,
              upstream: upstreamClient
            }),
          catch: (error) => error
        }).pipe(Effect.catchAll(listenFailure)),
        (running) =>
          Effect.promise(async () => {
            log({ msg: "shutting down: draining in-flight requests" })
            await running.close()
            log({ msg: "stopped" })
          })
      )
      const reload = () => {
        keyStore.reload().then(
          (count) => log({ msg: "key file reloaded (SIGHUP)", keys: count }),
          (error: unknown) => log({ level: "error", msg: "key file not reloaded", error: String(error) })
        )
      }
      process.on("SIGHUP", reload)
      yield* Effect.addFinalizer(() => Effect.sync(() => process.off("SIGHUP", reload)))
      log({
        msg: "proxy listening",
        url: proxy.url,
        ops: proxy.opsUrl,
        upstream: embedded ? `local profile service (embedded, ${local!.url})` : `${credentials.kind} ${credentials.settings.platformUrl}`,
        sandbox: chosen.settings.sandbox,
        sharedState: Option.isSome(options.redis) ? "redis" : "in-process"
      })
      if (!embedded) {
        // Said at start, within seconds, rather than as a 503 to the first caller after its retries.
        const readiness = yield* Effect.promise(() => upstreamClient.readiness())
        if (!readiness.ready) {
          log({
            level: "warn",
            msg:
              `upstream ${credentials.settings.platformUrl} is not usable: ${readiness.token.ok ? readiness.upstream.detail : `no token (${readiness.token.detail})`}; ` +
              "the proxy runs and answers 502/503 until it is, and /readyz says not ready"
          })
        }
      }
      return yield* Effect.never
    }).pipe(Effect.scoped)
).pipe(
  Command.withDescription(
    "A gateway that lets internal services use the Profile API without Adobe credentials. Upstream: Adobe when AEP_* " +
      "credentials are set (AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_SCOPES, AEP_ORG_ID or AEP_ACCESS_TOKEN; see @rtcp/core), " +
      "else --upstream, else the local profile service in this process. SIGTERM drains and stops; SIGHUP reloads the keys. " +
      "`hash-key` makes caller keys."
  )
)

const stdinOption = Options.boolean("stdin").pipe(
  Options.withDescription("Hash the key read from standard input instead of making a new one")
)

const hashKeyCommand = Command.make("hash-key", { stdin: stdinOption }, ({ stdin }) =>
  Effect.gen(function* () {
    if (stdin) {
      const text = yield* Effect.promise(async () => {
        const chunks: Array<Buffer> = []
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
        return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "")
      })
      yield* Console.log(hashKey(text))
      return
    }
    const key = generateKey()
    yield* Console.log(`key (give it to the caller; it is not stored anywhere): ${key}`)
    yield* Console.log(`sha256 (put it in the key file): ${hashKey(key)}`)
    yield* Console.log(
      JSON.stringify({ name: "CALLER-NAME", sha256: hashKey(key), sandboxes: ["prod"], access: "read", rateLimit: { points: 50, duration: 1 } })
    )
  })
).pipe(Command.withDescription("Make a new caller key and print its SHA-256 for the key file (--stdin: hash a given key)"))

const command = serve.pipe(Command.withSubcommands([hashKeyCommand]))

CommandLine.run(command, { name: "rtcp-proxy", version: "0.1.0" })(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  // The runtime's own lines (unhandled fiber failures included) in the proxy's format, scrubbed like all others.
  Effect.provide(Log.layer),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
