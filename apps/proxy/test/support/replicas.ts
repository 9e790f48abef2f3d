/**
 * Proxy replicas (in-process Hono apps) in front of one local profile
 * service, sharing state through one Redis under a key prefix of their own.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { spawn, type ChildProcess } from "node:child_process"
import { connect, createServer } from "node:net"
import { createApp, createOpsApp } from "../../src/app.js"
import { type RateLimit, staticKeyStore } from "../../src/keys.js"
import * as Local from "../../src/local.js"
import type { AuditLine } from "../../src/middleware/audit.js"
import { makeMetrics } from "../../src/metrics.js"
import { makeSharedState } from "../../src/shared.js"
import * as Upstream from "../../src/upstream.js"
import { callers, fastRetries, keyFile } from "./fake.js"
import { faultCounters, setFaults } from "./local.js"

export const REDIS_URL = process.env.RTCP_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

export interface ReplicaOptions {
  readonly cacheTtlMs?: number
  readonly staleIfErrorMs?: number
  readonly retryDeadlineMs?: number
  readonly upstreamBudget?: number
  readonly redisUrl?: string | null
  readonly retryPolicy?: typeof fastRetries
  /** The callers' rate limit (default: the key file's default, 50 per second). */
  readonly rateLimit?: RateLimit
}

export const makeReplica = (url: string, prefix: string, options: ReplicaOptions = {}) => {
  const metrics = makeMetrics()
  const audit: Array<AuditLine> = []
  const shared = makeSharedState({
    redisUrl: options.redisUrl === null ? undefined : (options.redisUrl ?? REDIS_URL),
    prefix,
    upstreamBudget: options.upstreamBudget
  })
  const upstream = Upstream.make({
    credentials: Upstream.credentialsForLocal(url, Local.demoClient),
    httpClient: NodeHttpClient.layerUndici,
    metrics,
    retryPolicy: options.retryPolicy ?? fastRetries,
    retryDeadlineMs: options.retryDeadlineMs,
    cacheTtlMs: options.cacheTtlMs ?? 60_000,
    staleIfErrorMs: options.staleIfErrorMs,
    shared,
    batchWindow: "2 millis",
    tokenRetryAfterFailure: "20 millis"
  })
  const app = createApp({ upstream, keys: staticKeyStore(keyFile, options.rateLimit === undefined ? {} : { defaultRateLimit: options.rateLimit }), metrics, auditSink: (line) => audit.push(line) })
  const ops = createOpsApp({ upstream, metrics })
  const request = (path: string, init: RequestInit & { readonly as?: keyof typeof callers } = {}) => {
    const { as = "writer", ...rest } = init
    const headers = new Headers(rest.headers)
    headers.set("x-api-key", callers[as].key)
    return app.request(path, { ...rest, headers })
  }
  return {
    app,
    ops,
    metrics,
    audit,
    shared,
    upstream,
    request,
    close: async () => {
      await upstream.dispose()
      await shared.close()
    }
  }
}

export type Replica = ReturnType<typeof makeReplica>

export const startService = async (profiles = 25) => {
  const platform = await Local.start({ profiles, admin: true })
  return {
    ...platform,
    faults: (rules: ReadonlyArray<string>) => setFaults(platform.url, rules),
    counters: () => faultCounters(platform.url)
  }
}

export const uniquePrefix = (name: string) => `rtcp-test:${name}:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2)}:`

export const waitFor = async (check: () => boolean | Promise<boolean>, what: string, ms = 10_000) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

/** A redis-server of the test's own, on a free port, that the test can stop and start again. */
export const ownRedis = async () => {
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" })
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = connect(port, "127.0.0.1")
          socket.once("connect", () => {
            socket.destroy()
            resolve(true)
          })
          socket.once("error", () => resolve(false))
        }),
      "redis-server to listen"
    )
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve())
      running.kill("SIGKILL")
    })
  }
  await start()
  return { url: `redis://127.0.0.1:${port}`, start, stop }
}
