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
import { SqlClient } from "@effect/sql"
import { randomUUID } from "node:crypto"
import { Clock, Context, Duration, Effect, Either, Layer, Option, Queue } from "effect"
import { JobLeases } from "./JobLeases.js"
import * as StoreError from "./StoreError.js"
import { invalid, refused } from "./StoreError.js"
import { MergePolicies } from "./MergePolicies.js"
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

const toAttribute = (row: any): Attribute => ({
  id: row.id,
  name: row.name,
  displayName: row.display_name,
  description: row.description,
  imsOrgId: row.ims_org_id,
  tenant: row.tenant,
  keepCurrent: Boolean(Number(row.keep_current)),
  expression: row.expression,
  mergeFunction: row.merge_function,
  returnType: row.return_type,
  duration: { count: Number(row.duration_count), unit: row.duration_unit },
  status: row.status,
  lastEvaluationTs: row.last_evaluation_ts === null || row.last_evaluation_ts === undefined ? undefined : Number(row.last_evaluation_ts),
  createEpoch: Number(row.create_epoch),
  updateEpoch: Number(row.update_epoch),
  createdBy: row.created_by
})

// ---------------------------------------------------------------------------
// validation
// ---------------------------------------------------------------------------

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const NAME = /^[A-Za-z0-9]+$/

const checkName = (name: unknown): string | undefined => {
  if (typeof name !== "string" || name === "") return "name is required: letters and digits only, e.g. totalSpend7d"
  if (!NAME.test(name)) return `name "${name}" may contain only letters and digits (no spaces, underscores or other characters)`
  if (name.length > 100) return "name may be at most 100 characters long"
  return undefined
}

const checkText = (field: "displayName" | "description", value: unknown): string | undefined => {
  if (typeof value !== "string") return `${field} is required and must be a string`
  if (field === "displayName" && value.trim() === "") return "displayName must not be empty"
  return undefined
}

interface ParsedExpression {
  readonly text: string
  readonly parsed: Pql.Expression
}

export const checkExpression = (expression: unknown): ParsedExpression | string => {
  if (!isObject(expression)) {
    return 'expression is required: {"type": "PQL", "format": "pql/text", "value": "xEvent[...].sum(...)"}'
  }
  if (typeof expression.type !== "string" || expression.type.toUpperCase() !== "PQL") {
    return `expression.type must be "PQL"${expression.type === undefined ? "" : `, not ${JSON.stringify(expression.type)}`}`
  }
  if (typeof expression.format !== "string" || expression.format.toLowerCase() !== "pql/text") {
    return `expression.format must be "pql/text"${expression.format === undefined ? "" : `, not ${JSON.stringify(expression.format)}`}`
  }
  if (typeof expression.value !== "string" || expression.value.trim() === "") return "expression.value must hold the PQL text"
  const text = expression.value.trim()
  const parsed = Pql.parse(text)
  if (Either.isLeft(parsed)) return `expression.value is not a supported computed attribute expression: ${Pql.describeError(parsed.left, text)}`
  return { text, parsed: parsed.right }
}

export const checkDuration = (duration: unknown): Lookback | string => {
  const hint = "HOURS 1–24, DAYS 1–7, WEEKS 1–4 or MONTHS 1–6"
  if (!isObject(duration)) return `duration is required: {"count": 7, "unit": "DAYS"} (${hint})`
  const unit = typeof duration.unit === "string" ? duration.unit.toUpperCase() : undefined
  if (unit === undefined || !(unit in LOOKBACK_LIMITS)) {
    return `duration.unit must be HOURS, DAYS, WEEKS or MONTHS${duration.unit === undefined ? "" : `, not ${JSON.stringify(duration.unit)}`}`
  }
  const max = LOOKBACK_LIMITS[unit as DurationUnit]
  const count = duration.count
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > max) {
    return `duration.count must be a whole number from 1 to ${max} for ${unit}${count === undefined ? "" : `, not ${JSON.stringify(count)}`} (${hint})`
  }
  return { count, unit: unit as DurationUnit }
}

interface Draft {
  readonly name: string
  readonly displayName: string
  readonly description: string
  readonly expression: ParsedExpression
  readonly duration: Lookback
  readonly keepCurrent: boolean
  readonly status: "DRAFT" | "NEW"
}

/** Checks a create body; every message says what to fix. */
export const validate = (input: unknown): Draft | string => {
  if (!isObject(input)) return "the body must be a computed attribute object"
  const nameError = checkName(input.name)
  if (nameError) return nameError
  const textError = checkText("displayName", input.displayName) ?? checkText("description", input.description)
  if (textError) return textError
  const expression = checkExpression(input.expression)
  if (typeof expression === "string") return expression
  const duration = checkDuration(input.duration)
  if (typeof duration === "string") return duration
  if (input.keepCurrent !== undefined && typeof input.keepCurrent !== "boolean") return "keepCurrent must be true or false"
  const status = input.status === undefined ? "DRAFT" : typeof input.status === "string" ? input.status.toUpperCase() : undefined
  if (status !== "DRAFT" && status !== "NEW") {
    return `status must be DRAFT or NEW (publish) when creating, not ${JSON.stringify(input.status)}`
  }
  if (input.schema !== undefined && !(isObject(input.schema) && input.schema.name === PROFILE_SCHEMA)) {
    return `schema.name must be ${PROFILE_SCHEMA}: computed attributes are profile attributes`
  }
  return {
    name: input.name as string,
    displayName: input.displayName as string,
    description: input.description as string,
    expression,
    duration,
    keepCurrent: input.keepCurrent === true,
    status
  }
}

/** Fields a PATCH may name; the rest of an answer is read-only. */
export const EDITABLE_FIELDS = ["name", "displayName", "description", "expression", "duration", "keepCurrent", "status"] as const
export const SYSTEM_FIELDS = [
  "id",
  "type",
  "imsOrgId",
  "sandbox",
  "path",
  "positionPath",
  "mergeFunction",
  "schema",
  "returnSchema",
  "definedOn",
  "lastEvaluationTs",
  "createEpoch",
  "updateEpoch",
  "createdBy"
] as const

type Editable = (typeof EDITABLE_FIELDS)[number]

interface Patched {
  readonly attribute: Attribute
  readonly changed: ReadonlyArray<Editable>
}

/** Applies a PATCH body under the lifecycle rules; returns the attribute as it would be, or what is wrong. */
export const applyPatch = (current: Attribute, body: unknown): Patched | string => {
  if (!isObject(body)) return "the body must be a JSON object with the fields to change"
  const keys = Object.keys(body)
  if (keys.length === 0) return `the patch is empty: send the fields to change (${EDITABLE_FIELDS.join(", ")})`
  for (const key of keys) {
    if ((SYSTEM_FIELDS as ReadonlyArray<string>).includes(key)) return `${key} is a system field and cannot be changed`
    if (!(EDITABLE_FIELDS as ReadonlyArray<string>).includes(key)) {
      return `${key} is not a field of a computed attribute; a patch may change ${EDITABLE_FIELDS.join(", ")}`
    }
  }
  let next: { -readonly [K in keyof Attribute]: Attribute[K] } = { ...current }
  const changed: Array<Editable> = []
  if (body.name !== undefined) {
    const error = checkName(body.name)
    if (error) return error
    if (body.name !== current.name) changed.push("name")
    next.name = body.name as string
  }
  for (const field of ["displayName", "description"] as const) {
    if (body[field] === undefined) continue
    const error = checkText(field, body[field])
    if (error) return error
    if (body[field] !== current[field]) changed.push(field)
    next[field] = body[field] as string
  }
  if (body.expression !== undefined) {
    const expression = checkExpression(body.expression)
    if (typeof expression === "string") return expression
    if (expression.text !== current.expression) changed.push("expression")
    next = {
      ...next,
      expression: expression.text,
      mergeFunction: Pql.mergeFunction(expression.parsed),
      returnType: Pql.returnType(expression.parsed)
    }
  }
  if (body.duration !== undefined) {
    const duration = checkDuration(body.duration)
    if (typeof duration === "string") return duration
    if (duration.count !== current.duration.count || duration.unit !== current.duration.unit) changed.push("duration")
    next.duration = duration
  }
  if (body.keepCurrent !== undefined) {
    if (typeof body.keepCurrent !== "boolean") return "keepCurrent must be true or false"
    if (body.keepCurrent !== current.keepCurrent) changed.push("keepCurrent")
    next.keepCurrent = body.keepCurrent
  }
  if (body.status !== undefined) {
    const status = typeof body.status === "string" ? (body.status.toUpperCase() as Status) : undefined
    if (status === undefined || !STATUSES.includes(status)) return `status must be one of ${STATUSES.join(", ")}`
    if (status !== current.status) changed.push("status")
    next.status = status
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
  sql`SELECT a.name, a.tenant, v.value, v.value_ts FROM computed_attribute_values v
    JOIN computed_attributes a ON a.sandbox = v.sandbox AND a.id = v.attribute_id
    WHERE v.sandbox = ${sandbox} AND v.xid = ${xid} AND a.status <> ${"DISABLED"} AND a.status <> ${"DRAFT"}
    ORDER BY a.name`.pipe(
    Effect.map((rows) => {
      const out: Record<string, Record<string, Record<string, unknown>>> = {}
      for (const row of rows as any) {
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
    readonly create: (sandbox: string, input: unknown, owner: Owner) => Effect.Effect<Attribute, StoreError.InvalidInput>
    readonly patch: (
      sandbox: string,
      id: string,
      body: unknown
    ) => Effect.Effect<Attribute, StoreError.InvalidInput | StoreError.ComputedAttributeNotFound>
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

export const layer = Layer.scoped(
  ComputedAttributes,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const policies = yield* MergePolicies
    const storeEvents = yield* StoreEvents
    const turn = yield* Effect.makeSemaphore(1)
    const leases = yield* JobLeases

    const all = (sandbox: string) =>
      sql`SELECT * FROM computed_attributes WHERE sandbox = ${sandbox}`.pipe(Effect.map((rows) => rows.map(toAttribute)), Effect.orDie)

    const get = (sandbox: string, id: string) =>
      sql`SELECT * FROM computed_attributes WHERE sandbox = ${sandbox} AND id = ${id}`.pipe(
        Effect.orDie,
        Effect.flatMap((rows) =>
          rows.length === 0
            ? Effect.fail(new StoreError.ComputedAttributeNotFound({ sandbox, id }))
            : Effect.succeed(toAttribute(rows[0]))
        )
      )

    const nameTaken = (sandbox: string, name: string, except: string | undefined) =>
      sql`SELECT id, name FROM computed_attributes WHERE sandbox = ${sandbox} AND name_key = ${name.toLowerCase()}`.pipe(
        Effect.map((rows) => (rows as any).find((row: any) => row.id !== except) as { id: string; name: string } | undefined),
        Effect.orDie,
        Effect.flatMap((other) =>
          other === undefined
            ? Effect.void
            : Effect.fail(
                invalid(
                  `Function with the same name already exists for the specified schema or definedOn: computed attribute "${other.name}" (${other.id}) in sandbox "${sandbox}"`,
                  "Duplicate computed attribute name"
                )
              )
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
          const rows: ReadonlyArray<any> = yield* sql`SELECT e.dataset_id, e.id, e.ts, e.data, i.xid AS own_xid, r.xid AS root_xid
            FROM events e JOIN identities i ON i.id = e.identity_id JOIN identities r ON r.id = i.graph_id
            WHERE e.sandbox = ${sandbox} AND e.ts >= ${from} AND e.ts <= ${now} ${continuation}
            ORDER BY e.dataset_id, e.id LIMIT ${CHUNK}`.pipe(Effect.orDie)
          for (const row of rows) {
            const event: Pql.Event = { ts: Number(row.ts), data: JSON.parse(row.data), datasetId: row.dataset_id, id: row.id }
            const xid: string = stitched ? row.root_xid : row.own_xid
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
          const last = rows[rows.length - 1]
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

    const sandboxesWithWork = sql`SELECT DISTINCT sandbox FROM computed_attributes WHERE ${sql.in("status", [...EVALUATED])}`.pipe(
      Effect.map((rows) => rows.map((row: any) => row.sandbox as string)),
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
    const nextRefresh = sql`SELECT duration_count, duration_unit, keep_current, last_evaluation_ts FROM computed_attributes
      WHERE ${sql.in("status", ["NEW", "INITIALIZING", "PROCESSING", "PROCESSED"])} AND last_evaluation_ts IS NOT NULL`.pipe(
      Effect.map((rows) =>
        rows.reduce<number | undefined>((earliest, row: any) => {
          const at =
            Number(row.last_evaluation_ts) +
            Duration.toMillis(
              refreshPeriod({ count: Number(row.duration_count), unit: row.duration_unit }, Boolean(Number(row.keep_current)))
            )
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
    const unfinished = yield* sql`SELECT DISTINCT sandbox FROM computed_attributes
      WHERE ${sql.in("status", ["NEW", "INITIALIZING", "PROCESSING"])}`.pipe(Effect.orDie)
    for (const row of unfinished as any) yield* Queue.offer(wake, row.sandbox as string)

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
      create: (sandbox, input, owner) =>
        Effect.gen(function* () {
          const draft = validate(input)
          if (typeof draft === "string") return yield* invalid(draft, "Invalid computed attribute")
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
            expression: draft.expression.text,
            merge_function: Pql.mergeFunction(draft.expression.parsed),
            return_type: Pql.returnType(draft.expression.parsed),
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
      patch: (sandbox, id, body) =>
        Effect.gen(function* () {
          const current = yield* get(sandbox, id)
          const patched = applyPatch(current, body)
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
