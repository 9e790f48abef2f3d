/**
 * Sends hostile requests at a running service and counts the answers.
 * `target` starts one in this process (in-memory store, demo data, admin
 * endpoints on) on a loopback port.
 */
import { HttpApiBuilder, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { demoClient } from "../../src/ImsTokens.js"
import { seedDemo } from "../../src/Seed.js"
import * as Server from "../../src/Server.js"
import { type HostileRequest, hostileRequest, type Known, prng } from "./hostile.js"

export interface FuzzReport {
  readonly seed: number
  readonly requests: number
  /** Answers by status; "unsendable" = refused by the HTTP client itself (e.g. a NUL in a header), never sent. */
  readonly statuses: Readonly<Record<string, number>>
  /** Every answer of 500 or more, and every request that got no answer. */
  /** Requests answered after more than 2 s. */
  readonly slow: ReadonlyArray<{ readonly kind: string; readonly method: string; readonly url: string; readonly ms: number; readonly status: number | string }>
  readonly failures: ReadonlyArray<{ readonly request: Omit<HostileRequest, "body"> & { readonly bodyStart?: string }; readonly status: number | string; readonly answer: string }>
}

/** Valid gateway headers and the ids the service holds, read through its own API. */
export const prepare = async (baseUrl: string): Promise<{ auth: Record<string, string>; known: Known }> => {
  const token = await fetch(`${baseUrl}/ims/token/v3`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `grant_type=client_credentials&client_id=${demoClient.clientId}&client_secret=rtcp-local-secret`
  }).then((r) => r.json() as Promise<{ access_token: string }>)
  const auth = {
    authorization: `Bearer ${token.access_token}`,
    "x-api-key": demoClient.clientId,
    "x-gw-ims-org-id": demoClient.orgId,
    "x-sandbox-name": "prod"
  }
  const get = (path: string) => fetch(`${baseUrl}${path}`, { headers: auth }).then((r) => r.json() as Promise<any>)
  const datasets = Object.keys(await get("/data/foundation/catalog/dataSets"))
  const policies = ((await get("/data/core/ups/config/mergePolicies")).children as Array<{ id: string }>).map((p) => p.id)
  return { auth, known: { datasetIds: datasets.length > 0 ? datasets : ["none"], policyIds: policies, identities: [] } }
}

export const fuzz = async (options: {
  readonly baseUrl: string
  readonly seed: number
  readonly requests: number
  readonly concurrency?: number
  readonly auth: Record<string, string>
  readonly known: Known
  readonly timeoutMs?: number
  readonly progress?: (sent: number) => void
}): Promise<FuzzReport> => {
  const r = prng(options.seed)
  // Requests are drawn up front, in order, so the seed alone decides them whatever the concurrency.
  const queue = Array.from({ length: options.requests }, () => hostileRequest(r, options.auth, options.known))
  const statuses: Record<string, number> = {}
  const failures: Array<FuzzReport["failures"][number]> = []
  const slow: Array<{ kind: string; method: string; url: string; ms: number; status: number | string }> = []
  let next = 0
  const worker = async () => {
    while (next < queue.length) {
      const request = queue[next++]!
      let status: number | string
      let answer = ""
      const started = Date.now()
      try {
        const response = await fetch(`${options.baseUrl}${request.url}`, {
          method: request.method,
          headers: request.headers,
          ...(request.body === undefined ? {} : { body: request.body }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000)
        })
        status = response.status
        answer = (await response.text()).slice(0, 300)
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause
        // undici refuses some header values and URLs before sending anything.
        if (error instanceof TypeError && cause?.code === undefined && !/fetch failed/.test(error.message)) status = "unsendable"
        else if (cause?.code === "UND_ERR_INVALID_ARG" || /invalid|header/i.test(cause?.message ?? "") && cause?.code === undefined) status = "unsendable"
        else status = `no answer (${cause?.code ?? (error as Error).name})`
        answer = String(cause?.message ?? (error as Error).message)
      }
      statuses[String(status)] = (statuses[String(status)] ?? 0) + 1
      const took = Date.now() - started
      if (took > 2000) slow.push({ kind: request.kind, method: request.method, url: request.url.slice(0, 200), ms: took, status })
      if (options.progress && next % 1000 === 0) options.progress(next)
      if (typeof status === "string" ? status !== "unsendable" : status >= 500) {
        const { body, ...rest } = request
        failures.push({ request: { ...rest, ...(body === undefined ? {} : { bodyStart: body.slice(0, 200) }) }, status, answer })
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker))
  return { seed: options.seed, requests: options.requests, statuses, failures, slow }
}

/**
 * The service in this process on a loopback port, with demo data, for as
 * long as `use` runs.
 */
export const withTarget = <A>(profiles: number, use: (baseUrl: string, identities: Known["identities"]) => Promise<A>): Promise<A> =>
  Effect.runPromise(
    Effect.gen(function* () {
      yield* seedDemo({ sandbox: "prod", profiles })
      const sql = yield* SqlClient.SqlClient
      const identities = (yield* sql<{ ns: string; value: string }>`SELECT ns, value FROM identities WHERE sandbox = 'prod' LIMIT 200`).map(
        (row) => ({ ns: row.ns, id: row.value })
      )
      const server = yield* HttpServer.HttpServer
      const address = server.address as HttpServer.TcpAddress
      return yield* Effect.promise(() => use(`http://127.0.0.1:${address.port}`, identities))
    }).pipe(
      Effect.provide(
        HttpApiBuilder.serve().pipe(
          Layer.provideMerge(Server.layer({ directory: ":memory:", admin: true })),
          Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
          Layer.provide(Layer.setTracerEnabled(false))
        )
      ),
      Effect.scoped,
      // The service logs every 4xx it answers at debug level only; keep the run's output to the report.
      Effect.provide(Layer.empty)
    )
  )
