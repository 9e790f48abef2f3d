/**
 * Without a terminal (a pipe, CI) the dashboard cannot draw, so it prints
 * one screen of what it would show and exits instead of waiting for keys.
 */
import { Platform, ProfileClient, SystemJob } from "@rtcp/core"
import { Cause, Effect, Either, Exit, Option } from "effect"
import { count, dateTime, describeError, looseNumber, parseTime } from "./format.js"
import { type DashboardRuntime, runExit } from "./runtime.js"
import { Upstream, type UpstreamKind } from "./upstream.js"
import { collect } from "./views/common.js"
import { loadOverview } from "./views/Overview.js"

export interface SummaryOptions {
  readonly kind: UpstreamKind
  readonly sandbox: string
}

const line = (label: string, text: string) => `${label.padEnd(20)}${text}`

export const summaryLines = Effect.fn("summaryLines")(function* (options: SummaryOptions) {
  const info = yield* Upstream
  const client = yield* ProfileClient.ProfileClient
  // A local service that has just been seeded samples a few seconds later: wait for it (bounded).
  const untilSampled = (attemptsLeft: number): Effect.Effect<Effect.Effect.Success<typeof loadOverview>, Effect.Effect.Error<typeof loadOverview>, ProfileClient.ProfileClient> =>
    Effect.flatMap(loadOverview, (o) =>
      options.kind === "local" && Option.isNone(o.datasets) && attemptsLeft > 0
        ? Effect.zipRight(Effect.sleep("500 millis"), Effect.suspend(() => untilSampled(attemptsLeft - 1)))
        : Effect.succeed(o)
    )
  const overview = yield* Effect.either(untilSampled(16))
  const list = <A, E>(effect: Effect.Effect<ReadonlyArray<A>, E>) => Effect.either(effect)
  const [policies, systemJobs, exportJobs, attributes, destinations, projections] = yield* Effect.all(
    [
      list(collect(client.mergePolicies())),
      list(collect(client.systemJobs())),
      list(collect(client.exportJobs())),
      list(collect(client.computedAttributes())),
      list(Effect.map(client.listDestinations(), (d) => d._embedded.projectionDestinations)),
      list(Effect.map(client.listProjections(), (p) => p._embedded.projectionConfigs))
    ],
    { concurrency: "unbounded" }
  )
  const out: Array<string> = [
    "rtcp dashboard: no terminal, so here is a summary (run `npm start` in a terminal for the dashboard)",
    line("upstream", `${info.kind} ${info.url}  org ${info.orgId}  sandbox ${options.sandbox}`)
  ]
  if (Either.isRight(overview)) {
    const { status, datasets, namespaces } = overview.right
    const sampled = parseTime(status.lastSampledTimestamp)
    out.push(
      line(
        "profiles",
        `${count(looseNumber(status.totalRows))} merged · ${count(looseNumber(status.totalFragmentCount))} fragments · ` +
          `last sample ${sampled === undefined ? "none yet" : dateTime(sampled)}`
      )
    )
    const top = <A>(items: ReadonlyArray<A>, label: (a: A) => string, value: (a: A) => number) =>
      [...items]
        .sort((a, b) => value(b) - value(a))
        .slice(0, 5)
        .map((item) => `${label(item)} ${count(value(item))}`)
        .join(" · ")
    if (Option.isSome(datasets)) out.push(line("by dataset", top(datasets.value.data, (d) => d.name ?? d.value, (d) => d.fullIDsCount)))
    if (Option.isSome(namespaces)) out.push(line("by namespace", top(namespaces.value.data, (n) => n.code, (n) => n.fullIDsCount)))
  } else {
    out.push(line("profiles", `✗ ${describeError(overview.left)}`))
  }
  const show = <A>(label: string, result: Either.Either<ReadonlyArray<A>, unknown>, detail: (items: ReadonlyArray<A>) => string) =>
    out.push(line(label, Either.isRight(result) ? `${count(result.right.length)}${detail(result.right)}` : `✗ ${describeError(result.left)}`))
  show("merge policies", policies, (items) => {
    const fallback = items.find((p) => p.default === true)
    return fallback ? ` (default: ${fallback.name ?? fallback.id})` : ""
  })
  show("system jobs", systemJobs, (items) => ` (${items.filter((j) => !SystemJob.terminalStatuses.has(j.status)).length} running)`)
  show("export jobs", exportJobs, (items) => ` (${items.filter((j) => j.status === "NEW" || j.status === "PROCESSING").length} running)`)
  show("computed attributes", attributes, () => "")
  show("edge destinations", destinations, () => "")
  show("edge projections", projections, () => "")
  const results: ReadonlyArray<Either.Either<unknown, unknown>> = [overview, policies, systemJobs, exportJobs, attributes, destinations, projections]
  const failures = results.filter((result) => Either.isLeft(result)).length
  return { lines: out, failures, total: 7 }
})

/** Prints the summary; answers the exit code (1 only when nothing could be read). */
export const summary = async (runtime: DashboardRuntime, options: SummaryOptions): Promise<number> => {
  const exit = await runExit(runtime, Platform.withSandbox(summaryLines(options), options.sandbox))
  if (Exit.isFailure(exit)) {
    // The upstream's layer itself failed (configuration, port, IMS…).
    const failure = Cause.failureOption(exit.cause)
    const error = Option.isSome(failure) ? failure.value : Cause.squash(exit.cause)
    process.stdout.write(`rtcp dashboard: the upstream could not be reached: ${describeError(error)}\n`)
    return 1
  }
  process.stdout.write(exit.value.lines.join("\n") + "\n")
  return exit.value.failures === exit.value.total ? 1 : 0
}
