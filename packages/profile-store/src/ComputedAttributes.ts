/**
 * Computed attributes: profile attributes aggregated from experience events
 * by a PQL expression (see `Pql.ts` for the language), with AEP's rules.
 *
 * Definitions
 * - `name` is letters and digits only and unique in the sandbox (whatever its
 *   case); `displayName`, `description`, `expression` (`PQL`, `pql/text`) and
 *   `duration` (HOURS 1–24, DAYS 1–7, WEEKS 1–4, MONTHS 1–6) are required;
 *   a new attribute is `DRAFT` (default) or `NEW` (published).
 * - Lifecycle: `DRAFT` is editable and deletable; publishing (`NEW`) starts
 *   evaluation: `NEW` → `INITIALIZING` (first run) → `PROCESSED`, later runs
 *   `PROCESSED` → `PROCESSING` → `PROCESSED`; an evaluation that breaks ends
 *   `FAILED` (retried on the next run). Any published status can only go to
 *   `DISABLED` (no longer evaluated nor shown); `NEW` may also change
 *   `displayName` and `description`, as Adobe's API guide allows. Read-only
 *   fields (`mergeFunction`, `path`, …) cannot be patched. Only drafts can be
 *   deleted (422 otherwise).
 * - Epochs are milliseconds (as in Adobe's examples); `lastEvaluationTs` is
 *   the UTC time of the last run, formatted as Adobe's examples
 *   (`2023-08-27T00:14:55.028`, no zone), or `""` before the first run.
 * - `path` is `<tenant>/ComputedAttributes`, the tenant being the caller's
 *   org id before `@`, lower-cased, letters and digits only
 *   (`RTCPLOCAL@AdobeOrg` → `rtcplocal`).
 *
 * Evaluation
 * - Values are computed per merged profile: events are grouped by identity
 *   graph when the sandbox's default profile merge policy stitches (`pdg`,
 *   also when there is no default), by identity under `none`; a value is kept
 *   under the XID of that profile (the graph root's XID under `pdg`).
 * - The events considered are those with `now − lookback ≤ timestamp ≤ now`
 *   (rolling window; months by the calendar, UTC). With `keepCurrent` (fast
 *   refresh) a WEEKS or MONTHS window starts at the calendar boundary
 *   (Sunday, the 1st) `count` units before the current week or month, so it
 *   grows during the week or month and rolls back at the next boundary.
 * - A profile with no qualifying event gets no value (no `0` count).
 * - Every run recomputes the whole window (Adobe runs incrementally after
 *   the first run; the difference shows only once events expire).
 * - Runs: when an attribute is published; after store changes
 *   (`BatchSucceeded`, `RecordStreamed`, `DataDeleted`), batched over
 *   `DEBOUNCE` (or four times the previous run's duration when that is
 *   longer); and when an attribute's refresh is due (hourly for HOURS,
 *   daily for DAYS, weekly for WEEKS, monthly for MONTHS; daily with
 *   `keepCurrent`), when it falls due. `evaluateNow` runs at once.
 * - Lookups with `withCA=true` show the values of non-disabled attributes at
 *   `entity._<tenant>.SystemComputedAttributes.<name>` = `{value}`, plus
 *   `timestamp` (ISO) for MOST_RECENT, FIRST and LIST (see `profileValues`).
 *
 * @since 0.1.0
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { randomUUID } from "node:crypto"
import { Clock, Context, Duration, Effect, Either, Layer, Option, Queue, Schema } from "effect"
import { JobLeases } from "./JobLeases.js"
import * as StoreError from "./StoreError.js"
import { invalid, refused } from "./StoreError.js"
import { MergePolicies } from "./MergePolicies.js"
import * as Rows from "./migrations/rows.js"
import * as Pql from "./Pql.js"
import { StoreEvents } from "./StoreEvents.js"

export type Status = "DRAFT" | "NEW" | "INITIALIZING" | "PROCESSING" | "PROCESSED" | "FAILED" | "DISABLED"
export type DurationUnit = "HOURS" | "DAYS" | "WEEKS" | "MONTHS"

export const STATUSES: ReadonlyArray<Status> = ["DRAFT", "NEW", "INITIALIZING", "PROCESSING", "PROCESSED", "FAILED", "DISABLED"]
/** Statuses that are evaluated. */
export const EVALUATED: ReadonlyArray<Status> = ["NEW", "INITIALIZING", "PROCESSING", "PROCESSED", "FAILED"]
/** Largest `duration.count` per unit. */
export const LOOKBACK_LIMITS: Record<DurationUnit, number> = { HOURS: 24, DAYS: 7, WEEKS: 4, MONTHS: 6 }

/** Store changes within this time are evaluated in one run. */
export const DEBOUNCE = Duration.seconds(1)

export const LIST_DEFAULT_LIMIT = 20
export const LIST_MAX_LIMIT = 40

export const PROFILE_SCHEMA = "_xdm.context.profile"
const FIELD_GROUP = "SystemComputedAttributes"

export interface Lookback {
  readonly count: number
  readonly unit: DurationUnit
}

export interface Attribute {
  readonly id: string
  readonly name: string
  readonly displayName: string
  readonly description: string
  readonly imsOrgId: string
  readonly tenant: string
  readonly keepCurrent: boolean
  /** The PQL text. */
  readonly expression: string
  readonly mergeFunction: Pql.MergeFunction
  readonly returnType: string
  readonly duration: Lookback
  readonly status: Status
  /** Epoch ms of the last successful run. */
  readonly lastEvaluationTs: number | undefined
  readonly createEpoch: number
  readonly updateEpoch: number
  readonly createdBy: string
}

/** Who creates an attribute. */
export interface Owner {
  readonly imsOrgId: string
  readonly createdBy: string
}

/** The tenant id of an org, as AEP shows it in paths (`RTCPLOCAL@AdobeOrg` → `rtcplocal`). */
export const tenantOf = (imsOrgId: string): string =>
  imsOrgId.split("@")[0]!.toLowerCase().replace(/[^a-z0-9]/g, "") || "tenant"

const toAttribute = (row: typeof Rows.ComputedAttribute.Type): Attribute => ({
  id: row.id,
  name: row.name,
  displayName: row.display_name,
  description: row.description,
  imsOrgId: row.ims_org_id,
  tenant: row.tenant,
  keepCurrent: row.keep_current,
  expression: row.expression,
  mergeFunction: row.merge_function,
  returnType: row.return_type,
  duration: { count: row.duration_count, unit: row.duration_unit },
  status: row.status,
  lastEvaluationTs: row.last_evaluation_ts ?? undefined,
  createEpoch: row.create_epoch,
  updateEpoch: row.update_epoch,
  createdBy: row.created_by
})

const Key = Schema.Struct({ sandbox: Schema.String, id: Schema.String })
const NameKey = Schema.Struct({ sandbox: Schema.String, nameKey: Schema.String })

// ---------------------------------------------------------------------------
// validation
// ---------------------------------------------------------------------------

const NAME = /^[A-Za-z0-9]+$/

/** What is wrong with an attribute name, if anything. */
export const checkName = (name: string): string | undefined => {
  if (name === "") return "name is required: letters and digits only, e.g. totalSpend7d"
  if (!NAME.test(name)) return `name "${name}" may contain only letters and digits (no spaces, underscores or other characters)`
  if (name.length > 100) return "name may be at most 100 characters long"
  return undefined
}

const checkDisplayName = (displayName: string): string | undefined =>
  displayName.trim() === "" ? "displayName must not be empty" : undefined

interface ParsedExpression {
  readonly text: string
  readonly parsed: Pql.Expression
}

/** The PQL text parsed, or what is wrong with it. */
export const parseExpression = (value: string): ParsedExpression | string => {
  const text = value.trim()
  if (text === "") return "expression.value must hold the PQL text"
  const parsed = Pql.parse(text)
  if (Either.isLeft(parsed)) return `expression.value is not a supported computed attribute expression: ${Pql.describeError(parsed.left, text)}`
  return { text, parsed: parsed.right }
}

/** What is wrong with a lookback, if anything. */
export const checkDuration = (duration: Lookback): string | undefined => {
  const hint = "HOURS 1–24, DAYS 1–7, WEEKS 1–4 or MONTHS 1–6"
  const { count, unit } = duration
  if (!(unit in LOOKBACK_LIMITS)) return `duration.unit must be HOURS, DAYS, WEEKS or MONTHS, not ${JSON.stringify(unit)}`
  const max = LOOKBACK_LIMITS[unit]
  if (!Number.isInteger(count) || count < 1 || count > max) {
    return `duration.count must be a whole number from 1 to ${max} for ${unit}, not ${JSON.stringify(count)} (${hint})`
  }
  return undefined
}

/** A computed attribute as its creator defines it. */
export interface Definition {
  readonly name: string
  readonly displayName: string
  readonly description: string
  /** The PQL text. */
  readonly expression: string
  readonly duration: Lookback
  readonly keepCurrent: boolean
  /** `NEW` publishes it at once. */
  readonly status: "DRAFT" | "NEW"
}

/** What an update changes; the fields left out stay as they are. */
export interface Changes {
  readonly name?: string | undefined
  readonly displayName?: string | undefined
  readonly description?: string | undefined
  /** The PQL text. */
  readonly expression?: string | undefined
  readonly duration?: Lookback | undefined
  readonly keepCurrent?: boolean | undefined
  readonly status?: Status | undefined
}

/** The rules of a definition, in the order a person fixes them; the parsed expression when all hold. */
const checkDefinition = (definition: Definition): ParsedExpression | string => {
  const problem = checkName(definition.name) ?? checkDisplayName(definition.displayName)
  if (problem !== undefined) return problem
  const expression = parseExpression(definition.expression)
  if (typeof expression === "string") return expression
  return checkDuration(definition.duration) ?? expression
}

type Editable = keyof Changes

interface Patched {
  readonly attribute: Attribute
  readonly changed: ReadonlyArray<Editable>
}

/** Applies changes under the lifecycle rules; returns the attribute as it would be, or what is wrong. */
export const applyChanges = (current: Attribute, changes: Changes): Patched | string => {
  let next: { -readonly [K in keyof Attribute]: Attribute[K] } = { ...current }
  const changed: Array<Editable> = []
  if (changes.name !== undefined) {
    const error = checkName(changes.name)
    if (error) return error
    if (changes.name !== current.name) changed.push("name")
    next.name = changes.name
  }
  if (changes.displayName !== undefined) {
    const error = checkDisplayName(changes.displayName)
    if (error) return error
    if (changes.displayName !== current.displayName) changed.push("displayName")
    next.displayName = changes.displayName
  }
  if (changes.description !== undefined) {
    if (changes.description !== current.description) changed.push("description")
    next.description = changes.description
  }
  if (changes.expression !== undefined) {
    const expression = parseExpression(changes.expression)
    if (typeof expression === "string") return expression
    if (expression.text !== current.expression) changed.push("expression")
    next = {
      ...next,
      expression: expression.text,
      mergeFunction: Pql.mergeFunction(expression.parsed),
      returnType: Pql.returnType(expression.parsed)
    }
  }
  if (changes.duration !== undefined) {
    const error = checkDuration(changes.duration)
    if (error) return error
    const duration = changes.duration
    if (duration.count !== current.duration.count || duration.unit !== current.duration.unit) changed.push("duration")
    next.duration = { count: duration.count, unit: duration.unit }
  }
  if (changes.keepCurrent !== undefined) {
    if (changes.keepCurrent !== current.keepCurrent) changed.push("keepCurrent")
    next.keepCurrent = changes.keepCurrent
  }
  if (changes.status !== undefined) {
    if (!STATUSES.includes(changes.status)) return `status must be one of ${STATUSES.join(", ")}`
    if (changes.status !== current.status) changed.push("status")
    next.status = changes.status
  }
  const edits = changed.filter((field) => field !== "status")
  const target = next.status
  switch (current.status) {
    case "DRAFT":
      if (target !== "DRAFT" && target !== "NEW") {
        return `a DRAFT computed attribute can only be published (status NEW), not set to ${target}`
      }
      break
    case "DISABLED":
      if (changed.length > 0) return "a DISABLED computed attribute cannot be changed"
      break
    default: {
      const allowed: ReadonlyArray<Editable> = current.status === "NEW" ? ["displayName", "description"] : []
      const forbidden = edits.find((field) => !allowed.includes(field))
      if (forbidden) {
        return `${forbidden} can only be changed while the computed attribute is a DRAFT; it is ${current.status}, so the only change allowed is ${
          current.status === "NEW" ? "displayName, description or " : ""
        }status DISABLED`
      }
      if (target !== current.status && target !== "DISABLED") {
        return `a ${current.status} computed attribute can only be disabled (status DISABLED), not set to ${target}`
      }
    }
  }
  return { attribute: next, changed }
}

// ---------------------------------------------------------------------------
// list filters
// ---------------------------------------------------------------------------

export interface ListQuery {
  readonly limit?: number | undefined
  readonly offset?: number | undefined
  readonly sortBy?: string | undefined
  /** Repeatable `property` filters (`name=x`, `status=contains(new,processed)`, `updateEpoch>=…`). */
  readonly property?: ReadonlyArray<string> | undefined
  /** Older filter: comma-separated statuses, any case. */
  readonly status?: string | undefined
  /** Older filter: `published` or `draft`. */
  readonly state?: string | undefined
}

export interface ListPage {
  readonly attributes: ReadonlyArray<Attribute>
  readonly offset: number
  readonly limit: number
  readonly totalCount: number
}

type Predicate = (attribute: Attribute) => boolean

const TEXT_FIELDS: Record<string, (a: Attribute) => string> = {
  name: (a) => a.name,
  status: (a) => a.status,
  "mergeFunction.value": (a) => a.mergeFunction,
  // The OpenAPI document's spelling.
  "mergePolicy.value": (a) => a.mergeFunction
}
const EPOCH_FIELDS: Record<string, (a: Attribute) => number> = {
  createEpoch: (a) => a.createEpoch,
  createdEpoch: (a) => a.createEpoch,
  updateEpoch: (a) => a.updateEpoch
}
const PROPERTY = /^([A-Za-z.]+)(>=|<=|!=|=)(.*)$/
const CONTAINS = /^(!?)contains\((.*)\)$/i

/** One `property` filter, or what is wrong with it. */
export const parseProperty = (raw: string): Predicate | string => {
  const match = PROPERTY.exec(raw.trim())
  const fields = [...Object.keys(TEXT_FIELDS), ...Object.keys(EPOCH_FIELDS)].join(", ")
  if (!match) return `property "${raw}" must look like <field><op><value>, e.g. name=total or updateEpoch>=1683669114845 (fields: ${fields})`
  const [, field, op, value] = match as unknown as [string, string, string, string]
  const text = TEXT_FIELDS[field]
  if (text) {
    const contains = CONTAINS.exec(value)
    if (contains && (op === "=" || op === "!=")) {
      const items = contains[2]!.split(",").map((item) => item.trim().toLowerCase()).filter((item) => item !== "")
      if (items.length === 0) return `property "${raw}": contains(...) needs at least one value`
      const negated = (contains[1] === "!") !== (op === "!=")
      return (a) => items.some((item) => text(a).toLowerCase().includes(item)) !== negated
    }
    if (op !== "=" && op !== "!=") return `property "${raw}": ${field} takes =, !=, =contains(a,b) or =!contains(a,b)`
    const expected = value.trim().toLowerCase()
    return (a) => (text(a).toLowerCase() === expected) === (op === "=")
  }
  const epoch = EPOCH_FIELDS[field]
  if (epoch) {
    if (op !== ">=" && op !== "<=" && op !== "=") return `property "${raw}": ${field} takes >= or <=`
    const bound = Number(value.trim())
    if (value.trim() === "" || !Number.isFinite(bound)) return `property "${raw}": ${field} needs an epoch in milliseconds`
    return op === ">=" ? (a) => epoch(a) >= bound : op === "<=" ? (a) => epoch(a) <= bound : (a) => epoch(a) === bound
  }
  return `property "${raw}": cannot filter on ${field}; use ${fields}`
}

const SORTABLE: Record<string, (a: Attribute) => string | number> = {
  name: (a) => a.name.toLowerCase(),
  status: (a) => a.status,
  updateEpoch: (a) => a.updateEpoch,
  createEpoch: (a) => a.createEpoch,
  createdEpoch: (a) => a.createEpoch
}

// ---------------------------------------------------------------------------
// evaluation windows
// ---------------------------------------------------------------------------

const UNIT: Record<DurationUnit, Pql.TimeUnit> = { HOURS: "hours", DAYS: "days", WEEKS: "weeks", MONTHS: "months" }

/** Start (epoch ms, inclusive) of the events an attribute considers at `now`; the window ends at `now`. */
export const windowStart = (duration: Lookback, keepCurrent: boolean, now: number): number => {
  const unit = UNIT[duration.unit]
  if (keepCurrent && (duration.unit === "WEEKS" || duration.unit === "MONTHS")) {
    return Pql.before(Pql.startOf(now, unit), duration.count, unit)
  }
  return Pql.before(now, duration.count, unit)
}

/** Time between refreshes (the refresh frequency of the lookback, daily under fast refresh). */
export const refreshPeriod = (duration: Lookback, keepCurrent: boolean): Duration.Duration => {
  switch (duration.unit) {
    case "HOURS":
      return Duration.hours(1)
    case "DAYS":
      return Duration.days(1)
    case "WEEKS":
      return keepCurrent ? Duration.days(1) : Duration.weeks(1)
    case "MONTHS":
      return keepCurrent ? Duration.days(1) : Duration.days(30)
  }
}

// ---------------------------------------------------------------------------
// values in lookups
// ---------------------------------------------------------------------------

/**
 * The computed attribute values of one profile (by XID), nested where
 * lookups show them: `{ _<tenant>: { SystemComputedAttributes: { <name>: {value, timestamp?} } } }`.
 * Disabled attributes are left out. Empty when the profile has none.
 */
export const profileValues = (sql: SqlClient.SqlClient, sandbox: string, xid: string) =>
  sql<Pick<Rows.ComputedAttributeValue, "value" | "value_ts"> & { readonly name: string; readonly tenant: string }>`SELECT a.name, a.tenant, v.value, v.value_ts FROM computed_attribute_values v
    JOIN computed_attributes a ON a.sandbox = v.sandbox AND a.id = v.attribute_id
    WHERE v.sandbox = ${sandbox} AND v.xid = ${xid} AND a.status <> ${"DISABLED"} AND a.status <> ${"DRAFT"}
    ORDER BY a.name`.pipe(
    Effect.map((rows) => {
      const out: Record<string, Record<string, Record<string, unknown>>> = {}
      for (const row of rows) {
        const group = ((out[`_${row.tenant}`] ??= {})[FIELD_GROUP] ??= {})
        group[row.name] = {
          value: JSON.parse(row.value),
          ...(row.value_ts === null ? {} : { timestamp: new Date(Number(row.value_ts)).toISOString() })
        }
      }
      return out as Record<string, unknown>
    }),
    Effect.orDie
  )

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

export interface EvaluationReport {
  readonly sandbox: string
  /** Epoch ms the run evaluated at. */
  readonly at: number
  readonly attributes: ReadonlyArray<{ readonly id: string; readonly name: string; readonly profiles: number }>
}

export class ComputedAttributes extends Context.Tag("@rtcp/profile-store/ComputedAttributes")<
  ComputedAttributes,
  {
    readonly list: (sandbox: string, query: ListQuery) => Effect.Effect<ListPage, StoreError.InvalidInput>
    readonly get: (sandbox: string, id: string) => Effect.Effect<Attribute, StoreError.ComputedAttributeNotFound>
    readonly create: (
      sandbox: string,
      definition: Definition,
      owner: Owner
    ) => Effect.Effect<Attribute, StoreError.InvalidInput | StoreError.AttributeNameTaken>
    readonly patch: (
      sandbox: string,
      id: string,
      changes: Changes
    ) => Effect.Effect<Attribute, StoreError.InvalidInput | StoreError.AttributeNameTaken | StoreError.ComputedAttributeNotFound>
    /** Deletes a DRAFT and answers it; published attributes answer 422. */
    readonly remove: (sandbox: string, id: string) => Effect.Effect<Attribute, StoreError.ComputedAttributeNotFound | StoreError.Refused>
    /**
     * Evaluates every published attribute of `sandbox` (of every sandbox when
     * undefined) now, and answers what was written. Tests call it instead of
     * waiting for the background job.
     */
    readonly evaluateNow: (sandbox?: string) => Effect.Effect<ReadonlyArray<EvaluationReport>>
  }
>() {}

const CHUNK = 2_000

/** An event as evaluation reads it, with the XIDs of its identity and of its graph's root. */
type EvaluatedEvent = Pick<Rows.Event, "dataset_id" | "id" | "ts" | "data"> & { readonly own_xid: string; readonly root_xid: string }

export const layer = Layer.scoped(
  ComputedAttributes,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const policies = yield* MergePolicies
    const storeEvents = yield* StoreEvents
    const turn = yield* Effect.makeSemaphore(1)
    const leases = yield* JobLeases

    const selectAll = SqlSchema.findAll({
      Request: Schema.String,
      Result: Rows.ComputedAttribute,
      execute: (sandbox) => sql`SELECT * FROM computed_attributes WHERE sandbox = ${sandbox}`
    })
    const all = (sandbox: string) => selectAll(sandbox).pipe(Effect.map((rows) => rows.map(toAttribute)), Effect.orDie)

    const selectOne = SqlSchema.findOne({
      Request: Key,
      Result: Rows.ComputedAttribute,
      execute: ({ sandbox, id }) => sql`SELECT * FROM computed_attributes WHERE sandbox = ${sandbox} AND id = ${id}`
    })
    const get = (sandbox: string, id: string) =>
      selectOne({ sandbox, id }).pipe(
        Effect.orDie,
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.fail(new StoreError.ComputedAttributeNotFound({ sandbox, id })),
            onSome: (row) => Effect.succeed(toAttribute(row))
          })
        )
      )

    const selectByName = SqlSchema.findAll({
      Request: NameKey,
      Result: Rows.ComputedAttribute.pipe(Schema.pick("id", "name")),
      execute: ({ sandbox, nameKey }) => sql`SELECT id, name FROM computed_attributes WHERE sandbox = ${sandbox} AND name_key = ${nameKey}`
    })
    const nameTaken = (sandbox: string, name: string, except: string | undefined) =>
      selectByName({ sandbox, nameKey: name.toLowerCase() }).pipe(
        Effect.map((rows) => rows.find((row) => row.id !== except)),
        Effect.orDie,
        Effect.flatMap((other) =>
          other === undefined
            ? Effect.void
            : Effect.fail(new StoreError.AttributeNameTaken({ sandbox, name: other.name, id: other.id }))
        )
      )

    // -- evaluation ----------------------------------------------------------

    /** Evaluates `selected` attributes of one sandbox and stores their values. */
    const run = (sandbox: string, select: (attribute: Attribute, now: number) => boolean) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const candidates = (yield* all(sandbox)).filter((a) => EVALUATED.includes(a.status) && select(a, now))
        if (candidates.length === 0) return { sandbox, at: now, attributes: [] } satisfies EvaluationReport
        const jobs: Array<{ attribute: Attribute; expression: Pql.Expression; start: number; values: Map<string, Pql.Accumulator> }> = []
        for (const attribute of candidates) {
          const parsed = Pql.parse(attribute.expression)
          if (Either.isLeft(parsed)) {
            // Only possible if the stored text predates a parser change.
            yield* sql`UPDATE computed_attributes SET status = ${"FAILED"} WHERE sandbox = ${sandbox} AND id = ${attribute.id}`.pipe(Effect.orDie)
            continue
          }
          jobs.push({ attribute, expression: parsed.right, start: windowStart(attribute.duration, attribute.keepCurrent, now), values: new Map() })
        }
        const ids = jobs.map((job) => job.attribute.id)
        if (ids.length === 0) return { sandbox, at: now, attributes: [] } satisfies EvaluationReport
        yield* sql`UPDATE computed_attributes SET status = CASE WHEN status = ${"NEW"} THEN ${"INITIALIZING"} ELSE ${"PROCESSING"} END
          WHERE sandbox = ${sandbox} AND ${sql.in("id", ids)} AND status <> ${"DISABLED"}`.pipe(Effect.orDie)

        const policy = yield* Effect.option(policies.resolve(sandbox, undefined, PROFILE_SCHEMA))
        const stitched = Option.match(policy, { onNone: () => true, onSome: (p) => p.identityGraph === "pdg" })
        const from = Math.min(...jobs.map((job) => job.start))
        let after: { dataset: string; id: string } | undefined
        for (;;) {
          const continuation = after
            ? sql`AND (e.dataset_id, e.id) > (${after.dataset}, ${after.id})`
            : sql``
          const rows = yield* sql<EvaluatedEvent>`SELECT e.dataset_id, e.id, e.ts, e.data, i.xid AS own_xid, r.xid AS root_xid
            FROM events e JOIN identities i ON i.id = e.identity_id JOIN identities r ON r.id = i.graph_id
            WHERE e.sandbox = ${sandbox} AND e.ts >= ${from} AND e.ts <= ${now} ${continuation}
            ORDER BY e.dataset_id, e.id LIMIT ${CHUNK}`.pipe(Effect.orDie)
          for (const row of rows) {
            const event: Pql.Event = { ts: Number(row.ts), data: JSON.parse(row.data), datasetId: row.dataset_id, id: row.id }
            const xid = stitched ? row.root_xid : row.own_xid
            for (const job of jobs) {
              if (event.ts < job.start) continue
              if (job.expression.filter !== undefined && !Pql.matches(job.expression.filter, event, now)) continue
              let acc = job.values.get(xid)
              if (acc === undefined) {
                acc = Pql.accumulator(job.expression.aggregate)
                job.values.set(xid, acc)
              }
              acc.add(event)
            }
          }
          if (rows.length < CHUNK) break
          const last = rows[rows.length - 1]!
          after = { dataset: last.dataset_id, id: last.id }
        }

        const report: Array<{ id: string; name: string; profiles: number }> = []
        yield* Effect.gen(function* () {
          for (const job of jobs) {
            const id = job.attribute.id
            yield* sql`DELETE FROM computed_attribute_values WHERE sandbox = ${sandbox} AND attribute_id = ${id}`
            const rows: Array<Record<string, unknown>> = []
            for (const [xid, acc] of job.values) {
              const result = acc.result()
              if (result === undefined) continue
              rows.push({
                sandbox,
                attribute_id: id,
                xid,
                value: JSON.stringify(result.value),
                value_ts: result.timestamp ?? null,
                evaluated_at: now
              })
            }
            for (let i = 0; i < rows.length; i += 500) {
              yield* sql`INSERT INTO computed_attribute_values ${sql.insert(rows.slice(i, i + 500))}`
            }
            yield* sql`UPDATE computed_attributes SET status = ${"PROCESSED"}, last_evaluation_ts = ${now}
              WHERE sandbox = ${sandbox} AND id = ${id} AND status IN (${"INITIALIZING"}, ${"PROCESSING"})`
            report.push({ id, name: job.attribute.name, profiles: rows.length })
          }
        }).pipe(sql.withTransaction, Effect.orDie)
        return { sandbox, at: now, attributes: report } satisfies EvaluationReport
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.gen(function* () {
            yield* Effect.logWarning(`computed attribute evaluation failed in sandbox ${sandbox}`, cause)
            yield* sql`UPDATE computed_attributes SET status = ${"FAILED"}
              WHERE sandbox = ${sandbox} AND status IN (${"INITIALIZING"}, ${"PROCESSING"})`.pipe(Effect.ignore)
            return { sandbox, at: yield* Clock.currentTimeMillis, attributes: [] } satisfies EvaluationReport
          })
        ),
        // One evaluation of a sandbox at a time, across the processes sharing the database too.
        (work) => turn.withPermits(1)(leases.inTurn(`computed-attributes:${sandbox}`, work))
      )

    const sandboxesWithWork = sql<{ readonly sandbox: string }>`SELECT DISTINCT sandbox FROM computed_attributes WHERE ${sql.in("status", [...EVALUATED])}`.pipe(
      Effect.map((rows) => rows.map((row) => row.sandbox)),
      Effect.orDie
    )

    const evaluateNow = (sandbox?: string) =>
      Effect.gen(function* () {
        const sandboxes = sandbox === undefined ? yield* sandboxesWithWork : [sandbox]
        const reports = yield* Effect.forEach(sandboxes, (s) => run(s, () => true))
        yield* Queue.offer(rescheduled, undefined)
        return reports
      })

    /** Evaluated attributes whose refresh period has passed (never-evaluated ones go through `wake`). */
    const due = (attribute: Attribute, now: number) =>
      attribute.lastEvaluationTs !== undefined &&
      now - attribute.lastEvaluationTs >= Duration.toMillis(refreshPeriod(attribute.duration, attribute.keepCurrent))

    /**
     * When the next refresh falls due, over every sandbox; none when nothing
     * has been evaluated yet. FAILED attributes wait for the next change
     * instead, so a broken one cannot spin the loop.
     */
    const nextRefresh = SqlSchema.findAll({
      Request: Schema.Void,
      Result: Rows.ComputedAttribute.pipe(Schema.pick("duration_count", "duration_unit", "keep_current", "last_evaluation_ts")),
      execute: () => sql`SELECT duration_count, duration_unit, keep_current, last_evaluation_ts FROM computed_attributes
        WHERE ${sql.in("status", ["NEW", "INITIALIZING", "PROCESSING", "PROCESSED"])} AND last_evaluation_ts IS NOT NULL`
    })(undefined).pipe(
      Effect.map((rows) =>
        rows.reduce<number | undefined>((earliest, row) => {
          const at =
            (row.last_evaluation_ts ?? 0) +
            Duration.toMillis(refreshPeriod({ count: row.duration_count, unit: row.duration_unit }, row.keep_current))
          return earliest === undefined || at < earliest ? at : earliest
        }, undefined)
      ),
      Effect.orDie
    )

    // -- background: debounced runs after changes, and due refreshes --------
    //
    // Nothing sleeps unless there is work: the debounce only after a change,
    // the refresh loop only until the next refresh is due (and it wakes up when
    // the schedule may have changed). So a store with no published attribute
    // never holds a timer, and moving a test clock far ahead costs one step
    // per due refresh, not one per hour.

    const wake = yield* Queue.unbounded<string>()
    const rescheduled = yield* Queue.sliding<void>(1)
    const changes = yield* storeEvents.subscribe
    yield* Effect.forkScoped(
      Effect.forever(Effect.flatMap(Queue.take(changes), (event) => Queue.offer(wake, event.sandbox)))
    )
    let lastRunMillis = 0
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          const first = yield* Queue.take(wake)
          // A run that took long waits longer before the next, so a busy stream
          // of records cannot keep the store re-evaluating.
          yield* Effect.sleep(Duration.max(DEBOUNCE, Duration.millis(4 * lastRunMillis)))
          const rest = yield* Queue.takeAll(wake)
          const started = yield* Clock.currentTimeMillis
          for (const sandbox of new Set([first, ...rest])) yield* run(sandbox, () => true)
          lastRunMillis = (yield* Clock.currentTimeMillis) - started
          yield* Queue.offer(rescheduled, undefined)
        })
      )
    )
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          const next = yield* nextRefresh
          if (next === undefined) return yield* Queue.take(rescheduled)
          const now = yield* Clock.currentTimeMillis
          if (next > now) {
            const woken = yield* Effect.race(
              Effect.as(Effect.sleep(Duration.millis(next - now)), "due" as const),
              Effect.as(Queue.take(rescheduled), "rescheduled" as const)
            )
            if (woken === "rescheduled") return
          }
          for (const sandbox of yield* sandboxesWithWork) yield* run(sandbox, due)
        })
      )
    )
    // Attributes published but never evaluated, or whose run was cut short, before a restart.
    const unfinished = yield* sql<{ readonly sandbox: string }>`SELECT DISTINCT sandbox FROM computed_attributes
      WHERE ${sql.in("status", ["NEW", "INITIALIZING", "PROCESSING"])}`.pipe(Effect.orDie)
    for (const row of unfinished) yield* Queue.offer(wake, row.sandbox)
    // An evaluation whose process died mid-run (its lease ran out unreleased)
    // is run again here: the changes that would have woken this process were
    // the dead one's.
    if (leases.shared) {
      const prefix = "computed-attributes:"
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.gen(function* () {
            yield* leases.pause
            for (const job of yield* leases.abandoned(prefix)) {
              yield* Effect.logInfo(`taking over the computed attribute evaluation of sandbox ${job.slice(prefix.length)}, left by a process that stopped`)
              yield* run(job.slice(prefix.length), () => true)
              yield* Queue.offer(rescheduled, undefined)
            }
          })
        )
      )
    }

    // -- CRUD ------------------------------------------------------------------

    return ComputedAttributes.of({
      list: (sandbox, query) =>
        Effect.gen(function* () {
          const limit = query.limit ?? LIST_DEFAULT_LIMIT
          if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX_LIMIT) {
            return yield* invalid(`limit must be a whole number from 1 to ${LIST_MAX_LIMIT}`)
          }
          const offset = query.offset ?? 0
          if (!Number.isInteger(offset) || offset < 0) return yield* invalid("offset must be a whole number of at least 0")
          const sortBy = (query.sortBy ?? "-updateEpoch").trim()
          const descending = sortBy.startsWith("-")
          const key = SORTABLE[sortBy.replace(/^[+-]/, "")]
          if (!key) return yield* invalid(`sortBy "${sortBy}" is not supported: use name, status, updateEpoch or createEpoch, with - for descending`)
          const predicates: Array<Predicate> = []
          for (const raw of query.property ?? []) {
            const parsed = parseProperty(raw)
            if (typeof parsed === "string") return yield* invalid(parsed)
            predicates.push(parsed)
          }
          if (query.status !== undefined) {
            const wanted = query.status.split(",").map((s) => s.trim().toUpperCase()).filter((s) => s !== "")
            const unknown = wanted.find((s) => !STATUSES.includes(s as Status))
            if (wanted.length === 0 || unknown !== undefined) {
              return yield* invalid(`status "${query.status}" is not one of ${STATUSES.map((s) => s.toLowerCase()).join(", ")}`)
            }
            predicates.push((a) => wanted.includes(a.status))
          }
          if (query.state !== undefined) {
            const state = query.state.trim().toLowerCase()
            if (state !== "published" && state !== "draft") return yield* invalid(`state must be published or draft, not "${query.state}"`)
            predicates.push((a) => (a.status === "DRAFT") === (state === "draft"))
          }
          const matching = (yield* all(sandbox))
            .filter((a) => predicates.every((p) => p(a)))
            .sort((a, b) => {
              const [x, y] = [key(a), key(b)]
              const order = x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1
              return descending ? -order : order
            })
          return { attributes: matching.slice(offset, offset + limit), offset, limit, totalCount: matching.length }
        }),
      get,
      create: (sandbox, draft, owner) =>
        Effect.gen(function* () {
          const expression = checkDefinition(draft)
          if (typeof expression === "string") return yield* invalid(expression, "Invalid computed attribute")
          yield* nameTaken(sandbox, draft.name, undefined)
          const now = yield* Clock.currentTimeMillis
          const id = randomUUID()
          yield* sql`INSERT INTO computed_attributes ${sql.insert({
            sandbox,
            id,
            name: draft.name,
            name_key: draft.name.toLowerCase(),
            display_name: draft.displayName,
            description: draft.description,
            ims_org_id: owner.imsOrgId,
            tenant: tenantOf(owner.imsOrgId),
            keep_current: draft.keepCurrent ? 1 : 0,
            expression: expression.text,
            merge_function: Pql.mergeFunction(expression.parsed),
            return_type: Pql.returnType(expression.parsed),
            duration_count: draft.duration.count,
            duration_unit: draft.duration.unit,
            status: draft.status,
            last_evaluation_ts: null,
            create_epoch: now,
            update_epoch: now,
            created_by: owner.createdBy
          })}`.pipe(Effect.orDie)
          if (draft.status === "NEW") yield* Queue.offer(wake, sandbox)
          return yield* Effect.orDie(get(sandbox, id))
        }),
      patch: (sandbox, id, changes) =>
        Effect.gen(function* () {
          const current = yield* get(sandbox, id)
          const patched = applyChanges(current, changes)
          if (typeof patched === "string") return yield* invalid(patched, "Invalid computed attribute update")
          if (patched.changed.length === 0) return current
          const next = patched.attribute
          if (patched.changed.includes("name")) yield* nameTaken(sandbox, next.name, id)
          const now = yield* Clock.currentTimeMillis
          yield* Effect.gen(function* () {
            yield* sql`UPDATE computed_attributes SET ${sql.update({
              name: next.name,
              name_key: next.name.toLowerCase(),
              display_name: next.displayName,
              description: next.description,
              keep_current: next.keepCurrent ? 1 : 0,
              expression: next.expression,
              merge_function: next.mergeFunction,
              return_type: next.returnType,
              duration_count: next.duration.count,
              duration_unit: next.duration.unit,
              status: next.status,
              update_epoch: now
            })} WHERE sandbox = ${sandbox} AND id = ${id}`
            if (next.status === "DISABLED") {
              yield* sql`DELETE FROM computed_attribute_values WHERE sandbox = ${sandbox} AND attribute_id = ${id}`
            }
          }).pipe(sql.withTransaction, Effect.orDie)
          if (current.status === "DRAFT" && next.status === "NEW") yield* Queue.offer(wake, sandbox)
          return yield* Effect.orDie(get(sandbox, id))
        }),
      remove: (sandbox, id) =>
        Effect.gen(function* () {
          const attribute = yield* get(sandbox, id)
          if (attribute.status !== "DRAFT") {
            return yield* refused(
              `Computed attribute "${attribute.name}" is ${attribute.status}: only DRAFT computed attributes can be deleted. ` +
                `Disable it instead with PATCH {"status": "DISABLED"}.`,
              "Computed attribute is published"
            )
          }
          yield* Effect.gen(function* () {
            yield* sql`DELETE FROM computed_attribute_values WHERE sandbox = ${sandbox} AND attribute_id = ${id}`
            yield* sql`DELETE FROM computed_attributes WHERE sandbox = ${sandbox} AND id = ${id}`
          }).pipe(sql.withTransaction, Effect.orDie)
          return attribute
        }),
      evaluateNow
    })
  })
)
