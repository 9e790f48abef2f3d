/**
 * Lookups while the same service processes a batch: how long a lookup can
 * wait for the writer. A batch is processed on the service's thread, so
 * anything it does without pausing (validating, writing a chunk, committing,
 * checkpointing) is a pause every request in flight shares.
 *
 * On a copy of a seeded store: a batch of new profiles (two identities
 * each, so every record stitches) is uploaded, then completed two seconds
 * into a lookup load at 32 connections; answers are timed by when they
 * arrive, and split into those during the batch and those outside it.
 */
import autocannon from "autocannon"
import type { Context } from "./benchmark.js"
import { platformHeaders, startService, withServer } from "./service.js"
import { summarize } from "./stats.js"
import { copyStore, removeDir, type SeededStore } from "./store.js"

export interface DuringBatch {
  readonly records: number
  readonly batchMs: number
  readonly during: { readonly answers: number; readonly perSecond: number; readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number }
  readonly outside: { readonly answers: number; readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number }
  /** The slowest answer in each 250 ms of the load: where the pauses fall. */
  readonly slowestPer250Ms: ReadonlyArray<number>
}

const profileDataset = {
  name: "Late CRM",
  schemaRef: { id: "https://ns.adobe.com/xdm/context/profile", contentType: "application/vnd.adobe.xed+json;version=1" },
  tags: { unifiedProfile: ["enabled:true"] }
}

export const lookupsDuringBatch = async (
  context: Context,
  store: SeededStore,
  paths: ReadonlyArray<string>,
  options: { readonly records: number; readonly seconds: number; readonly lookupCacheMb?: number }
): Promise<DuringBatch> => {
  const dir = copyStore(context, store, "during-batch")
  try {
    const served = await withServer(startService(context, { dir, lookupCacheMb: options.lookupCacheMb }), async ({ token, url }) => {
      const headers = platformHeaders(token)
      const call = async (method: string, path: string, body?: string, type = "application/json") => {
        const response = await fetch(`${url}${path}`, { method, headers: { ...headers, "content-type": type }, body: body ?? null })
        const text = await response.text()
        if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`)
        return text === "" ? undefined : (JSON.parse(text) as any)
      }
      const created = await call("POST", "/data/foundation/catalog/dataSets", JSON.stringify(profileDataset))
      const datasetId = String(created[0]).replace("@/dataSets/", "")
      const batchId = (await call("POST", "/data/foundation/import/batches", JSON.stringify({ datasetId, inputFormat: { format: "json" } }))).id as string
      const lines: Array<string> = []
      for (let i = 0; i < options.records; i++) {
        lines.push(
          JSON.stringify({
            _id: `late-${i}`,
            identityMap: { CRMID: [{ id: `late-${i}`, primary: true }], Email: [{ id: `late-${i}@example.com` }] },
            person: { name: { firstName: `Late${i}`, lastName: "Customer" } },
            homeAddress: { city: "San Jose", countryCode: "US" }
          })
        )
      }
      await call("PUT", `/data/foundation/import/batches/${batchId}/datasets/${datasetId}/files/late.json`, lines.join("\n"), "application/octet-stream")
      const arrivals: Array<readonly [number, number]> = []
      let next = 0
      const began = performance.now()
      const load = new Promise<void>((resolve, reject) => {
        const instance = autocannon(
          {
            url,
            connections: 32,
            duration: options.seconds,
            headers,
            requests: [{ method: "GET", setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }) }]
          },
          (error) => (error ? reject(error) : resolve())
        )
        instance.on("response", (_client, _status, _bytes, responseTime) => arrivals.push([performance.now() - began, responseTime]))
      })
      await new Promise((resolve) => setTimeout(resolve, 2000))
      const started = performance.now() - began
      await call("POST", `/data/foundation/import/batches/${batchId}?action=COMPLETE`)
      let ended = 0
      for (;;) {
        const status = (await call("GET", `/data/foundation/catalog/batches/${batchId}`))?.[batchId]?.status
        if (status !== "processing" && status !== "loading") {
          if (status !== "success") throw new Error(`the batch ended ${status}`)
          ended = performance.now() - began
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await load
      return { arrivals, started, ended }
    })
    const { arrivals, ended, started } = served.value
    // An answer belongs to the batch when it was in flight while the batch ran.
    const during = arrivals.filter(([at, ms]) => at >= started && at - ms <= ended).map(([, ms]) => ms)
    const outside = arrivals.filter(([at, ms]) => !(at >= started && at - ms <= ended)).map(([, ms]) => ms)
    const d = summarize(during)
    const o = summarize(outside)
    const slowest: Array<number> = []
    for (const [at, ms] of arrivals) {
      const window = Math.floor(at / 250)
      slowest[window] = Math.max(slowest[window] ?? 0, ms)
    }
    return {
      records: options.records,
      batchMs: Math.round(ended - started),
      during: {
        answers: during.length,
        perSecond: Math.round(during.length / ((ended - started) / 1000)),
        p50Ms: Number(d.p50.toFixed(2)),
        p99Ms: Number(d.p99.toFixed(2)),
        maxMs: Number(d.max.toFixed(2))
      },
      outside: { answers: outside.length, p50Ms: Number(o.p50.toFixed(2)), p99Ms: Number(o.p99.toFixed(2)), maxMs: Number(o.max.toFixed(2)) },
      slowestPer250Ms: Array.from(slowest, (ms) => Math.round(ms ?? 0))
    }
  } finally {
    removeDir(dir)
  }
}
