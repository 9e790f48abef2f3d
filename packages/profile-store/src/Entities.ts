/**
 * Entity lookups: the merged profile of an identity, and its experience
 * events, computed from stored fragments and events under a merge policy.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { Identity } from "@rtcp/core"
import { Clock, Context, Effect, Layer, Option } from "effect"
import { profileValues } from "./ComputedAttributes.js"
import { IdentityGraph, type IdentityRow, MAX_GRAPH_SIZE, xidOf } from "./IdentityGraph.js"
import { type EventCursor, type EventRow, LookupRows } from "./LookupRows.js"
import * as StoreError from "./StoreError.js"
import { invalid } from "./StoreError.js"
import { joins } from "./internal/explanation.js"
import { mergedEntity, primaryOf } from "./internal/mergedEntity.js"
import { deepAssign, explain, type ExplainedAttribute, type Fragment, pathValue, project } from "./Merge.js"
import { MergePolicies, type Policy } from "./MergePolicies.js"
import type * as Rows from "./migrations/rows.js"
import { StoreEvents } from "./StoreEvents.js"

/**
 * The identity a lookup names, in the core's vocabulary: `id` in
 * `namespace`, or an XID when `namespace` is undefined. Namespace codes are
 * case-insensitive in AEP and stored lower case, so the store takes them lower
 * case: callers (the HTTP edge) lower-case what their clients sent, once.
 */
export type IdentityRef = Identity.Identity

export interface ProfileQuery {
  readonly identity: IdentityRef
  readonly schemaName: string
  readonly mergePolicyId?: string | undefined
  readonly fields?: ReadonlyArray<string> | undefined
  /**
   * Adds the profile's computed attribute values (see `ComputedAttributes.ts`)
   * at `entity._<tenant>.SystemComputedAttributes.<name>` = `{value, timestamp?}`,
   * before `fields` projects the entity.
   */
  readonly withCA?: boolean | undefined
}

export interface Profile {
  readonly xid: string
  readonly body: {
    readonly entityId: string
    readonly sources: ReadonlyArray<string>
    readonly entity: Record<string, unknown>
    readonly lastModifiedAt: string
    readonly mergePolicy: { readonly id: string }
  }
}

export interface EventQuery {
  readonly identity: IdentityRef
  readonly mergePolicyId?: string | undefined
  readonly fields?: ReadonlyArray<string> | undefined
  /** Epoch ms, inclusive. */
  readonly startTime?: number | undefined
  /** Epoch ms, exclusive. */
  readonly endTime?: number | undefined
  readonly limit?: number | undefined
  readonly descending?: boolean | undefined
  readonly property?: ReadonlyArray<string> | undefined
  /** Continuation cursor from a previous page. */
  readonly start?: string | undefined
}

export interface EventPage {
  readonly xid: string
  readonly events: ReadonlyArray<{
    readonly relatedEntityId: string
    readonly entityId: string
    readonly timestamp: number
    readonly entity: Record<string, unknown>
    readonly lastModifiedAt: string
  }>
  /** Cursor of the next page; undefined on the last page. */
  readonly next: string | undefined
  /** Cursor this page started after, if any. */
  readonly start: string | undefined
}

/** A fragment with where it came from, as an explanation names it. */
export interface SourcedFragment extends Fragment {
  readonly datasetName: string
  /** Undefined for streamed records. */
  readonly batchId: string | undefined
}

export interface ExplainQuery {
  readonly identity: IdentityRef
  readonly mergePolicyId?: string | undefined
}

/**
 * Why a merged profile looks as it does under one merge policy: the fragment
 * behind each attribute (and what it beat), and how each identity joined the
 * graph. Computed by the same merge as `getProfile`.
 */
export interface Explanation {
  readonly xid: string
  readonly policy: Policy
  readonly attributes: ReadonlyArray<ExplainedAttribute<SourcedFragment>>
  readonly identities: ReadonlyArray<{
    readonly identity: IdentityRow
    readonly primary: boolean
    /** Undefined for the primary identity, and for one whose links were deleted with their data. */
    readonly link:
      | {
          readonly datasetId: string
          readonly batchId: string | undefined
          readonly linkedTo: IdentityRow
          readonly firstSeen: number
          readonly lastSeen: number
        }
      | undefined
  }>
}

type LookupError =
  | StoreError.ProfileNotFound
  | StoreError.PolicyNotFound
  | StoreError.NoDefaultPolicy
  | StoreError.GraphTooLarge
  | StoreError.InvalidInput

type ExplainFragmentRow = Omit<Rows.Fragment, "sandbox">

const PROFILE_SCHEMA = "_xdm.context.profile"

export const DEFAULT_EVENT_LIMIT = 1000
export const MAX_PROPERTY_FILTERS = 3

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

const upsNotFound = (identity: IdentityRef) => new StoreError.ProfileNotFound({ identity })

// ---------------------------------------------------------------------------
// event cursor and property filters
// ---------------------------------------------------------------------------


/** The cursor is the last (timestamp, dataset, id) seen, so ingestion of older events never shifts a page. */
export const encodeCursor = (cursor: EventCursor) => Buffer.from(JSON.stringify([cursor.ts, cursor.dataset, cursor.id])).toString("base64url")

export const decodeCursor = (raw: string): EventCursor | undefined => {
  try {
    const [ts, dataset, id] = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"))
    return typeof ts === "number" && typeof dataset === "string" && typeof id === "string" ? { ts, dataset, id } : undefined
  } catch {
    return undefined
  }
}

interface PropertyFilter {
  readonly path: string
  readonly op: "=" | "!=" | "<" | "<=" | ">" | ">="
  readonly value: string
}

const PROPERTY = /^([A-Za-z_][\w.]*)(<=|>=|!=|=|<|>)(.*)$/

export const parseProperty = (raw: string): PropertyFilter | string => {
  const match = PROPERTY.exec(raw.trim())
  if (!match) return `property "${raw}" must look like <path><op><value> with op one of = != < <= > >=`
  return { path: match[1]!, op: match[2] as PropertyFilter["op"], value: match[3]!.replace(/^["']|["']$/g, "") }
}

const DATE = /^(\d{4})-?(\d{2})-?(\d{2})$/

const comparable = (filterValue: string, actual: unknown): [number | string, number | string] | undefined => {
  if (actual === undefined || actual === null || typeof actual === "object") return undefined
  const date = DATE.exec(filterValue)
  if (date) {
    const expected = Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]))
    const parsed = typeof actual === "number" ? actual : Date.parse(String(actual))
    return Number.isNaN(parsed) ? undefined : [parsed, expected]
  }
  if (typeof actual === "number" && filterValue.trim() !== "" && !Number.isNaN(Number(filterValue))) return [actual, Number(filterValue)]
  if (typeof actual === "boolean") return [String(actual), filterValue]
  return [String(actual), filterValue]
}

export const matches = (data: unknown, filter: PropertyFilter): boolean => {
  const pair = comparable(filter.value, pathValue(data, filter.path))
  if (pair === undefined) return filter.op === "!="
  const [a, b] = pair
  switch (filter.op) {
    case "=":
      return a === b
    case "!=":
      return a !== b
    case "<":
      return a < b
    case "<=":
      return a <= b
    case ">":
      return a > b
    case ">=":
      return a >= b
  }
}

// ---------------------------------------------------------------------------

export class Entities extends Context.Tag("@rtcp/profile-store/Entities")<
  Entities,
  {
    readonly getProfile: (sandbox: string, query: ProfileQuery) => Effect.Effect<Profile, LookupError>
    /** Many identities: unknown ones answer a placeholder as AEP does; identities of one graph collapse into one entry. */
    readonly getProfiles: (
      sandbox: string,
      query: Omit<ProfileQuery, "identity"> & { readonly identities: ReadonlyArray<IdentityRef> }
    ) => Effect.Effect<Record<string, Profile["body"]>, LookupError>
    readonly getEvents: (sandbox: string, query: EventQuery) => Effect.Effect<EventPage, LookupError>
    /** Explains the merged profile of an identity under a merge policy (the default one of profiles if none). */
    readonly explainProfile: (sandbox: string, query: ExplainQuery) => Effect.Effect<Explanation, LookupError>
    /** Removes the entity's fragments and events (every identity of its graph under a `pdg` policy). */
    readonly deleteEntity: (
      sandbox: string,
      identity: IdentityRef,
      mergePolicyId: string | undefined
    ) => Effect.Effect<{ readonly fragments: number; readonly events: number }, LookupError>
  }
>() {}

export const layer = Layer.effect(
  Entities,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const graph = yield* IdentityGraph
    const rows = yield* LookupRows
    const policies = yield* MergePolicies
    const storeEvents = yield* StoreEvents

    /** The identities a policy reads for `identity`, and the XID of the result. */
    const scope = (sandbox: string, identity: IdentityRef, policy: Policy) =>
      Effect.gen(function* () {
        if (policy.identityGraph === "none") {
          const found = yield* rows.identity(sandbox, identity.namespace, identity.id)
          if (Option.isNone(found)) return yield* Effect.fail(upsNotFound(identity))
          const row = found.value
          return { xid: row.xid, members: [row] as ReadonlyArray<IdentityRow>, requested: row }
        }
        // The identity and its graph in one statement.
        const found = yield* rows.graph(sandbox, identity.namespace, identity.id)
        if (Option.isNone(found)) return yield* Effect.fail(upsNotFound(identity))
        const { members, requested: row } = found.value
        if (members.length > MAX_GRAPH_SIZE) return yield* Effect.fail(new StoreError.GraphTooLarge({ count: members.length, limit: MAX_GRAPH_SIZE }))
        const root = members.find((member) => member.id === row.graphId) ?? (yield* rows.root(row.graphId))
        return { xid: root.xid, members, requested: row }
      })

    const fragmentsOf = (members: ReadonlyArray<IdentityRow>) =>
      Effect.map(
        rows.fragments(members.map((m) => m.id)),
        (found) =>
          found.map((row) => ({
            identityId: Number(row.identity_id),
            fragment: {
              datasetId: row.dataset_id,
              data: JSON.parse(row.data),
              ingestedAt: Number(row.ingested_at),
              customTimestamp: row.custom_ts === null ? null : Number(row.custom_ts)
            } satisfies Fragment
          }))
      )

    const hasEvents = (members: ReadonlyArray<IdentityRow>) => rows.hasEvents(members.map((m) => m.id))

    const assemble = (
      sandbox: string,
      identity: IdentityRef,
      policy: Policy,
      fields: ReadonlyArray<string> | undefined,
      withCA?: boolean | undefined
    ) =>
      Effect.gen(function* () {
        const { members, requested, xid } = yield* scope(sandbox, identity, policy)
        const fragments = yield* fragmentsOf(members)
        const { entity, merged } = mergedEntity(fragments, members, policy.attributeMerge, requested.id)
        if (merged.sources.length === 0 && !(yield* hasEvents(members))) {
          return yield* Effect.fail(upsNotFound(identity))
        }
        if (withCA === true) deepAssign(entity, yield* profileValues(sql, sandbox, xid))
        return {
          xid,
          body: {
            entityId: xid,
            sources: merged.sources,
            entity: fields && fields.length > 0 ? project(entity, fields) : entity,
            lastModifiedAt: iso(merged.lastModifiedAt),
            mergePolicy: { id: policy.id }
          }
        } satisfies Profile
      })

    const getProfile = (sandbox: string, query: ProfileQuery) =>
      Effect.flatMap(policies.resolve(sandbox, query.mergePolicyId, query.schemaName), (policy) =>
        assemble(sandbox, query.identity, policy, query.fields, query.withCA)
      )

    const getEvents = (sandbox: string, query: EventQuery) =>
      Effect.gen(function* () {
        const limit = query.limit ?? DEFAULT_EVENT_LIMIT
        if (!Number.isInteger(limit) || limit < 1 || limit > DEFAULT_EVENT_LIMIT) {
          return yield* invalid(`limit must be an integer from 1 to ${DEFAULT_EVENT_LIMIT}`)
        }
        const filters: Array<PropertyFilter> = []
        for (const raw of query.property ?? []) {
          const parsed = parseProperty(raw)
          if (typeof parsed === "string") return yield* invalid(parsed)
          filters.push(parsed)
        }
        if (filters.length > MAX_PROPERTY_FILTERS) return yield* invalid(`at most ${MAX_PROPERTY_FILTERS} property filters are allowed`)
        const after = query.start === undefined || query.start === "" ? undefined : decodeCursor(query.start)
        if (query.start && after === undefined) return yield* invalid(`start "${query.start}" is not a cursor this service issued`)
        const policy = yield* policies.resolve(sandbox, query.mergePolicyId, "_xdm.context.profile")
        const { members, xid } = yield* scope(sandbox, query.identity, policy)
        const ids = members.map((member) => member.id)
        const desc = query.descending === true
        const collected: Array<{ row: EventRow; data: Record<string, unknown> }> = []
        let cursor = after
        // Page through SQL until the page is full (filters may drop rows); one more row tells whether a next page exists.
        while (collected.length <= limit) {
          const want = limit + 1 - collected.length
          const found = yield* rows.events(ids, {
            startTime: query.startTime,
            endTime: query.endTime,
            after: cursor,
            descending: desc,
            limit: filters.length > 0 ? Math.max(want, 500) : want
          })
          for (const row of found) {
            const data = JSON.parse(row.data)
            if (filters.every((filter) => matches(data, filter))) collected.push({ row, data })
            if (collected.length > limit) break
          }
          if (found.length === 0) break
          const last = found[found.length - 1]!
          cursor = { ts: Number(last.ts), dataset: last.dataset_id, id: last.id }
          if (found.length < want) break
        }
        const page = collected.slice(0, limit)
        const last = page[page.length - 1]
        return {
          xid,
          events: page.map(({ row, data }) => ({
            relatedEntityId: xid,
            entityId: row.id,
            timestamp: Number(row.ts),
            entity: query.fields && query.fields.length > 0 ? project(data, query.fields) : data,
            lastModifiedAt: iso(Number(row.ingested_at))
          })),
          next:
            collected.length > limit && last
              ? encodeCursor({ ts: Number(last.row.ts), dataset: last.row.dataset_id, id: last.row.id })
              : undefined,
          start: query.start
        } satisfies EventPage
      })

    const explainProfile = (sandbox: string, query: ExplainQuery) =>
      Effect.gen(function* () {
        const policy = yield* policies.resolve(sandbox, query.mergePolicyId, PROFILE_SCHEMA)
        const { members, requested, xid } = yield* scope(sandbox, query.identity, policy)
        // Not the lookup's statement: this one also reads the batch, which lookups never need.
        const fragmentRows = yield* sql<ExplainFragmentRow>`SELECT dataset_id, identity_id, batch_id, data, ingested_at, custom_ts FROM fragments
          WHERE ${sql.in("identity_id", members.map((m) => m.id))}`.pipe(Effect.orDie)
        const datasetIds = [...new Set(fragmentRows.map((row) => row.dataset_id))]
        const names = new Map<string, string>()
        if (datasetIds.length > 0) {
          const found = yield* sql<{ readonly id: string; readonly name: string }>`SELECT id, name FROM datasets
            WHERE sandbox = ${sandbox} AND ${sql.in("id", datasetIds)}`.pipe(Effect.orDie)
          for (const dataset of found) names.set(dataset.id, dataset.name)
        }
        const fragments = fragmentRows.map((row) => ({
          identityId: Number(row.identity_id),
          fragment: {
            datasetId: row.dataset_id,
            datasetName: names.get(row.dataset_id) ?? row.dataset_id,
            batchId: row.batch_id === null || row.batch_id === "" ? undefined : row.batch_id,
            data: JSON.parse(row.data) as Record<string, unknown>,
            ingestedAt: Number(row.ingested_at),
            customTimestamp: row.custom_ts === null ? null : Number(row.custom_ts)
          } satisfies SourcedFragment
        }))
        if (fragments.length === 0 && !(yield* hasEvents(members))) return yield* Effect.fail(upsNotFound(query.identity))
        const primaryId = primaryOf(fragments, requested.id)
        const links = policy.identityGraph === "none" ? [] : yield* graph.linksOf(sandbox, members.map((m) => m.id))
        return {
          xid,
          policy,
          attributes: explain(
            fragments.map((row) => row.fragment),
            policy.attributeMerge
          ),
          identities: joins(members, links, primaryId).map(({ member, link }) => ({
            identity: member,
            primary: member.id === primaryId,
            link:
              link === undefined
                ? undefined
                : {
                    datasetId: link.edge.datasetId,
                    batchId: link.edge.batchId,
                    linkedTo: link.linkedTo,
                    firstSeen: link.edge.firstSeen,
                    lastSeen: link.edge.lastSeen
                  }
          }))
        } satisfies Explanation
      })

    return Entities.of({
      getProfile,
      explainProfile,
      getProfiles: (sandbox, query) =>
        Effect.gen(function* () {
          const policy = yield* policies.resolve(sandbox, query.mergePolicyId, query.schemaName)
          const out: Record<string, Profile["body"]> = {}
          for (const identity of query.identities) {
            const result = yield* Effect.either(assemble(sandbox, identity, policy, query.fields, query.withCA))
            if (result._tag === "Right") {
              out[result.right.xid] = result.right.body
            } else if (result.left._tag === "ProfileNotFound") {
              // Unknown identities still get an entry, as AEP answers them.
              const xid = xidOf(identity.namespace ?? "", identity.id)
              out[xid] = { entityId: xid, sources: [""], entity: {}, lastModifiedAt: "1970-01-01T00:00:00Z", mergePolicy: { id: policy.id } }
            } else {
              return yield* Effect.fail(result.left)
            }
          }
          return out
        }),
      getEvents,
      deleteEntity: (sandbox, identity, mergePolicyId) =>
        Effect.gen(function* () {
          const policy = yield* policies.resolve(sandbox, mergePolicyId, "_xdm.context.profile")
          const { members } = yield* scope(sandbox, identity, policy)
          const ids = members.map((member) => member.id)
          const removed = yield* Effect.gen(function* () {
            const fragments = yield* sql`DELETE FROM fragments WHERE ${sql.in("identity_id", ids)} RETURNING identity_id`
            const events = yield* sql`DELETE FROM events WHERE ${sql.in("identity_id", ids)} RETURNING id`
            return { fragments: fragments.length, events: events.length }
          }).pipe(sql.withTransaction, Effect.orDie)
          const now = yield* Clock.currentTimeMillis
          yield* storeEvents.publish({ _tag: "DataDeleted", sandbox, at: now })
          return removed
        })
    })
  })
)
