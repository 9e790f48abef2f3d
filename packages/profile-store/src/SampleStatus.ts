/**
 * Preview sample status and its reports: what the profile store holds,
 * measured by a sample job per sandbox, in the figures AEP's
 * `/previewsamplestatus` answers with. The store keeps each sample as a
 * {@link Snapshot}; the answers' shapes (quoted counts, Java timestamps,
 * percentages) are written at the HTTP edge (`sampleStatusWire` in
 * @rtcp/local-platform).
 *
 * **When a sample runs.** AEP samples when ingestion changes the profile count
 * by more than 5% (checked within 15 minutes of a batch, hourly for
 * streaming). Here the 5% rule is simplified: every settled change samples.
 * The job listens to {@link StoreEvents} (successful batches, streamed
 * records, deletions) and samples a sandbox once no event arrived for it
 * during {@link Settings} `quietPeriod` (3 seconds by default) and no batch
 * of it is being processed (`StoreEvents.settled`); `runSample`
 * samples at once. One job runs at a time; while a sandbox's job is submitted
 * or running, the status says `running` (AEP's `sampleJobRunning.status`).
 *
 * **What it counts**, under the sandbox's default profile merge policy (no
 * default: no stitching, as the OpenAPI document says):
 * - a merged profile is an identity graph (`pdg`) or an identity (`none`)
 *   holding at least one fragment or event, so event-only profiles count;
 * - a fragment is what one dataset holds for one primary identity: a record
 *   fragment, or an experience event fragment (all events of one dataset
 *   keyed by one primary identity) — AEP counts event fragments too;
 * - the document count (`cosmosDocCount`, `docCount`) is every stored record
 *   fragment and event;
 * - a profile's datasets are those holding its fragments or events, its
 *   namespaces those of every identity of the profile (the whole graph under
 *   `pdg`); standard namespaces show AEP's code and id (Email 6, ECID 4,
 *   Phone 7, AAID 10), others their lower-case code and a stable id;
 * - unstitched profiles have exactly one fragment; a window (`7days` …
 *   `120days`) counts those with no event in its last N days (or none at
 *   all), by the namespace of that fragment's primary identity.
 *
 * **Exact or sampled.** Up to {@link Settings} `sampleThreshold` merged
 * profiles (1,000,000) every figure is exact and `numRowsToRead = totalRows`.
 * Beyond it, the totals (profiles, fragments, documents, events) stay exact
 * SQL counts, and the reports are read over a deterministic subset of about
 * `sampleThreshold` profiles (profile key × 2654435761 mod 10⁶ below the
 * ratio) and scaled to the store: `sampleCount` is over the sample,
 * `fullIDsCount` is scaled, overlap values are apportioned by largest
 * remainder so they still sum to `totalRows`.
 *
 * **How.** SQL aggregates grouped by profile key over pages of key ranges
 * (10,000 keys a page), so memory holds one page and the report maps, never
 * every profile. The job reads without a snapshot transaction (it would hold
 * the store's only connection); it runs after ingestion settles, so that is
 * rarely visible.
 *
 * **Snapshots.** Each sample is stored with its time; a day keeps its latest
 * sample (the only one `date=` can return). `date=YYYY-MM-DD` (UTC) selects
 * the latest report of that day, ReportNotFound (404) when there is none;
 * without `date` the latest overall. Before any sample the {@link Status} has
 * no snapshot (AEP answers zero counts and `status: "TASK_NOT_STARTED"`) and
 * the reports fail with ReportNotFound.
 *
 * @since 0.1.0
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Cause, Clock, Context, Duration, Effect, FiberMap, Layer, Option, Queue, Ref, Schema } from "effect"
import { JobLeases } from "./JobLeases.js"
import { Catalog } from "./Catalog.js"
import * as StoreError from "./StoreError.js"
import { invalid } from "./StoreError.js"
import {
  addProfile,
  apportion,
  dayOf,
  emptyTally,
  namespaceCode,
  namespaceId,
  parseDay,
  type ProfileFacts,
  scale,
  type Tally,
  WINDOWS
} from "./internal/sample.js"
import { MergePolicies } from "./MergePolicies.js"
import * as Rows from "./migrations/rows.js"
import { StoreEvents } from "./StoreEvents.js"

/**
 * How samples run. A `Context.Reference`: the defaults apply unless a caller
 * provides other values to the store layer ({@link layerSettings}).
 */
/** A count per profile key (graph or identity), dataset and namespace. */
interface KeyedCount {
  readonly k: Rows.Int
  readonly ds: string
  readonly ns: string
  readonly n: Rows.Int
}

export class Settings extends Context.Reference<Settings>()("@rtcp/profile-store/SampleStatus/Settings", {
  defaultValue: (): {
    /** A sandbox is sampled once no store event arrived for it during this long, with none of its batches processing. */
    readonly quietPeriod: Duration.DurationInput
    /** false: samples run only through `runSample`. */
    readonly automatic: boolean
    /** Above this many merged profiles, reports are read over a sample of about this many and scaled. */
    readonly sampleThreshold: number
    /** Runs in each job before it reads the store (tests hold a job there to see it running). */
    readonly beforeScan: (sandbox: string) => Effect.Effect<void>
  } => ({ quietPeriod: "3 seconds", automatic: true, sampleThreshold: 1_000_000, beforeScan: () => Effect.void })
}) {}

/** Provide below the store layer to change how samples run. */
export const layerSettings = (settings: Partial<Context.Tag.Service<Settings>>) =>
  Layer.succeed(Settings, { ...Settings.defaultValue(), ...settings })

export interface DatasetFigures {
  readonly id: string
  readonly name: string
  readonly description: string
  readonly streamingIngestionEnabled: string
  readonly sampleCount: number
  readonly fullIDsCount: number
}

export interface NamespaceFigures {
  readonly code: string
  readonly id: string
  readonly sampleCount: number
  readonly fullIDsCount: number
  readonly fullIDsFragmentCount: number
}

export interface Window {
  readonly countOfProfiles: number
  readonly eventsAssociated: number
  readonly nsDistribution: Readonly<Record<string, { readonly countOfProfiles: number; readonly eventsAssociated: number }>>
}

/** One sample: what the status and every report answer until the next one. */
export interface Snapshot {
  readonly sandbox: string
  readonly submittedAt: number
  readonly sampledAt: number
  /** `<attributeMerge>_<identityGraph>` of the default policy, e.g. `timestampOrdered_pdg`. */
  readonly mergeStrategy: string
  /** Merged profiles in the store. */
  readonly totalRows: number
  /** Merged profiles read (all of them unless `sampled`). */
  readonly numRowsToRead: number
  readonly sampled: boolean
  readonly fragments: number
  readonly documents: number
  readonly events: number
  readonly lastBatch: { readonly id: string; readonly at: number } | null
  readonly datasets: ReadonlyArray<DatasetFigures>
  readonly namespaces: ReadonlyArray<NamespaceFigures>
  readonly datasetOverlap: Readonly<Record<string, number>>
  readonly namespaceOverlap: Readonly<Record<string, number>>
  readonly unstitched: Readonly<Record<string, Window>>
}

/** A sandbox's sample status: what the last sample found and whether one is under way. */
export interface Status {
  /** The latest sample; undefined before the first one. */
  readonly snapshot: Snapshot | undefined
  /** Whether a job is submitted or running for the sandbox. */
  readonly running: boolean
  /** When the sandbox's latest job was submitted (the one under way, else the latest snapshot's); undefined before any. */
  readonly submittedAt: number | undefined
  /** The latest snapshot's `mergeStrategy`, or before any the default policy's now. */
  readonly mergeStrategy: string
}

export class SampleStatus extends Context.Tag("@rtcp/profile-store/SampleStatus")<
  SampleStatus,
  {
    /** Samples the sandbox now (after any job already running) and stores the snapshot. */
    readonly runSample: (sandbox: string) => Effect.Effect<Snapshot>
    /** The latest snapshot of `date` (`YYYY-MM-DD`, UTC), or the latest overall. */
    readonly snapshot: (sandbox: string, date?: string | undefined) => Effect.Effect<Option.Option<Snapshot>, StoreError.InvalidInput>
    /** Whether a job is submitted or running for the sandbox. */
    readonly running: (sandbox: string) => Effect.Effect<boolean>
    /** The sandbox's sample status: its latest snapshot and its job. */
    readonly status: (sandbox: string) => Effect.Effect<Status>
    /**
     * The snapshot every report of `date` (`YYYY-MM-DD`, UTC) is read from, or
     * the latest; ReportNotFound when no sample ran that day (or ever).
     */
    readonly report: (
      sandbox: string,
      date?: string | undefined
    ) => Effect.Effect<Snapshot, StoreError.InvalidInput | StoreError.ReportNotFound>
    /** The latest snapshot, for the reports that take no date (the unstitched profiles report). */
    readonly latestReport: (sandbox: string) => Effect.Effect<Snapshot, StoreError.ReportNotFound>
  }
>() {}

/** Samples `sandbox` now; see {@link SampleStatus}. */
export const runSample = (sandbox: string) => Effect.flatMap(SampleStatus, (service) => service.runSample(sandbox))

// ---------------------------------------------------------------------------
// the job
// ---------------------------------------------------------------------------

/** Profile keys per page of the scan. */
const PAGE = 10_000
/** Sample membership: (key × HASH) mod BUCKETS below the sampling ratio × BUCKETS. */
const HASH = 2654435761
const BUCKETS = 1_000_000

interface Facts {
  readonly datasets: Set<string>
  readonly namespaces: Set<string>
  fragments: number
  documents: number
  events: number
  lastEvent: number | undefined
  fragmentNamespace: string | undefined
}

const facts = (): Facts => ({
  datasets: new Set(),
  namespaces: new Set(),
  fragments: 0,
  documents: 0,
  events: 0,
  lastEvent: undefined,
  fragmentNamespace: undefined
})

const bySize = <A extends { readonly fullIDsCount: number }>(key: (a: A) => string) => (a: A, b: A) =>
  b.fullIDsCount - a.fullIDsCount || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)

const sortedRecord = (map: ReadonlyMap<string, number>): Record<string, number> =>
  Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

export const layer = Layer.scoped(
  SampleStatus,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const catalog = yield* Catalog
    const policies = yield* MergePolicies
    const storeEvents = yield* StoreEvents
    const settings = yield* Settings
    const jobs = yield* Ref.make(new Map<string, { readonly running: number; readonly submittedAt: number }>())
    const oneAtATime = yield* Effect.makeSemaphore(1)
    const leases = yield* JobLeases

    /** The default profile policy as the sample reads it: graph mode and `mergeStrategy` tag. */
    const strategy = (sandbox: string) =>
      policies.resolve(sandbox, undefined, "_xdm.context.profile").pipe(
        Effect.map((policy) => ({ graph: policy.identityGraph, tag: `${policy.attributeMerge.type}_${policy.identityGraph}` })),
        Effect.orElseSucceed(() => ({ graph: "none" as const, tag: "timestampOrdered_none" }))
      )

    const count = <E>(statement: Effect.Effect<ReadonlyArray<Rows.Count>, E>) =>
      Effect.map(statement, (rows) => Number(rows[0]?.n ?? 0))

    /** Reads the profiles whose key is in the sample, page by page, into `tally`. */
    const scan = (sandbox: string, graph: "pdg" | "none", below: number | undefined, sampledAt: number, tally: Tally) =>
      Effect.gen(function* () {
        const key = sql.literal(graph === "pdg" ? "i.graph_id" : "i.id")
        const inSample = below === undefined ? sql`` : sql`AND ((${key} * ${sql.literal(String(HASH))}) % ${sql.literal(String(BUCKETS))}) < ${below}`
        const [bounds] = yield* sql<{ readonly lo: Rows.Int | null; readonly hi: Rows.Int | null }>`SELECT MIN(id) AS lo, MAX(id) AS hi FROM identities WHERE sandbox = ${sandbox}`
        if (bounds === undefined || bounds.lo === null) return
        for (let lo = Number(bounds.lo); lo <= Number(bounds.hi); lo += PAGE) {
          // The key range drives the query (identities_graph or the primary
          // key, then the fragments/events identity indexes); `|| ''` keeps
          // the planner off the sandbox-only indexes, which would scan the
          // whole sandbox for every page. Identity ids are unique across
          // sandboxes, so the identity's sandbox is its data's sandbox.
          const where = sql`${key} >= ${lo} AND ${key} < ${lo + PAGE} AND i.sandbox || '' = ${sandbox} ${inSample}`
          const page = new Map<number, Facts>()
          const of = (k: number) => {
            let found = page.get(k)
            if (found === undefined) page.set(k, (found = facts()))
            return found
          }
          const fragmentRows = yield* sql<KeyedCount>`SELECT ${key} AS k, f.dataset_id AS ds, i.ns AS ns, COUNT(*) AS n
            FROM identities i JOIN fragments f ON f.identity_id = i.id
            WHERE ${where}
            GROUP BY ${key}, f.dataset_id, i.ns`
          for (const row of fragmentRows) {
            const profile = of(Number(row.k))
            const code = namespaceCode(row.ns)
            const n = Number(row.n)
            profile.datasets.add(row.ds)
            profile.fragments += n
            profile.documents += n
            profile.fragmentNamespace = code
            if (graph === "none") profile.namespaces.add(code)
            tally.fragmentsByNamespace.set(code, (tally.fragmentsByNamespace.get(code) ?? 0) + n)
          }
          const eventRows = yield* sql<KeyedCount & { readonly fragments: Rows.Int; readonly last: Rows.Int }>`SELECT ${key} AS k, e.dataset_id AS ds, i.ns AS ns,
              COUNT(DISTINCT e.identity_id) AS fragments, COUNT(*) AS n, MAX(e.ts) AS last
            FROM identities i JOIN events e ON e.identity_id = i.id
            WHERE ${where}
            GROUP BY ${key}, e.dataset_id, i.ns`
          for (const row of eventRows) {
            const profile = of(Number(row.k))
            const code = namespaceCode(row.ns)
            const fragments = Number(row.fragments)
            const n = Number(row.n)
            profile.datasets.add(row.ds)
            profile.fragments += fragments
            profile.documents += n
            profile.events += n
            profile.lastEvent = Math.max(profile.lastEvent ?? Number.NEGATIVE_INFINITY, Number(row.last))
            profile.fragmentNamespace = code
            if (graph === "none") profile.namespaces.add(code)
            tally.fragmentsByNamespace.set(code, (tally.fragmentsByNamespace.get(code) ?? 0) + fragments)
          }
          if (page.size === 0) continue
          if (graph === "pdg") {
            const namespaceRows = yield* sql<Omit<KeyedCount, "ds" | "n">>`SELECT ${key} AS k, i.ns AS ns FROM identities i WHERE ${where} GROUP BY ${key}, i.ns`
            for (const row of namespaceRows) page.get(Number(row.k))?.namespaces.add(namespaceCode(row.ns))
          }
          for (const profile of page.values()) addProfile(tally, profile satisfies ProfileFacts, sampledAt)
        }
      })

    const compute = (sandbox: string, submittedAt: number) =>
      Effect.gen(function* () {
        yield* settings.beforeScan(sandbox)
        const sampledAt = yield* Clock.currentTimeMillis
        const { graph, tag } = yield* strategy(sandbox)
        const key = sql.literal(graph === "pdg" ? "i.graph_id" : "i.id")
        // Whether to sample: the number of graphs (or identities) bounds the
        // profile count cheaply; only above the threshold is it counted exactly.
        const threshold = Math.max(1, Math.floor(settings.sampleThreshold))
        const bound = yield* count(
          graph === "pdg"
            ? sql`SELECT COUNT(DISTINCT graph_id) AS n FROM identities WHERE sandbox = ${sandbox}`
            : sql`SELECT COUNT(*) AS n FROM identities WHERE sandbox = ${sandbox}`
        )
        const profiles =
          bound <= threshold
            ? bound
            : yield* count(sql`SELECT COUNT(*) AS n FROM (
                SELECT ${key} AS k FROM fragments f JOIN identities i ON i.id = f.identity_id WHERE f.sandbox = ${sandbox}
                UNION
                SELECT ${key} AS k FROM (SELECT DISTINCT identity_id FROM events WHERE sandbox = ${sandbox}) e
                  JOIN identities i ON i.id = e.identity_id
              ) p`)
        const sampled = profiles > threshold
        const below = sampled ? Math.max(1, Math.floor((threshold / profiles) * BUCKETS)) : undefined
        // A sample's totals are exact SQL counts; otherwise the scan counts everything.
        const totals = sampled
          ? {
              recordFragments: yield* count(sql`SELECT COUNT(*) AS n FROM fragments WHERE sandbox = ${sandbox}`),
              eventFragments: yield* count(
                sql`SELECT COUNT(*) AS n FROM (SELECT DISTINCT dataset_id, identity_id FROM events WHERE sandbox = ${sandbox}) d`
              ),
              events: yield* count(sql`SELECT COUNT(*) AS n FROM events WHERE sandbox = ${sandbox}`)
            }
          : undefined
        const [batch] = yield* sql<{ readonly id: string; readonly at: Rows.Int }>`SELECT b.id AS id, b.completed_at AS at FROM batches b
            JOIN datasets d ON d.sandbox = b.sandbox AND d.id = b.dataset_id
          WHERE b.sandbox = ${sandbox} AND b.status = 'success' AND d.profile_enabled = 1 AND b.completed_at IS NOT NULL
          ORDER BY b.completed_at DESC, b.created_at DESC, b.id DESC LIMIT 1`

        const tally = emptyTally()
        yield* scan(sandbox, graph, below, sampledAt, tally)

        // Exact: every figure comes from the scan, so they agree with each other.
        const totalRows = totals ? profiles : tally.profiles
        const fragments = totals ? totals.recordFragments + totals.eventFragments : tally.fragments
        const documents = totals ? totals.recordFragments + totals.events : tally.documents
        const eventCount = totals ? totals.events : tally.events
        const factor = tally.profiles === 0 ? 0 : totalRows / tally.profiles
        const fragmentFactor = tally.fragments === 0 ? 0 : fragments / tally.fragments
        const full = (n: number) => (sampled ? Math.min(totalRows, scale(n, factor)) : n)

        const known = new Map((yield* catalog.list(sandbox)).map((dataset) => [dataset.id, dataset]))
        const datasets = [...tally.byDataset].map(([id, n]): DatasetFigures => {
          const dataset = known.get(id)
          return {
            id,
            name: dataset?.name ?? id,
            description: dataset?.description ?? "",
            streamingIngestionEnabled: dataset?.tags.streamingIngestionEnabled?.[0] ?? "",
            sampleCount: n,
            fullIDsCount: full(n)
          }
        })
        const namespaces = [...tally.byNamespace].map(([code, n]): NamespaceFigures => {
          const fragmentsRead = tally.fragmentsByNamespace.get(code) ?? 0
          return {
            code,
            id: namespaceId(code.toLowerCase()),
            sampleCount: n,
            fullIDsCount: full(n),
            fullIDsFragmentCount: sampled ? scale(fragmentsRead, fragmentFactor) : fragmentsRead
          }
        })
        const unstitched: Record<string, Window> = {}
        for (const [name] of WINDOWS) {
          const nsDistribution: Record<string, { countOfProfiles: number; eventsAssociated: number }> = {}
          let countOfProfiles = 0
          let eventsAssociated = 0
          for (const [code, entry] of [...tally.unstitched.get(name)!].sort(([a], [b]) => (a < b ? -1 : 1))) {
            const scaled = { countOfProfiles: full(entry.profiles), eventsAssociated: sampled ? scale(entry.events, factor) : entry.events }
            nsDistribution[code] = scaled
            countOfProfiles += scaled.countOfProfiles
            eventsAssociated += scaled.eventsAssociated
          }
          unstitched[name] = { countOfProfiles, eventsAssociated, nsDistribution }
        }
        const snapshot: Snapshot = {
          sandbox,
          submittedAt,
          sampledAt,
          mergeStrategy: tag,
          totalRows,
          numRowsToRead: tally.profiles,
          sampled,
          fragments,
          documents,
          events: eventCount,
          lastBatch: batch ? { id: String(batch.id), at: Number(batch.at) } : null,
          datasets: datasets.sort(bySize((d) => d.name)),
          namespaces: namespaces.sort(bySize((n) => n.code)),
          datasetOverlap: sortedRecord(apportion(tally.datasetOverlap, tally.profiles, totalRows)),
          namespaceOverlap: sortedRecord(apportion(tally.namespaceOverlap, tally.profiles, totalRows)),
          unstitched
        }
        yield* sql`INSERT INTO sample_snapshots ${sql.insert({
          sandbox,
          day: dayOf(sampledAt),
          sampled_at: sampledAt,
          submitted_at: submittedAt,
          body: JSON.stringify(snapshot)
        })} ON CONFLICT (sandbox, day) DO UPDATE SET sampled_at = excluded.sampled_at,
          submitted_at = excluded.submitted_at, body = excluded.body`
        return snapshot
      })

    const runSample = (sandbox: string) =>
      Effect.gen(function* () {
        const submittedAt = yield* Clock.currentTimeMillis
        yield* Ref.update(jobs, (all) => new Map(all).set(sandbox, { running: (all.get(sandbox)?.running ?? 0) + 1, submittedAt }))
        // One sample of a sandbox at a time, across the processes sharing the database too.
        return yield* oneAtATime.withPermits(1)(leases.inTurn(`sample:${sandbox}`, compute(sandbox, submittedAt))).pipe(
          Effect.orDie,
          Effect.ensuring(
            Ref.update(jobs, (all) => {
              const job = all.get(sandbox)
              return job ? new Map(all).set(sandbox, { ...job, running: job.running - 1 }) : all
            })
          ),
          Effect.withSpan("SampleStatus.runSample", { attributes: { sandbox } })
        )
      })

    const snapshot = (sandbox: string, date?: string | undefined) =>
      Effect.gen(function* () {
        if (date !== undefined && parseDay(date) === undefined) {
          return yield* invalid(`date "${date}" is not a valid day: use YYYY-MM-DD, e.g. 2024-05-31`, "Invalid date")
        }
        const row = yield* SqlSchema.findOne({
          Request: Schema.Void,
          Result: Rows.SampleSnapshot.pipe(Schema.pick("body")),
          execute: () =>
            date === undefined
              ? sql`SELECT body FROM sample_snapshots WHERE sandbox = ${sandbox} ORDER BY sampled_at DESC LIMIT 1`
              : sql`SELECT body FROM sample_snapshots WHERE sandbox = ${sandbox} AND day = ${date}`
        })(undefined).pipe(Effect.orDie)
        // The body is what `store` wrote from a Snapshot.
        return Option.map(row, ({ body }) => JSON.parse(body) as Snapshot)
      })

    const report = (sandbox: string, date?: string | undefined) =>
      Effect.flatMap(snapshot(sandbox, date), (found) =>
        Option.match(found, {
          onSome: Effect.succeed,
          onNone: () => Effect.fail(new StoreError.ReportNotFound({ sandbox, date }))
        })
      )

    const running = (sandbox: string) => Effect.map(Ref.get(jobs), (all) => (all.get(sandbox)?.running ?? 0) > 0)

    // Automatic samples: debounce store events per sandbox. A new event
    // restarts the sandbox's timer; a job already started is never interrupted.
    if (settings.automatic) {
      const scope = yield* Effect.scope
      const timers = yield* FiberMap.make<string>()
      const quiet = Duration.decode(settings.quietPeriod)
      const inBackground = (sandbox: string) =>
        runSample(sandbox).pipe(
          Effect.asVoid,
          Effect.catchAllCause((cause) =>
            Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("sample job failed", cause)
          ),
          Effect.annotateLogs({ sandbox })
        )
      // Quiet also means no batch of the sandbox being processed: a sample
      // taken between two batches of one load is stale when the next ends,
      // and at a million profiles it took the load's thread for a minute.
      const quietAndSettled = (sandbox: string): Effect.Effect<void> =>
        Effect.gen(function* () {
          yield* Effect.sleep(quiet)
          if (!(yield* storeEvents.busy(sandbox))) return
          yield* storeEvents.settled(sandbox)
          yield* quietAndSettled(sandbox)
        })
      const events = yield* storeEvents.subscribe
      yield* Queue.take(events).pipe(
        Effect.flatMap((event) =>
          FiberMap.run(timers, event.sandbox, quietAndSettled(event.sandbox).pipe(Effect.zipRight(Effect.forkIn(inBackground(event.sandbox), scope))))
        ),
        Effect.forever,
        Effect.forkScoped
      )
    }

    // A sample whose process died mid-run (its lease ran out unreleased) is
    // run here: the changes that would have started it again were the dead one's.
    if (leases.shared) {
      const prefix = "sample:"
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.gen(function* () {
            yield* leases.pause
            for (const job of yield* leases.abandoned(prefix)) {
              const sandbox = job.slice(prefix.length)
              yield* Effect.logInfo(`taking over the sample of sandbox ${sandbox}, left by a process that stopped`)
              yield* runSample(sandbox).pipe(
                Effect.catchAllCause((cause) => (Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("sample job failed", cause))),
                Effect.annotateLogs({ sandbox })
              )
            }
          })
        )
      )
    }

    return SampleStatus.of({
      runSample,
      snapshot,
      running,
      status: (sandbox) =>
        Effect.gen(function* () {
          const latest = Option.getOrUndefined(yield* Effect.orDie(snapshot(sandbox)))
          const job = (yield* Ref.get(jobs)).get(sandbox)
          return {
            snapshot: latest,
            running: (job?.running ?? 0) > 0,
            submittedAt: job?.submittedAt ?? latest?.submittedAt,
            mergeStrategy: latest?.mergeStrategy ?? (yield* strategy(sandbox)).tag
          } satisfies Status
        }),
      report,
      // Without a date there is no date to refuse.
      latestReport: (sandbox) => report(sandbox).pipe(Effect.catchTag("InvalidInput", (error) => Effect.die(error)))
    })
  })
)
