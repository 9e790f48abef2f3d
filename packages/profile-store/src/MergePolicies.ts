/**
 * Merge policies with AEP's rules: one default per schema class (making a
 * policy default un-defaults the previous one), at most five per sandbox, at
 * most one active on edge (which cannot be deleted), `dataSetPrecedence`
 * needs its dataset order, and `version` grows by one on every update.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { randomUUID } from "node:crypto"
import { Clock, Context, Effect, Layer } from "effect"
import { isShared, SharedFile } from "./internal/dialect.js"
import * as StoreError from "./StoreError.js"
import { invalid, refused } from "./StoreError.js"
import type { AttributeMerge } from "./Merge.js"
import type * as Rows from "./migrations/rows.js"

export const MAX_POLICIES_PER_SANDBOX = 5

export interface Policy {
  readonly id: string
  readonly name: string
  readonly schemaName: string
  readonly version: number
  readonly identityGraph: "none" | "pdg"
  readonly attributeMerge: AttributeMerge
  readonly isDefault: boolean
  readonly activeOnEdge: boolean
  readonly updateEpoch: number
  readonly createdAt: number
}

const toPolicy = (row: Rows.MergePolicy): Policy => ({
  id: row.id,
  name: row.name,
  schemaName: row.schema_name,
  version: Number(row.version),
  identityGraph: row.identity_graph,
  attributeMerge:
    row.attribute_merge === "dataSetPrecedence"
      ? { type: "dataSetPrecedence", order: JSON.parse(row.dataset_order) }
      : { type: "timestampOrdered" },
  isDefault: Boolean(row.is_default),
  activeOnEdge: Boolean(row.active_on_edge),
  updateEpoch: Number(row.update_epoch),
  createdAt: Number(row.created_at)
})

/** A whole merge policy as a caller defines it (create, replace). */
export interface PolicyDraft {
  readonly name: string
  readonly schemaName: string
  readonly identityGraph: "none" | "pdg"
  readonly attributeMerge: AttributeMerge
  readonly isDefault: boolean
  readonly activeOnEdge: boolean
}

export interface ListQuery {
  readonly start?: string | undefined
  readonly limit?: number | undefined
  readonly orderBy?: string | undefined
  readonly schemaName?: string | undefined
  readonly isDefault?: boolean | undefined
  readonly isActiveOnEdge?: boolean | undefined
  readonly identityGraphType?: string | undefined
  readonly attributeMergeType?: string | undefined
}

export interface ListPage {
  readonly policies: ReadonlyArray<Policy>
  readonly totalCount: number
  /** Offset of the next page, if any. */
  readonly next: number | undefined
}

const SORTABLE: Record<string, (p: Policy) => string | number> = {
  name: (p) => p.name.toLowerCase(),
  updateEpoch: (p) => p.updateEpoch,
  version: (p) => p.version,
  id: (p) => p.id
}

export class MergePolicies extends Context.Tag("@rtcp/profile-store/MergePolicies")<
  MergePolicies,
  {
    readonly list: (sandbox: string, query: ListQuery) => Effect.Effect<ListPage, StoreError.InvalidInput>
    readonly get: (sandbox: string, id: string) => Effect.Effect<Policy, StoreError.PolicyNotFound>
    readonly create: (sandbox: string, draft: PolicyDraft) => Effect.Effect<Policy, StoreError.Refused>
    /** Rewrites the policy; `version` grows by one. */
    readonly replace: (
      sandbox: string,
      id: string,
      draft: PolicyDraft
    ) => Effect.Effect<Policy, StoreError.PolicyNotFound | StoreError.Refused>
    /** Changes some fields of the policy, read and rewritten in one step. */
    readonly update: (
      sandbox: string,
      id: string,
      change: (previous: Policy) => Effect.Effect<PolicyDraft, StoreError.InvalidInput>
    ) => Effect.Effect<Policy, StoreError.InvalidInput | StoreError.PolicyNotFound | StoreError.Refused>
    readonly remove: (sandbox: string, id: string) => Effect.Effect<void, StoreError.PolicyNotFound | StoreError.Refused>
    /**
     * The policy a read uses: the one named, else the default of the schema
     * class, else `NoDefaultPolicy`.
     */
    readonly resolve: (
      sandbox: string,
      id: string | undefined,
      schemaName: string
    ) => Effect.Effect<Policy, StoreError.PolicyNotFound | StoreError.NoDefaultPolicy>
    /** Drops what is kept in memory, after the tables were replaced underneath (reset, snapshot import). */
    readonly forget: Effect.Effect<void>
  }
>() {}

export const layer = Layer.effect(
  MergePolicies,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    // Every lookup resolves a policy, and policies change only through this
    // service (a new sandbox's default is written before anyone can ask for
    // it), so each sandbox's list is kept in memory and dropped on every
    // write. The generation keeps a read that raced a write from caching
    // what the write replaced.
    //
    // Several processes on one Postgres database would each keep a copy that
    // another's write leaves stale, so there every read goes to the table (a
    // primary-key range of at most five rows): a write acknowledged by one
    // process is what the next read on any process resolves.
    const shared = isShared(sql)
    const cached = new Map<string, ReadonlyArray<Policy>>()
    let generation = 0
    const forget = Effect.sync(() => {
      generation++
      cached.clear()
    })
    // A reader process of a SQLite file another process writes keeps the
    // lists while the file's `data_version` stays the same: it changes with
    // every commit of another connection, so a write the writer acknowledged
    // before this lookup began empties the cache first.
    let version: number | undefined
    const upToDate = (yield* SharedFile)
      ? sql<{ readonly data_version: number }>`PRAGMA data_version`.pipe(
          Effect.flatMap((rows) => {
            const now = Number(rows[0]?.data_version)
            if (now === version) return Effect.void
            version = now
            return forget
          }),
          Effect.orDie
        )
      : Effect.void
    const all = (sandbox: string) =>
      Effect.zipRight(upToDate, Effect.suspend(() => {
        const hit = shared ? undefined : cached.get(sandbox)
        if (hit !== undefined) return Effect.succeed(hit)
        const seen = generation
        return sql<Rows.MergePolicy>`SELECT * FROM merge_policies WHERE sandbox = ${sandbox}`.pipe(
          Effect.map((rows) => rows.map(toPolicy)),
          Effect.tap((policies) =>
            Effect.sync(() => {
              if (!shared && seen === generation && policies.length > 0) cached.set(sandbox, policies)
            })
          ),
          Effect.orDie
        )
      }))

    const get = (sandbox: string, id: string) =>
      sql<Rows.MergePolicy>`SELECT * FROM merge_policies WHERE sandbox = ${sandbox} AND id = ${id}`.pipe(
        Effect.orDie,
        Effect.flatMap((rows) =>
          rows.length === 0
            ? Effect.fail(new StoreError.PolicyNotFound({ sandbox, id }))
            : Effect.succeed(toPolicy(rows[0]!))
        )
      )

    /** Checks the sandbox-wide rules for `draft` replacing `previous` (undefined on create). */
    const write = (sandbox: string, draft: PolicyDraft, previous: Policy | undefined) =>
      Effect.gen(function* () {
        const policies = yield* all(sandbox)
        if (previous === undefined && policies.length >= MAX_POLICIES_PER_SANDBOX) {
          return yield* refused(
            `Sandbox "${sandbox}" already has ${policies.length} merge policies; AEP allows at most ${MAX_POLICIES_PER_SANDBOX}. Delete one first.`,
            "Too many merge policies"
          )
        }
        const otherOnEdge = policies.find((p) => p.activeOnEdge && p.id !== previous?.id)
        if (draft.activeOnEdge && otherOnEdge) {
          return yield* refused(
            `Merge policy "${otherOnEdge.name}" (${otherOnEdge.id}) is already active on edge; only one policy per sandbox can be. Deactivate it first.`,
            "Another merge policy is active on edge"
          )
        }
        const now = yield* Clock.currentTimeMillis
        const epoch = Math.floor(now / 1000)
        const id = previous?.id ?? randomUUID()
        const version = previous === undefined ? 1 : previous.version + 1
        yield* Effect.gen(function* () {
          if (draft.isDefault) {
            // One default per schema class: the previous one quietly stops being it.
            yield* sql`UPDATE merge_policies SET is_default = 0, update_epoch = ${epoch}
              WHERE sandbox = ${sandbox} AND schema_name = ${draft.schemaName} AND is_default = 1 AND id <> ${id}`
          }
          const row = {
            sandbox,
            id,
            name: draft.name,
            schema_name: draft.schemaName,
            version,
            identity_graph: draft.identityGraph,
            attribute_merge: draft.attributeMerge.type,
            dataset_order: JSON.stringify(draft.attributeMerge.type === "dataSetPrecedence" ? draft.attributeMerge.order : []),
            is_default: draft.isDefault ? 1 : 0,
            active_on_edge: draft.activeOnEdge ? 1 : 0,
            update_epoch: epoch,
            created_at: previous?.createdAt ?? now
          }
          if (previous === undefined) yield* sql`INSERT INTO merge_policies ${sql.insert(row)}`
          else yield* sql`UPDATE merge_policies SET ${sql.update(row, ["sandbox", "id"])} WHERE sandbox = ${sandbox} AND id = ${id}`
        }).pipe(sql.withTransaction, Effect.ensuring(forget), Effect.orDie)
        return yield* get(sandbox, id).pipe(Effect.orDie)
      })

    return MergePolicies.of({
      forget,
      list: (sandbox, query) =>
        Effect.gen(function* () {
          const limit = query.limit ?? 20
          if (!Number.isInteger(limit) || limit < 1 || limit > 100) return yield* invalid("limit must be an integer from 1 to 100")
          const start = query.start === undefined || query.start === "" ? 0 : Number(query.start)
          if (!Number.isInteger(start) || start < 0) return yield* invalid(`start "${query.start}" is not a cursor this service issued`)
          const orderBy = (query.orderBy ?? "name").trim()
          const descending = orderBy.startsWith("-")
          const field = orderBy.replace(/^[+-]/, "")
          const key = SORTABLE[field]
          if (!key) return yield* invalid(`orderBy "${orderBy}" is not supported: use name, updateEpoch, version or id, with + or -`)
          const filtered = (yield* all(sandbox))
            .filter((p) => query.schemaName === undefined || p.schemaName === query.schemaName)
            .filter((p) => query.isDefault === undefined || p.isDefault === query.isDefault)
            .filter((p) => query.isActiveOnEdge === undefined || p.activeOnEdge === query.isActiveOnEdge)
            .filter((p) => query.identityGraphType === undefined || p.identityGraph === query.identityGraphType)
            .filter((p) => query.attributeMergeType === undefined || p.attributeMerge.type === query.attributeMergeType)
            .sort((a, b) => {
              const [x, y] = [key(a), key(b)]
              const order = x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1
              return descending ? -order : order
            })
          const page = filtered.slice(start, start + limit)
          return { policies: page, totalCount: filtered.length, next: start + limit < filtered.length ? start + limit : undefined }
        }),
      get,
      create: (sandbox, draft) => write(sandbox, draft, undefined),
      replace: (sandbox, id, draft) => Effect.flatMap(get(sandbox, id), (previous) => write(sandbox, draft, previous)),
      update: (sandbox, id, change) =>
        Effect.flatMap(get(sandbox, id), (previous) => Effect.flatMap(change(previous), (draft) => write(sandbox, draft, previous))),
      remove: (sandbox, id) =>
        Effect.gen(function* () {
          const policy = yield* get(sandbox, id)
          if (policy.activeOnEdge) {
            return yield* refused(
              `Merge policy "${policy.name}" is active on edge and cannot be deleted; set isActiveOnEdge to false first`,
              "Merge policy is active on edge"
            )
          }
          yield* sql`DELETE FROM merge_policies WHERE sandbox = ${sandbox} AND id = ${id}`.pipe(Effect.ensuring(forget), Effect.orDie)
        }),
      resolve: (sandbox, id, schemaName) =>
        id !== undefined
          ? get(sandbox, id)
          : Effect.flatMap(all(sandbox), (policies) => {
              const found = policies.find((p) => p.isDefault && p.schemaName === schemaName)
              return found
                ? Effect.succeed(found)
                : Effect.fail(new StoreError.NoDefaultPolicy({ sandbox, schemaName }))
            })
    })
  })
)
