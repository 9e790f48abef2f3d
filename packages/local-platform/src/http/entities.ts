/**
 * `/data/core/ups/access/entities`: profile and experience event lookups,
 * many-entity POST, and entity delete.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Entity, PlatformGateway, ProfileApi } from "@rtcp/core"
import { Entities } from "@rtcp/profile-store"
import { type Context, Effect } from "effect"
import { badRequest } from "./errors.js"
import { identityOf, withIdentity } from "./identity.js"
import { aep } from "./storeErrors.js"

const splitFields = (fields: string | undefined) =>
  fields === undefined || fields.trim() === "" ? undefined : fields.split(",").map((f) => f.trim()).filter((f) => f !== "")

const orderOf = (raw: string | undefined) => {
  const value = (raw ?? "+timestamp").trim()
  if (value === "timestamp" || value === "+timestamp" || value === " timestamp") return Effect.succeed(false)
  if (value === "-timestamp") return Effect.succeed(true)
  return Effect.fail(badRequest(`orderby "${raw}" is not supported: use +timestamp or -timestamp`))
}

const asArray = (value: string | ReadonlyArray<string> | undefined) =>
  value === undefined ? undefined : typeof value === "string" ? [value] : value

/**
 * `_links.next.href` keeps the original query and sets the cursor, relative
 * to `/data/core/ups/access`. The cursor goes in `start` (Adobe's guide) and
 * in `offsets`, which aepp (`Profile.getEntity`) reads from the href and
 * sends back alone; either is accepted on the way in.
 */
const nextHref = (url: string, cursor: string | undefined) => {
  if (cursor === undefined) return ""
  const params = new URL(url, "http://local").searchParams
  params.delete("start")
  params.delete("offsets")
  params.set("start", cursor)
  params.set("offsets", cursor)
  return `/entities?${params.toString()}`
}

/** The entity store; its errors become AEP's in `withIdentity` and `aep`. */
export type EntityReads = Context.Tag.Service<Entities.Entities>

/**
 * `GET /access/entities` with its query decoded: one profile, or one page of
 * a profile's experience events. Shared by the HttpApi handler and the lean
 * route (LeanRoute.ts), so both make the same store calls.
 */
export const getEntities = (entities: EntityReads, sandboxName: string, q: Entity.EntityQuery, url: string) =>
  Effect.gen(function* () {
    if (q["schema.name"] === Entity.SchemaName.experienceEvent) {
      if (q["relatedSchema.name"] !== undefined && q["relatedSchema.name"] !== Entity.SchemaName.profile) {
        return yield* badRequest(`relatedSchema.name must be ${Entity.SchemaName.profile}`)
      }
      if (q.relatedEntityId === undefined) {
        return yield* badRequest("relatedEntityId is required for experience events (with relatedEntityIdNS unless it is an XID)")
      }
      const descending = yield* orderOf(q.orderby)
      const page = yield* withIdentity(q.relatedEntityIdNS, q.relatedEntityId, (identity) =>
        entities.getEvents(sandboxName, {
          identity,
          mergePolicyId: q.mergePolicyId,
          fields: splitFields(q.fields),
          startTime: q.startTime,
          endTime: q.endTime,
          limit: q.limit,
          descending,
          property: asArray(q.property),
          start: q.start ?? q.offsets
        })
      )
      return {
        _page: {
          orderby: "timestamp",
          start: page.events[0]?.entityId ?? "",
          count: page.events.length,
          next: page.next ?? ""
        },
        children: page.events,
        _links: { next: { href: nextHref(url, page.next) } }
      }
    }
    if (q.entityId === undefined) {
      return yield* badRequest("entityId is required (with entityIdNS unless it is an XID)")
    }
    const profile = yield* withIdentity(q.entityIdNS, q.entityId, (identity) =>
      entities.getProfile(sandboxName, {
        identity,
        schemaName: q["schema.name"],
        mergePolicyId: q.mergePolicyId,
        fields: splitFields(q.fields),
        withCA: q.withCA
      })
    )
    return { [profile.xid]: profile.body }
  })

/** `POST /access/entities` with its body decoded: many profiles, or the events of many profiles. */
export const postEntities = (entities: EntityReads, sandboxName: string, payload: Entity.EntitiesRequest) =>
  Effect.gen(function* () {
    const schemaName = payload.schema.name
    if (payload.identities.length === 0) return yield* badRequest("identities must list at least one identity")
    if (payload.identities.length > 1000) return yield* badRequest("at most 1000 identities per request")
    if (schemaName === Entity.SchemaName.experienceEvent) {
      const out: Record<string, Entity.EventPage> = {}
      for (const identity of payload.identities) {
        const value = identity.relatedEntityId ?? identity.entityId
        if (value === undefined) return yield* badRequest("each identity needs relatedEntityId (or entityId with entityIdNS)")
        const descending = yield* orderOf(payload.orderby ?? payload.orderBy)
        const page = yield* withIdentity(identity.relatedEntityId ? undefined : identity.entityIdNS?.code, value, (named) =>
          entities.getEvents(sandboxName, {
            identity: named,
            mergePolicyId: payload.mergePolicyId,
            fields: payload.fields,
            startTime: payload.timeFilter?.startTime,
            endTime: payload.timeFilter?.endTime,
            limit: payload.limit,
            descending,
            start: identity.start
          })
        )
        out[page.xid] = {
          _page: { orderby: "timestamp", start: page.events[0]?.entityId ?? "", count: page.events.length, next: page.next ?? "" },
          children: page.events,
          _links: {
            next:
              page.next === undefined
                ? { href: "" }
                : { href: "/entities", payload: { ...payload, identities: [{ relatedEntityId: page.xid, start: page.next }] } }
          }
        }
      }
      return out
    }
    const identities = []
    for (const identity of payload.identities) {
      if (identity.entityId === undefined) return yield* badRequest("each identity needs entityId (and entityIdNS.code unless it is an XID)")
      identities.push(identityOf(identity.entityIdNS?.code, identity.entityId))
    }
    return yield* aep(
      entities.getProfiles(sandboxName, {
        identities,
        schemaName,
        mergePolicyId: payload.mergePolicyId,
        fields: payload.fields,
        withCA: payload.withCA
      })
    )
  })

export const EntitiesLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "entities", (handlers) =>
  Effect.gen(function* () {
    const entities = yield* Entities.Entities
    return handlers
      .handle("get", ({ urlParams: q }) =>
        Effect.gen(function* () {
          const { sandboxName } = yield* PlatformGateway.PlatformContext
          const request = yield* HttpServerRequest.HttpServerRequest
          return yield* getEntities(entities, sandboxName, q, request.url)
        })
      )
      .handle("post", ({ payload }) =>
        Effect.flatMap(PlatformGateway.PlatformContext, ({ sandboxName }) => postEntities(entities, sandboxName, payload))
      )
      .handle("delete", ({ urlParams: q }) =>
        Effect.gen(function* () {
          const { sandboxName } = yield* PlatformGateway.PlatformContext
          if (q["schema.name"] !== Entity.SchemaName.profile) {
            return yield* badRequest(`only ${Entity.SchemaName.profile} entities can be deleted`)
          }
          yield* withIdentity(q.entityIdNS, q.entityId, (identity) => entities.deleteEntity(sandboxName, identity, q.mergePolicyId))
          return HttpServerResponse.empty({ status: 202 })
        })
      )
  })
)
