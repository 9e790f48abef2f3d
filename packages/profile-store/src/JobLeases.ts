/**
 * Who runs a background job (system jobs, export jobs, sample jobs,
 * computed attribute evaluations) when several processes share one database.
 *
 * A job is run under a lease: a row of `job_leases` naming the process and
 * when the lease ends. Claiming is one upsert that only takes a row that is
 * free or expired (the row lock of the upsert decides between two processes
 * claiming at once), the holder renews it while it works, and a process that
 * dies stops renewing, so its job is taken over once the lease has run out.
 * A process that finds its lease taken stops working on the job.
 *
 * On SQLite one process owns the data folder (see `DataFolderLock`), so
 * leases are never contended there; they are the same code all the same.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { randomUUID } from "node:crypto"
import { hostname } from "node:os"
import { Clock, Context, Data, Duration, Effect, Layer, Option, Queue } from "effect"
import { isShared } from "./internal/dialect.js"

export class Settings extends Context.Reference<Settings>()("@rtcp/profile-store/JobLeases/Settings", {
  defaultValue: (): {
    /** How long a claim lasts without renewal: how long a dead process's job waits before another takes it over. */
    readonly lease: Duration.DurationInput
    /** How often a process sharing the database looks for jobs it did not start itself. */
    readonly poll: Duration.DurationInput
  } => ({ lease: "30 seconds", poll: "1 second" })
}) {}

/** The process lost its lease (it stalled longer than the lease, and another process took the job over). */
export class LeaseLost extends Data.TaggedError("LeaseLost")<{ readonly job: string }> {}

export class JobLeases extends Context.Tag("@rtcp/profile-store/JobLeases")<
  JobLeases,
  {
    /** This process's name in `job_leases.owner` (host, pid and a random part). */
    readonly owner: string
    /** Whether other processes may run jobs on this database (Postgres). */
    readonly shared: boolean
    /**
     * Runs `work` while holding the lease on `job`, renewing it; none, without
     * running, when another process holds it. Losing the lease interrupts
     * `work` (as a shutdown would). The lease is released when `work` ends.
     */
    readonly withLease: <A, E, R>(job: string, work: Effect.Effect<A, E, R>) => Effect.Effect<Option.Option<A>, E, R>
    /**
     * Runs `work` under the lease on `job`, waiting (a poll interval at a
     * time) while another process holds it: the processes take turns.
     */
    readonly inTurn: <A, E, R>(job: string, work: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
    /**
     * Jobs named `prefix…` whose lease, held by another process, ran out
     * unreleased: that process died (or stalled past its lease) before
     * finishing them. Whoever claims one next finishes it.
     */
    readonly abandoned: (prefix: string) => Effect.Effect<ReadonlyArray<string>>
    /** Whether this process holds the lease on `job` now. */
    readonly holds: (job: string) => Effect.Effect<boolean>
    /** Waits for `doorbell`, or on a shared database at most the poll interval (jobs of other processes ring no bell here). */
    readonly wait: (doorbell: Queue.Dequeue<unknown>) => Effect.Effect<void>
    /** Waits one poll interval of wall-clock time (see `pollPause`). */
    readonly pause: Effect.Effect<void>
  }
>() {}

export const layer = Layer.effect(
  JobLeases,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const settings = yield* Settings
    const lease = Duration.toMillis(Duration.decode(settings.lease))
    const poll = Duration.decode(settings.poll)
    const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
    const shared = isShared(sql)

    // Alone on its data folder, a SQLite store owns every lease a previous
    // run left behind (a run that crashed did not release them).
    if (!shared) yield* sql`DELETE FROM job_leases`.pipe(Effect.orDie)

    const claim = (job: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const rows = yield* sql`INSERT INTO job_leases ${sql.insert({ job, owner, expires_at: now + lease })}
          ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
          WHERE job_leases.expires_at < ${now} OR job_leases.owner = excluded.owner
          RETURNING job`
        return rows.length > 0
      }).pipe(Effect.orDie)

    const renew = (job: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const rows = yield* sql`UPDATE job_leases SET expires_at = ${now + lease}
          WHERE job = ${job} AND owner = ${owner} RETURNING job`
        return rows.length > 0
      }).pipe(Effect.orDie)

    const release = (job: string) => sql`DELETE FROM job_leases WHERE job = ${job} AND owner = ${owner}`.pipe(Effect.orDie, Effect.asVoid)

    /** Renews a third of the lease at a time; fails when another process has it. */
    const heartbeat = (job: string) =>
      Effect.sleep(Duration.millis(lease / 3)).pipe(
        Effect.zipRight(renew(job)),
        Effect.flatMap((held) => (held ? Effect.void : Effect.fail(new LeaseLost({ job })))),
        Effect.forever
      )

    const withLease = <A, E, R>(job: string, work: Effect.Effect<A, E, R>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(claim(job), (claimed) =>
          !claimed
            ? Effect.succeed(Option.none<A>())
            : restore(
                Effect.raceFirst(
                  Effect.map(work, Option.some),
                  heartbeat(job).pipe(
                    Effect.catchTag("LeaseLost", (lost) =>
                      Effect.zipRight(Effect.logWarning(`lost the lease on ${lost.job} to another process`), Effect.interrupt)
                    )
                  )
                )
              ).pipe(Effect.ensuring(release(job)))
        )
      )

    const holds = (job: string) =>
      sql<{ readonly owner: string }>`SELECT owner FROM job_leases WHERE job = ${job}`.pipe(
        Effect.map((rows) => rows[0]?.owner === owner),
        Effect.orDie
      )

    const abandoned = (prefix: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const rows = yield* sql<{ readonly job: string }>`SELECT job FROM job_leases
          WHERE substr(job, 1, ${prefix.length}) = ${prefix} AND expires_at < ${now} AND owner <> ${owner} ORDER BY job`
        return rows.map((row) => row.job)
      }).pipe(Effect.orDie)

    // Polling looks for what other processes did, and they live in real time:
    // the poll waits on the wall clock, not on the fiber's Clock. On a test
    // clock, a poll every second would turn each jump of the clock into one
    // step per second jumped (TestClock.setTime to a date in 2025 never ends).
    const wallClock = Clock.make()
    const pause = Effect.withClock(Effect.sleep(poll), wallClock)

    const wait = (doorbell: Queue.Dequeue<unknown>) =>
      shared ? Effect.asVoid(Effect.raceFirst(Queue.take(doorbell), pause)) : Effect.asVoid(Queue.take(doorbell))

    const inTurn = <A, E, R>(job: string, work: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.flatMap(
        withLease(job, work),
        Option.match({
          onSome: Effect.succeed,
          onNone: () => Effect.zipRight(pause, inTurn(job, work))
        })
      )

    return JobLeases.of({ owner, shared, withLease, inTurn, abandoned, holds, wait, pause })
  })
)
