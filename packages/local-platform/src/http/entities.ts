/**
 * `/data/core/ups/access/entities`: profile and experience event lookups,
 * many-entity POST, and entity delete.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Entity, PlatformGateway, ProfileApi } from "@rtcp/core"
import { Entities } from "@rtcp/profile-store"
import { Effect } from "effect"
import { badRequest } from "./errors.js"
import { aepService } from "./storeErrors.js"

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

/** `_links.next.href` keeps the original query and replaces `start`, relative to `/data/core/ups/access`. */
const nextHref = (url: string, cursor: string | undefined) => {
  if (cursor === undefined) return ""
  const params = new URL(url, "http://local").searchParams
  params.delete("start")
  params.set("start", cursor)
  return `/entities?${params.toString()}`
}

export const EntitiesLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "entities", (handlers) =>
  Effect.gen(function* () {
    const entities = aepService(yield* Entities.Entities)
    return handlers
      .handle("get", ({ urlParams: q }) =>
        Effect.gen(function* () {
          const { sandboxName } = yield* PlatformGateway.PlatformContext
          const request = yield* HttpServerRequest.HttpServerRequest
          if (q["schema.name"] === Entity.SchemaName.experienceEvent) {
            if (q["relatedSchema.name"] !== undefined && q["relatedSchema.name"] !== Entity.SchemaName.profile) {
              return yield* badRequest(`relatedSchema.name must be ${Entity.SchemaName.profile}`)
            }
            if (q.relatedEntityId === undefined) {
              return yield* badRequest("relatedEntityId is required for experience events (with relatedEntityIdNS unless it is an XID)")
            }
            const page = yield* entities.getEvents(sandboxName, {
              identity: { namespace: q.relatedEntityIdNS, value: q.relatedEntityId },
              mergePolicyId: q.mergePolicyId,
              fields: splitFields(q.fields),
              startTime: q.startTime,
              endTime: q.endTime,
              limit: q.limit,
              descending: yield* orderOf(q.orderby),
              property: asArray(q.property),
              start: q.start
            })
            return {
              _page: {
                orderby: "timestamp",
                start: page.events[0]?.entityId ?? "",
                count: page.events.length,
                next: page.next ?? ""
              },
              children: page.events,
              _links: { next: { href: nextHref(request.url, page.next) } }
            }
          }
          if (q.entityId === undefined) {
            return yield* badRequest("entityId is required (with entityIdNS unless it is an XID)")
          }
          const profile = yield* entities.getProfile(sandboxName, {
            identity: { namespace: q.entityIdNS, value: q.entityId },
            schemaName: q["schema.name"],
            mergePolicyId: q.mergePolicyId,
            fields: splitFields(q.fields),
            withCA: q.withCA
          })
          return { [profile.xid]: profile.body }
        })
      )
      .handle("post", ({ payload }) =>
        Effect.gen(function* () {
          const { sandboxName } = yield* PlatformGateway.PlatformContext
          const schemaName = payload.schema.name
          if (payload.identities.length === 0) return yield* badRequest("identities must list at least one identity")
          if (payload.identities.length > 1000) return yield* badRequest("at most 1000 identities per request")
          if (schemaName === Entity.SchemaName.experienceEvent) {
            const out: Record<string, Entity.EventPage> = {}
            for (const identity of payload.identities) {
              const value = identity.relatedEntityId ?? identity.entityId
              if (value === undefined) return yield* badRequest("each identity needs relatedEntityId (or entityId with entityIdNS)")
              const page = yield* entities.getEvents(sandboxName, {
                identity: { namespace: identity.relatedEntityId ? undefined : identity.entityIdNS?.code, value },
                mergePolicyId: payload.mergePolicyId,
                fields: payload.fields,
                startTime: payload.timeFilter?.startTime,
                endTime: payload.timeFilter?.endTime,
                limit: payload.limit,
                descending: yield* orderOf(payload.orderby ?? payload.orderBy),
                start: identity.start
              })
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
            identities.push({ namespace: identity.entityIdNS?.code, value: identity.entityId })
          }
          return yield* entities.getProfiles(sandboxName, {
            identities,
            schemaName,
            mergePolicyId: payload.mergePolicyId,
            fields: payload.fields,
            withCA: payload.withCA
          })
        })
      )
      .handle("delete", ({ urlParams: q }) =>
        Effect.gen(function* () {
          const { sandboxName } = yield* PlatformGateway.PlatformContext
          if (q["schema.name"] !== Entity.SchemaName.profile) {
            return yield* badRequest(`only ${Entity.SchemaName.profile} entities can be deleted`)
          }
          yield* entities.deleteEntity(sandboxName, { namespace: q.entityIdNS, value: q.entityId }, q.mergePolicyId)
          return HttpServerResponse.empty({ status: 202 })
        })
      )
  })
)
