/**
 * Datasets: the minimal Catalog surface the profile store needs. A dataset's
 * XDM class (profile records or experience events) decides how its records
 * are stored; its `unifiedProfile` tags decide whether they reach the
 * profile store at all, and whether records upsert.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { randomBytes } from "node:crypto"
import { Clock, Context, Effect, Layer, Option } from "effect"
import * as StoreError from "./StoreError.js"
import { invalid } from "./StoreError.js"
import type { XdmClass } from "./XdmRecord.js"
import type * as Rows from "./migrations/rows.js"

export const ProfileClassId = "https://ns.adobe.com/xdm/context/profile"
export const ExperienceEventClassId = "https://ns.adobe.com/xdm/context/experienceevent"

export interface Dataset {
  readonly id: string
  readonly name: string
  readonly description: string | undefined
  readonly schemaRef: { readonly id: string; readonly contentType: string }
  readonly xdmClass: XdmClass
  readonly profileEnabled: boolean
  readonly upsert: boolean
  readonly tags: Readonly<Record<string, ReadonlyArray<string>>>
  readonly createdAt: number
  readonly updatedAt: number
}

/** Tag name → values (`unifiedProfile: ["enabled:true", "isUpsert:true"]`). */
export type Tags = Readonly<Record<string, ReadonlyArray<string>>>

/** A dataset to create (read from Catalog's request body at the HTTP edge). */
export interface DatasetInput {
  readonly name: string
  readonly description?: string | undefined
  readonly schemaRef: { readonly id: string; readonly contentType?: string | undefined }
  readonly tags?: Tags | undefined
  /**
   * rtcp extension: the XDM class of a custom schema (its `meta:class`), since
   * there is no Schema Registry here to look it up. Standard class ids in
   * `schemaRef.id` need no declaration.
   */
  readonly xdmClass?: string | undefined
}

/** The class of a schema reference: standard class ids and `_xdm.context.*` names are known. */
export const classOf = (schemaId: string, declared?: string): XdmClass | undefined => {
  const probe = (declared ?? schemaId).toLowerCase()
  if (probe === ProfileClassId || probe.endsWith("/context/profile") || probe === "_xdm.context.profile") return "profile"
  if (probe === ExperienceEventClassId || probe.endsWith("/context/experienceevent") || probe === "_xdm.context.experienceevent") {
    return "experienceevent"
  }
  return undefined
}

const profileFlags = (tags: Record<string, ReadonlyArray<string>>) => {
  const values = (tags.unifiedProfile ?? []).map((v) => v.replace(/\s+/g, "").toLowerCase())
  return { profileEnabled: values.includes("enabled:true"), upsert: values.includes("isupsert:true") }
}

const toDataset = (row: Rows.Dataset): Dataset => {
  const tags = JSON.parse(row.tags)
  return {
    id: row.id,
    name: row.name,
    description: row.description ?? undefined,
    schemaRef: JSON.parse(row.schema_ref),
    xdmClass: row.xdm_class,
    profileEnabled: Boolean(row.profile_enabled),
    upsert: Boolean(row.upsert),
    tags,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at)
  }
}

export class Catalog extends Context.Tag("@rtcp/profile-store/Catalog")<
  Catalog,
  {
    readonly create: (sandbox: string, input: DatasetInput) => Effect.Effect<Dataset, StoreError.InvalidInput>
    readonly get: (sandbox: string, id: string) => Effect.Effect<Dataset, StoreError.DatasetNotFound>
    readonly find: (sandbox: string, id: string) => Effect.Effect<Option.Option<Dataset>>
    readonly list: (sandbox: string) => Effect.Effect<ReadonlyArray<Dataset>>
    /** Replaces the tags named in `tags` (Catalog's PATCH semantics). */
    readonly patchTags: (
      sandbox: string,
      id: string,
      tags: Tags
    ) => Effect.Effect<Dataset, StoreError.InvalidInput | StoreError.DatasetNotFound>
  }
>() {}

export const layer = Layer.effect(
  Catalog,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const find = (sandbox: string, id: string) =>
      sql<Rows.Dataset>`SELECT * FROM datasets WHERE sandbox = ${sandbox} AND id = ${id}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toDataset)),
        Effect.orDie
      )
    const get = (sandbox: string, id: string) =>
      Effect.flatMap(find(sandbox, id), Option.match({
        onNone: () => Effect.fail(new StoreError.DatasetNotFound({ sandbox, id })),
        onSome: Effect.succeed
      }))

    const create = (sandbox: string, input: DatasetInput) =>
      Effect.gen(function* () {
        if (input.name.trim() === "") return yield* invalid("name is required")
        const schemaRef = input.schemaRef
        if (schemaRef.id === "") {
          return yield* invalid('schemaRef.id is required, e.g. {"id":"https://ns.adobe.com/xdm/context/profile","contentType":"application/vnd.adobe.xed+json;version=1"}')
        }
        const xdmClass = classOf(schemaRef.id, input.xdmClass)
        if (xdmClass === undefined) {
          return yield* invalid(
            `Cannot tell the XDM class of schema "${schemaRef.id}": use a standard class id ` +
              `(${ProfileClassId} or ${ExperienceEventClassId}) or declare "xdmClass" with the schema's meta:class`
          )
        }
        const tags = input.tags ?? {}
        const now = yield* Clock.currentTimeMillis
        const flags = profileFlags(tags)
        const id = randomBytes(12).toString("hex")
        const ref = { id: schemaRef.id, contentType: schemaRef.contentType ?? "application/vnd.adobe.xed+json;version=1" }
        yield* sql`INSERT INTO datasets ${sql.insert({
          sandbox,
          id,
          name: input.name,
          description: input.description ?? null,
          schema_ref: JSON.stringify(ref),
          xdm_class: xdmClass,
          profile_enabled: flags.profileEnabled ? 1 : 0,
          upsert: flags.upsert ? 1 : 0,
          tags: JSON.stringify(tags),
          created_at: now,
          updated_at: now
        })}`.pipe(Effect.orDie)
        return yield* get(sandbox, id).pipe(Effect.orDie)
      })

    const patchTags = (sandbox: string, id: string, tags: Tags) =>
      Effect.gen(function* () {
        const dataset = yield* get(sandbox, id)
        const merged = { ...dataset.tags, ...tags }
        const flags = profileFlags(merged)
        if (dataset.upsert && !flags.upsert && dataset.profileEnabled) {
          // AEP does not allow turning upsert off once records were merged.
          return yield* invalid(`Dataset "${id}" is upsert-enabled; isUpsert cannot be turned off`)
        }
        const now = yield* Clock.currentTimeMillis
        yield* sql`UPDATE datasets SET tags = ${JSON.stringify(merged)}, profile_enabled = ${flags.profileEnabled ? 1 : 0},
          upsert = ${flags.upsert ? 1 : 0}, updated_at = ${now} WHERE sandbox = ${sandbox} AND id = ${id}`.pipe(Effect.orDie)
        return yield* get(sandbox, id).pipe(Effect.orDie)
      })

    return Catalog.of({
      create,
      get,
      find,
      list: (sandbox) =>
        sql<Rows.Dataset>`SELECT * FROM datasets WHERE sandbox = ${sandbox} ORDER BY created_at, id`.pipe(
          Effect.map((rows) => rows.map(toDataset)),
          Effect.orDie
        ),
      patchTags
    })
  })
)
