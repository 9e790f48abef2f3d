/**
 * Edge projections with AEP's rules.
 *
 * A destination says where merged profiles are replicated: `type` is `EDGE`
 * (the only type), `dataCenters` one or more of `OR1`, `VA5`, `NLD1`, `ttl`
 * 600–604800 s (3600 by default), `replicationPolicy` `PROACTIVE` or
 * `REACTIVE` (the default). A projection configuration says what: a
 * selector (see `Selector`) over one schema class, a name unique within that
 * class, an existing destination and, optionally, an existing merge policy
 * of the same class.
 *
 * Both carry a `version` that starts at 1 and grows by one on every update.
 * Decisions where AEP's documents are silent:
 *
 * - Optimistic concurrency: a PUT whose `currentVersion` is not the stored
 *   `version` answers **409** (the body field is a state conflict; 412 is for
 *   `If-Match`-style headers, which AEP does not use here). A PUT without
 *   `currentVersion` overwrites unconditionally.
 * - A destination PUT keeps the stored `ttl` and `replicationPolicy` when the
 *   body leaves them out, as the guide's PUT example does (`ttl` 8000 after a
 *   PUT without `ttl`); `type` and `dataCenters` are required as on create.
 * - A projection PUT creates the projection under the path's id when it does
 *   not exist (create-or-update); its class comes from `schemaName` (query or
 *   body), `_xdm.context.profile` by default. A `currentVersion` other than
 *   0 for a projection that does not exist is a 409: it was deleted meanwhile.
 * - A name already used in the same class answers **409**; an unknown
 *   `destinationId` or `mergePolicyId` answers **422** naming it.
 * - Deleting a destination that projections still use answers **422** naming
 *   them (delete or re-point them first); deleting an unknown one is a 404.
 *
 * Every resource belongs to one sandbox.
 *
 * @since 0.1.0
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { randomUUID } from "node:crypto"
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"
import * as StoreError from "./StoreError.js"
import { invalid, refused } from "./StoreError.js"
import { MergePolicies } from "./MergePolicies.js"
import * as Rows from "./migrations/rows.js"

/** The selector parser, reachable as `EdgeProjections.Selector` from the package index. */
export * as Selector from "./Selector.js"

export const DESTINATION_TYPES = ["EDGE"] as const
export const DATA_CENTERS = ["OR1", "VA5", "NLD1"] as const
export const REPLICATION_POLICIES = ["PROACTIVE", "REACTIVE"] as const
export const TTL_MIN = 600
export const TTL_MAX = 604_800
export const TTL_DEFAULT = 3600
export const DEFAULT_SCHEMA = "_xdm.context.profile"

export type DataCenter = (typeof DATA_CENTERS)[number]
export type ReplicationPolicy = (typeof REPLICATION_POLICIES)[number]

export interface Destination {
  readonly id: string
  readonly type: "EDGE"
  readonly dataCenters: ReadonlyArray<DataCenter>
  readonly ttl: number
  readonly replicationPolicy: ReplicationPolicy
  readonly version: number
  readonly createdAt: number
  readonly updatedAt: number
}

export interface Projection {
  readonly id: string
  readonly schemaName: string
  readonly name: string
  readonly selector: string
  readonly destinationId: string
  readonly mergePolicyId: string | undefined
  readonly version: number
  readonly createdAt: number
  readonly updatedAt: number
}

export interface ProjectionQuery {
  readonly schemaName?: string | undefined
  readonly name?: string | undefined
}

/** The request conflicts with the stored state (stale version, duplicate name). */
export const conflict = (message: string, rule = "Conflict") => new StoreError.Conflict({ message, rule })

export class EdgeProjections extends Context.Tag("@rtcp/profile-store/EdgeProjections")<
  EdgeProjections,
  {
    readonly listDestinations: (sandbox: string) => Effect.Effect<ReadonlyArray<Destination>>
    readonly getDestination: (sandbox: string, id: string) => Effect.Effect<Destination, StoreError.DestinationNotFound>
    readonly createDestination: (sandbox: string, draft: DestinationDraft) => Effect.Effect<Destination>
    /** Full rewrite; `Conflict` when `currentVersion` is stale. */
    readonly replaceDestination: (
      sandbox: string,
      id: string,
      draft: DestinationDraft
    ) => Effect.Effect<Destination, StoreError.Conflict | StoreError.DestinationNotFound>
    /** `Refused`, naming the projections that still use it. */
    readonly removeDestination: (
      sandbox: string,
      id: string
    ) => Effect.Effect<void, StoreError.DestinationNotFound | StoreError.Refused>
    /** `name` requires `schemaName` (names are unique per class only). */
    readonly listProjections: (
      sandbox: string,
      query: ProjectionQuery
    ) => Effect.Effect<ReadonlyArray<Projection>, StoreError.InvalidInput>
    readonly getProjection: (sandbox: string, id: string) => Effect.Effect<Projection, StoreError.ProjectionNotFound>
    readonly createProjection: (
      sandbox: string,
      schemaName: string,
      draft: ProjectionDraft
    ) => Effect.Effect<Projection, StoreError.InvalidInput | StoreError.Refused | StoreError.Conflict>
    /** Create-or-update under `id`; `created` says which. `schemaName` is the class of a projection it creates. */
    readonly putProjection: (
      sandbox: string,
      id: string,
      draft: ProjectionDraft,
      options?: { readonly schemaName?: string | undefined }
    ) => Effect.Effect<
      { readonly projection: Projection; readonly created: boolean },
      StoreError.InvalidInput | StoreError.Refused | StoreError.Conflict
    >
    readonly removeProjection: (sandbox: string, id: string) => Effect.Effect<void, StoreError.ProjectionNotFound>
  }
>() {}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/** A destination as a create or PUT gives it (read from AEP's body at the HTTP edge). */
export interface DestinationDraft {
  readonly type: "EDGE"
  readonly dataCenters: ReadonlyArray<DataCenter>
  /** Seconds; when undefined, the stored value on PUT, else {@link TTL_DEFAULT}. */
  readonly ttl: number | undefined
  /** When undefined, the stored value on PUT, else `REACTIVE`. */
  readonly replicationPolicy: ReplicationPolicy | undefined
  /** The version the writer last read; undefined overwrites unconditionally. */
  readonly currentVersion: number | undefined
}

/** A projection as a create or PUT gives it; its references are checked against the store. */
export interface ProjectionDraft {
  readonly name: string
  readonly selector: string
  readonly destinationId: string
  readonly mergePolicyId: string | undefined
  readonly currentVersion: number | undefined
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/

/** What is wrong with the schema class a projection is asked for, if anything. */
export const checkSchemaName = (schemaName: string | undefined): string | undefined =>
  schemaName === undefined || schemaName === ""
    ? `schemaName is required: the XDM class of the projection, e.g. ${DEFAULT_SCHEMA}`
    : SCHEMA_NAME.test(schemaName)
      ? undefined
      : `schemaName "${schemaName}" is not an XDM class name, e.g. ${DEFAULT_SCHEMA}`

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/** What is wrong with an id a PUT names for a projection, if anything. */
export const checkProjectionId = (id: string): string | undefined =>
  ID.test(id) ? undefined : `projection id "${id}" is invalid: use letters, digits, ".", "_" and "-" (at most 128)`

// ---------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------

const toDestination = (row: typeof Rows.Destination.Type): Destination => ({
  id: row.id,
  type: row.type,
  dataCenters: row.data_centers,
  ttl: row.ttl,
  replicationPolicy: row.replication_policy,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at
})

const toProjection = (row: typeof Rows.ProjectionConfig.Type): Projection => ({
  id: row.id,
  schemaName: row.schema_name,
  name: row.name,
  selector: row.selector,
  destinationId: row.destination_id,
  mergePolicyId: row.merge_policy_id ?? undefined,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at
})

const Key = Schema.Struct({ sandbox: Schema.String, id: Schema.String })

const stale = (kind: string, id: string, given: number, stored: number) =>
  conflict(
    `${kind} "${id}" is at version ${stored}, not ${given}: it changed since you read it. GET it again and retry with currentVersion ${stored}.`,
    "Version conflict"
  )

export const layer = Layer.effect(
  EdgeProjections,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const policies = yield* MergePolicies

    const selectDestination = SqlSchema.findOne({
      Request: Key,
      Result: Rows.Destination,
      execute: ({ sandbox, id }) => sql`SELECT * FROM projection_destinations WHERE sandbox = ${sandbox} AND id = ${id}`
    })
    const findDestination = (sandbox: string, id: string) =>
      selectDestination({ sandbox, id }).pipe(Effect.map(Option.map(toDestination)), Effect.orDie)

    const getDestination = (sandbox: string, id: string) =>
      Effect.flatMap(findDestination(sandbox, id), (found) =>
        Option.match(found, {
          onNone: () =>
            Effect.fail(new StoreError.DestinationNotFound({ sandbox, id })),
          onSome: Effect.succeed
        })
      )

    const selectProjection = SqlSchema.findOne({
      Request: Key,
      Result: Rows.ProjectionConfig,
      execute: ({ sandbox, id }) => sql`SELECT * FROM projection_configs WHERE sandbox = ${sandbox} AND id = ${id}`
    })
    const findProjection = (sandbox: string, id: string) =>
      selectProjection({ sandbox, id }).pipe(Effect.map(Option.map(toProjection)), Effect.orDie)

    const getProjection = (sandbox: string, id: string) =>
      Effect.flatMap(findProjection(sandbox, id), (found) =>
        Option.match(found, {
          onNone: () =>
            Effect.fail(new StoreError.ProjectionNotFound({ sandbox, id })),
          onSome: Effect.succeed
        })
      )

    const selectUsers = SqlSchema.findAll({
      Request: Key,
      Result: Rows.ProjectionConfig,
      execute: ({ sandbox, id }) =>
        sql`SELECT * FROM projection_configs WHERE sandbox = ${sandbox} AND destination_id = ${id} ORDER BY created_at, id`
    })
    const usersOf = (sandbox: string, destinationId: string) =>
      selectUsers({ sandbox, id: destinationId }).pipe(Effect.map((rows) => rows.map(toProjection)), Effect.orDie)

    const selectDestinations = SqlSchema.findAll({
      Request: Schema.String,
      Result: Rows.Destination,
      execute: (sandbox) => sql`SELECT * FROM projection_destinations WHERE sandbox = ${sandbox} ORDER BY created_at, id`
    })

    const writeDestination = (sandbox: string, id: string, draft: DestinationDraft, previous: Destination | undefined) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const row: typeof Rows.Destination.Type = {
          sandbox,
          id,
          type: draft.type,
          data_centers: draft.dataCenters,
          ttl: draft.ttl ?? previous?.ttl ?? TTL_DEFAULT,
          replication_policy: draft.replicationPolicy ?? previous?.replicationPolicy ?? "REACTIVE",
          version: previous === undefined ? 1 : previous.version + 1,
          created_at: previous?.createdAt ?? now,
          updated_at: now
        }
        const encoded = { ...row, data_centers: JSON.stringify(row.data_centers) }
        if (previous === undefined) yield* sql`INSERT INTO projection_destinations ${sql.insert(encoded)}`
        else {
          // Callers run in a transaction that read `previous`; the version guard is belt and braces.
          yield* sql`UPDATE projection_destinations SET ${sql.update(encoded, ["sandbox", "id"])}
            WHERE sandbox = ${sandbox} AND id = ${id} AND version = ${previous.version}`
        }
        return toDestination(row)
      }).pipe(Effect.orDie)

    /** Checks what a projection refers to: its destination, its merge policy, and the name within the class. */
    const checkReferences = (sandbox: string, schemaName: string, draft: ProjectionDraft, id: string | undefined) =>
      Effect.gen(function* () {
        if (Option.isNone(yield* findDestination(sandbox, draft.destinationId))) {
          return yield* refused(
            `Destination "${draft.destinationId}" does not exist in sandbox "${sandbox}": create it with POST /config/destinations first`,
            "Unknown destination"
          )
        }
        if (draft.mergePolicyId !== undefined) {
          const policy = yield* Effect.option(policies.get(sandbox, draft.mergePolicyId))
          if (Option.isNone(policy)) {
            return yield* refused(
              `Merge policy "${draft.mergePolicyId}" does not exist in sandbox "${sandbox}": leave mergePolicyId out to use the default policy`,
              "Unknown merge policy"
            )
          }
          if (policy.value.schemaName !== schemaName) {
            return yield* refused(
              `Merge policy "${draft.mergePolicyId}" applies to ${policy.value.schemaName}, not to ${schemaName}`,
              "Merge policy of another class"
            )
          }
        }
        const sameName =
          yield* sql<Pick<typeof Rows.ProjectionConfig.Encoded, "id">>`SELECT id FROM projection_configs WHERE sandbox = ${sandbox} AND schema_name = ${schemaName} AND name = ${draft.name}`.pipe(
            Effect.orDie
          )
        const other = sameName.find((row) => row.id !== id)
        if (other !== undefined) {
          return yield* conflict(
            `A projection named "${draft.name}" already exists for ${schemaName} (id ${other.id}); names are unique per schema class`,
            "Duplicate projection name"
          )
        }
      })

    const writeProjection = (
      sandbox: string,
      id: string,
      schemaName: string,
      draft: ProjectionDraft,
      previous: Projection | undefined
    ) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const row: typeof Rows.ProjectionConfig.Type = {
          sandbox,
          id,
          schema_name: schemaName,
          name: draft.name,
          selector: draft.selector,
          destination_id: draft.destinationId,
          merge_policy_id: draft.mergePolicyId ?? null,
          version: previous === undefined ? 1 : previous.version + 1,
          created_at: previous?.createdAt ?? now,
          updated_at: now
        }
        if (previous === undefined) yield* sql`INSERT INTO projection_configs ${sql.insert(row)}`
        else {
          // Callers run in a transaction that read `previous`; the version guard is belt and braces.
          yield* sql`UPDATE projection_configs SET ${sql.update(row, ["sandbox", "id"])}
            WHERE sandbox = ${sandbox} AND id = ${id} AND version = ${previous.version}`
        }
        return toProjection(row)
      }).pipe(Effect.orDie)

    return EdgeProjections.of({
      listDestinations: (sandbox) => selectDestinations(sandbox).pipe(Effect.map((rows) => rows.map(toDestination)), Effect.orDie),
      getDestination,
      createDestination: (sandbox, draft) => writeDestination(sandbox, randomUUID(), draft, undefined),
      replaceDestination: (sandbox, id, draft) =>
        Effect.gen(function* () {
          const previous = yield* getDestination(sandbox, id)
          if (draft.currentVersion !== undefined && draft.currentVersion !== previous.version) {
            return yield* stale("Destination", id, draft.currentVersion, previous.version)
          }
          return yield* writeDestination(sandbox, id, draft, previous)
        }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die)),
      removeDestination: (sandbox, id) =>
        Effect.gen(function* () {
          yield* getDestination(sandbox, id)
          const users = yield* usersOf(sandbox, id)
          if (users.length > 0) {
            const names = users.map((p) => `"${p.name}" (${p.id}, ${p.schemaName})`).join(", ")
            return yield* refused(
              `Destination "${id}" is used by ${users.length === 1 ? "projection" : `${users.length} projections`} ${names}: delete ${users.length === 1 ? "it" : "them"} or point ${users.length === 1 ? "it" : "them"} at another destination first`,
              "Destination in use"
            )
          }
          yield* sql`DELETE FROM projection_destinations WHERE sandbox = ${sandbox} AND id = ${id}`.pipe(Effect.orDie)
        }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die)),

      listProjections: (sandbox, query) =>
        Effect.gen(function* () {
          const schemaName = query.schemaName === "" ? undefined : query.schemaName
          const name = query.name === "" ? undefined : query.name
          if (name !== undefined && schemaName === undefined) {
            return yield* invalid(
              "the name filter requires schemaName: projection names are unique per schema class, e.g. ?schemaName=_xdm.context.profile&name=" +
                encodeURIComponent(name),
              "Invalid query"
            )
          }
          const where = [
            sql`sandbox = ${sandbox}`,
            ...(schemaName === undefined ? [] : [sql`schema_name = ${schemaName}`]),
            ...(name === undefined ? [] : [sql`name = ${name}`])
          ]
          const rows = yield* SqlSchema.findAll({
            Request: Schema.Void,
            Result: Rows.ProjectionConfig,
            execute: () => sql`SELECT * FROM projection_configs WHERE ${sql.and(where)} ORDER BY created_at, id`
          })(undefined).pipe(Effect.orDie)
          return rows.map(toProjection)
        }),
      getProjection,
      createProjection: (sandbox, schemaName, draft) =>
        Effect.gen(function* () {
          const schemaProblem = checkSchemaName(schemaName)
          if (schemaProblem !== undefined) return yield* invalid(schemaProblem, "Invalid projection")
          yield* checkReferences(sandbox, schemaName, draft, undefined)
          return yield* writeProjection(sandbox, randomUUID(), schemaName, draft, undefined)
        }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die)),
      putProjection: (sandbox, id, draft, options = {}) =>
        Effect.gen(function* () {
          const idProblem = checkProjectionId(id)
          if (idProblem !== undefined) return yield* invalid(idProblem, "Invalid projection")
          const asked = options.schemaName
          const previous = Option.getOrUndefined(yield* findProjection(sandbox, id))
          if (previous === undefined) {
            if (draft.currentVersion !== undefined && draft.currentVersion !== 0) {
              return yield* conflict(
                `Projection "${id}" does not exist (any more), so it cannot be at version ${draft.currentVersion}: leave currentVersion out to create it`,
                "Version conflict"
              )
            }
            const schemaName = asked ?? DEFAULT_SCHEMA
            const schemaProblem = checkSchemaName(schemaName)
            if (schemaProblem !== undefined) return yield* invalid(schemaProblem, "Invalid projection")
            yield* checkReferences(sandbox, schemaName, draft, id)
            return { projection: yield* writeProjection(sandbox, id, schemaName, draft, undefined), created: true }
          }
          if (asked !== undefined && asked !== previous.schemaName) {
            return yield* invalid(
              `schemaName is read-only: projection "${id}" belongs to ${previous.schemaName}, not ${asked}; create a new projection for another class`,
              "Invalid projection"
            )
          }
          if (draft.currentVersion !== undefined && draft.currentVersion !== previous.version) {
            return yield* stale("Projection", id, draft.currentVersion, previous.version)
          }
          yield* checkReferences(sandbox, previous.schemaName, draft, id)
          return { projection: yield* writeProjection(sandbox, id, previous.schemaName, draft, previous), created: false }
        }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die)),
      removeProjection: (sandbox, id) =>
        Effect.gen(function* () {
          yield* getProjection(sandbox, id)
          yield* sql`DELETE FROM projection_configs WHERE sandbox = ${sandbox} AND id = ${id}`.pipe(Effect.orDie)
        })
    })
  })
)
