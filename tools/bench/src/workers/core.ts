/**
 * The core client against the local service:
 *
 * - per-call overhead: `ProfileClient.getProfile` (headers, retry policy,
 *   schema decoding, tagged errors) against a raw `fetch` of the same URL with
 *   the same headers and `response.json()`, one call at a time, in
 *   alternating blocks so drift in the machine's load hits all alike. The
 *   typed client runs on the two `HttpClient` layers a Node user would pick:
 *   `NodeHttpClient.layerUndici` (what apps/proxy and apps/dashboard use) and
 *   `FetchHttpClient.layer` (the core README's example);
 * - batching: 1,000 concurrent single lookups through `ProfileLookup`
 *   (collected for 5 ms, sent as `POST /access/entities` of up to 100)
 *   against 1,000 concurrent `getProfile` calls.
 */
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { AccessToken, Platform, ProfileClient, ProfileLookup } from "@rtcp/core"
import { Effect, Layer, Redacted } from "effect"
import { platformHeaders, profilePath } from "../lib/service.js"
import { summarize } from "../lib/stats.js"
import { resources, workerMain } from "../lib/worker.js"

export interface CoreArgs {
  readonly url: string
  readonly token: string
  readonly identities: ReadonlyArray<{ readonly namespace: string; readonly id: string }>
  /** Sequential calls per kind (after a warm-up). */
  readonly calls: number
  readonly concurrent: number
  readonly rounds: number
}

export interface CallStats {
  readonly meanMs: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** CPU time of this process per call: the client's own work. */
  readonly clientCpuUs: number
}

export interface CoreResult {
  /** On `NodeHttpClient.layerUndici`. */
  readonly typed: CallStats
  /** On `FetchHttpClient.layer`. */
  readonly typedFetch: CallStats
  readonly raw: CallStats
  readonly batching: ReadonlyArray<{
    readonly lookups: number
    readonly batched: { readonly ms: number; readonly httpCalls: number }
    readonly single: { readonly ms: number; readonly httpCalls: number }
  }>
  readonly maxRssMb: number
}

const BLOCK = 50

workerMain<CoreArgs, CoreResult>(async (args) => {
  let httpCalls = 0
  const counted = <E, R>(layer: Layer.Layer<HttpClient.HttpClient, E, R>) =>
    Layer.effect(
      HttpClient.HttpClient,
      Effect.map(HttpClient.HttpClient, (client) => HttpClient.tapRequest(client, () => Effect.sync(() => void httpCalls++)))
    ).pipe(Layer.provide(layer))
  const platform = Platform.layer({ platformUrl: args.url, imsUrl: args.url, orgId: "RTCPLOCAL@AdobeOrg", apiKey: "rtcp-local", sandbox: "prod" })
  const token = AccessToken.layerStatic(Redacted.make(args.token))
  const headers = platformHeaders(args.token)

  const program = Effect.gen(function* () {
    // Built in the program's scope: the undici dispatcher lives as long as the program.
    const profiles = yield* ProfileClient.make.pipe(
      Effect.provide(yield* Layer.build(Layer.mergeAll(counted(NodeHttpClient.layerUndici), token, platform)))
    )
    const viaFetch = yield* ProfileClient.make.pipe(Effect.provide(yield* Layer.build(Layer.mergeAll(counted(FetchHttpClient.layer), token, platform))))
    const lookup = yield* ProfileLookup.make().pipe(Effect.provideService(ProfileClient.ProfileClient, profiles), Effect.provide(platform))
    const ids = args.identities
    const identity = (i: number) => ({ id: ids[i % ids.length]!.id, namespace: ids[i % ids.length]!.namespace })
    const rawCall = (i: number) =>
      Effect.promise(async () => {
        const response = await fetch(`${args.url}${profilePath(ids[i % ids.length]!)}`, { headers })
        if (!response.ok) throw new Error(`raw fetch answered ${response.status}`)
        return (await response.json()) as unknown
      })
    type Kind = "typed" | "typedFetch" | "raw"
    const call = (kind: Kind, i: number): Effect.Effect<unknown, unknown> =>
      kind === "typed" ? profiles.getProfile(identity(i)) : kind === "typedFetch" ? viaFetch.getProfile(identity(i)) : rawCall(i)
    const samples: Record<Kind, Array<number>> = { typed: [], typedFetch: [], raw: [] }
    const cpu: Record<Kind, number> = { typed: 0, typedFetch: 0, raw: 0 }
    const block = (kind: Kind, from: number, record: boolean) =>
      Effect.gen(function* () {
        const startCpu = process.cpuUsage()
        for (let i = from; i < from + BLOCK; i++) {
          const started = performance.now()
          yield* call(kind, i)
          if (record) samples[kind].push(performance.now() - started)
        }
        const used = process.cpuUsage(startCpu)
        if (record) cpu[kind] += used.user + used.system
      })
    const kinds: ReadonlyArray<Kind> = ["typed", "raw", "typedFetch"]
    // Warm-up, then blocks in rotating order.
    for (let i = 0; i < 4 * BLOCK; i += BLOCK) for (const kind of kinds) yield* block(kind, i, false)
    for (let i = 0, turn = 0; i < args.calls; i += BLOCK, turn++) {
      for (let k = 0; k < kinds.length; k++) yield* block(kinds[(k + turn) % kinds.length]!, i, true)
    }
    const stats = (kind: Kind): CallStats => {
      const s = summarize(samples[kind])
      return { meanMs: s.mean, p50Ms: s.p50, p99Ms: s.p99, clientCpuUs: cpu[kind] / samples[kind].length }
    }

    const batching: Array<CoreResult["batching"][number]> = []
    for (let round = 0; round < args.rounds; round++) {
      const offset = round * args.concurrent
      const pick = (i: number) => ids[(offset + i) % ids.length]!
      const batchedRound = Effect.gen(function* () {
        httpCalls = 0
        const started = performance.now()
        yield* Effect.forEach(
          Array.from({ length: args.concurrent }, (_, i) => i),
          (i) => lookup.lookup({ id: pick(i).id, namespace: pick(i).namespace }),
          { concurrency: "unbounded", discard: true }
        )
        return { ms: performance.now() - started, httpCalls }
      })
      const singleRound = Effect.gen(function* () {
        httpCalls = 0
        const started = performance.now()
        yield* Effect.forEach(
          Array.from({ length: args.concurrent }, (_, i) => i),
          (i) => profiles.getProfile({ id: pick(i).id, namespace: pick(i).namespace }),
          { concurrency: "unbounded", discard: true }
        )
        return { ms: performance.now() - started, httpCalls }
      })
      // Alternating which goes first, so neither always finds the other's pages in the cache.
      const [batched, single] =
        round % 2 === 0
          ? [yield* batchedRound, yield* singleRound]
          : yield* Effect.map(Effect.zip(singleRound, batchedRound), ([single, batched]) => [batched, single] as const)
      batching.push({ lookups: args.concurrent, batched, single })
    }
    return { typed: stats("typed"), typedFetch: stats("typedFetch"), raw: stats("raw"), batching, maxRssMb: resources().maxRssMb }
  })
  return Effect.runPromise(Effect.scoped(program))
})
