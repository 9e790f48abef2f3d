/**
 * Measures a seeded store in place, for the growth benchmark:
 *
 * - lookup latency: `Entities.getProfile` and `getEvents` in process (no
 *   HTTP), one at a time, for identities spread over the whole store;
 * - stitching time: a batch of records that each link a new device to an
 *   existing customer, or two existing customers to each other (the
 *   relabelling path), ingested inside a transaction that is then rolled
 *   back, so the cached store is left as it was.
 */
import { SqlClient } from "@effect/sql"
import { Catalog, Entities, Ingestion, ProfileStore } from "@rtcp/profile-store"
import { customer } from "@rtcp/seed"
import { Data, Effect } from "effect"
import { statSync } from "node:fs"
import { join } from "node:path"
import { lookupIdentities, SANDBOX, SEED } from "../lib/seed.js"
import { summarize } from "../lib/stats.js"
import { resources, workerMain } from "../lib/worker.js"

export interface ProbeArgs {
  readonly dir: string
  readonly profiles: number
  readonly lookups: number
  readonly stitchRecords: number
}

export interface ProbeResult {
  readonly profileUs: { readonly p50: number; readonly p99: number; readonly mean: number }
  readonly eventsUs: { readonly p50: number; readonly p99: number; readonly mean: number }
  readonly stitchUsPerRecord: number
  readonly dbMb: number
  readonly maxRssMb: number
}

class Rollback extends Data.TaggedError("Rollback")<{ readonly ms: number }> {}

const ecid = (n: number) => `9${String(n).padStart(37, "0")}`

/** Half the records link a new device to customer a, half merge customers a and b. */
const stitchRecords = (profiles: number, count: number) =>
  Array.from({ length: count }, (_, k) => {
    const a = customer((k * 7919 + 13) % profiles, SEED)
    if (k % 2 === 0) {
      return { _id: `probe-${k}`, identityMap: { ECID: [{ id: ecid(k), primary: true }], Email: [{ id: a.email }] }, probe: { k } }
    }
    const b = customer((k * 104_729 + 31) % profiles, SEED)
    return { _id: `probe-${k}`, identityMap: { Email: [{ id: a.email, primary: true }], CRMID: [{ id: b.crmId }] }, probe: { k } }
  })

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const started = performance.now()
    return Effect.map(effect, () => (performance.now() - started) * 1000)
  })

const program = (args: ProbeArgs) =>
  Effect.gen(function* () {
    const entities = yield* Entities.Entities
    const catalog = yield* Catalog.Catalog
    const ingestion = yield* Ingestion.Ingestion
    const sql = yield* SqlClient.SqlClient
    const identities = lookupIdentities(args.profiles, args.lookups)
    const profile = (i: number) =>
      entities.getProfile(SANDBOX, {
        identity: { namespace: identities[i]!.namespace.toLowerCase(), id: identities[i]!.id },
        schemaName: "_xdm.context.profile"
      })
    const events = (i: number) =>
      entities.getEvents(SANDBOX, { identity: { namespace: identities[i]!.namespace.toLowerCase(), id: identities[i]!.id } })
    for (let i = 0; i < Math.min(200, identities.length); i++) yield* profile(i).pipe(Effect.zipRight(events(i)))
    const profileUs: Array<number> = []
    const eventsUs: Array<number> = []
    for (let i = 0; i < identities.length; i++) {
      profileUs.push(yield* timed(profile(i)))
      eventsUs.push(yield* timed(events(i)))
    }
    const records = stitchRecords(args.profiles, args.stitchRecords)
    const rolledBack = yield* Effect.gen(function* () {
      const dataset = yield* catalog.create(SANDBOX, {
        name: "growth probe",
        schemaRef: { id: "https://ns.adobe.com/xdm/context/profile" },
        tags: { unifiedProfile: ["enabled:true"] }
      })
      const started = performance.now()
      yield* ingestion.ingestRecords(SANDBOX, dataset.id, records)
      return yield* new Rollback({ ms: performance.now() - started })
    }).pipe(sql.withTransaction, Effect.flip)
    if (rolledBack._tag !== "Rollback") return yield* Effect.die(rolledBack)
    const size = (file: string) => {
      try {
        return statSync(join(args.dir, file)).size
      } catch {
        return 0
      }
    }
    const brief = (samples: Array<number>) => {
      const s = summarize(samples)
      return { p50: s.p50, p99: s.p99, mean: s.mean }
    }
    return {
      profileUs: brief(profileUs),
      eventsUs: brief(eventsUs),
      stitchUsPerRecord: (rolledBack.ms * 1000) / records.length,
      dbMb: (size("profile.db") + size("profile.db-wal")) / 2 ** 20,
      maxRssMb: resources().maxRssMb
    } satisfies ProbeResult
  }).pipe(Effect.provide(ProfileStore.layerSqlite({ directory: args.dir })), Effect.orDie)

workerMain<ProbeArgs, ProbeResult>((args) => Effect.runPromise(program(args)))
