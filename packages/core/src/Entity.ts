/**
 * Profile Access: entities and experience events (`/data/core/ups/access/entities`).
 *
 * @since 0.1.0
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { PlatformGateway } from "./PlatformGateway.js"
import * as E from "./ProfileError.js"
import { LooseBoolean, open, Repeated, XdmObject } from "./Xdm.js"

export const SchemaName = {
  profile: "_xdm.context.profile",
  experienceEvent: "_xdm.context.experienceevent",
  account: "_xdm.context.account",
  opportunity: "_xdm.context.opportunity"
} as const

/** The merged entity as lookups return it, keyed by its XID. */
export const ProfileEntity = open(
  {
    entityId: Schema.String,
    sources: Schema.optional(Schema.Array(Schema.String)),
    entity: XdmObject,
    lastModifiedAt: Schema.optional(Schema.String),
    mergePolicy: Schema.optional(open({ id: Schema.String })),
    requestedIdentity: Schema.optional(Schema.Unknown),
    identityGraph: Schema.optional(Schema.Array(Schema.String)),
    tags: Schema.optional(Schema.Array(Schema.String))
  },
  "ProfileEntity"
)
export type ProfileEntity = typeof ProfileEntity.Type

export const ProfileEntities = Schema.Record({ key: Schema.String, value: ProfileEntity }).annotations({
  identifier: "ProfileEntities",
  description: "Merged entities keyed by XID"
})
export type ProfileEntities = typeof ProfileEntities.Type

export const ExperienceEvent = open(
  {
    relatedEntityId: Schema.optional(Schema.String),
    entityId: Schema.String,
    timestamp: Schema.Number,
    entity: XdmObject,
    lastModifiedAt: Schema.optional(Schema.String)
  },
  "ExperienceEvent"
)
export type ExperienceEvent = typeof ExperienceEvent.Type

/** `_links.next`: `href` for GET continuation, plus `payload` for POST continuation. */
export const NextLink = open({ href: Schema.String, payload: Schema.optional(Schema.Unknown) })

export const EventPage = open(
  {
    _page: open({
      orderby: Schema.optional(Schema.String),
      start: Schema.optional(Schema.String),
      count: Schema.Number,
      next: Schema.optional(Schema.String)
    }),
    children: Schema.Array(ExperienceEvent),
    _links: open({ next: Schema.optional(NextLink) })
  },
  "EventPage"
)
export type EventPage = typeof EventPage.Type

/** GET answers a profile map or an event page depending on `schema.name`: one path, two shapes. */
export const EntityLookupResult = Schema.Union(EventPage, ProfileEntities)

/** Query parameters of `GET /access/entities` for profiles and for experience events. */
export const EntityQuery = Schema.Struct({
  "schema.name": Schema.String,
  entityId: Schema.optional(Schema.String),
  entityIdNS: Schema.optional(Schema.String),
  fields: Schema.optional(Schema.String),
  mergePolicyId: Schema.optional(Schema.String),
  withCA: Schema.optional(Schema.BooleanFromString),
  "relatedSchema.name": Schema.optional(Schema.String),
  relatedEntityId: Schema.optional(Schema.String),
  relatedEntityIdNS: Schema.optional(Schema.String),
  startTime: Schema.optional(Schema.NumberFromString),
  endTime: Schema.optional(Schema.NumberFromString),
  limit: Schema.optional(Schema.NumberFromString),
  orderby: Schema.optional(Schema.String),
  property: Schema.optional(Repeated),
  /** Continuation cursor copied from `_links.next.href`. */
  start: Schema.optional(Schema.String),
  /** The same cursor under the name some clients (aepp) read from `_links.next.href`. */
  offsets: Schema.optional(Schema.String)
})
export type EntityQuery = typeof EntityQuery.Type

export const IdentityRequest = open({
  entityId: Schema.optional(Schema.String),
  entityIdNS: Schema.optional(open({ code: Schema.String })),
  relatedEntityId: Schema.optional(Schema.String),
  start: Schema.optional(Schema.String)
})

/** Body of `POST /access/entities`: many profiles, or the events of many profiles. */
export const EntitiesRequest = open(
  {
    schema: open({ name: Schema.String }),
    relatedSchema: Schema.optional(open({ name: Schema.String })),
    identities: Schema.Array(IdentityRequest),
    fields: Schema.optional(Schema.Array(Schema.String)),
    timeFilter: Schema.optional(
      open({ startTime: Schema.optional(Schema.Number), endTime: Schema.optional(Schema.Number) })
    ),
    limit: Schema.optional(Schema.Number),
    orderby: Schema.optional(Schema.String),
    orderBy: Schema.optional(Schema.String),
    mergePolicyId: Schema.optional(Schema.String),
    withCA: Schema.optional(LooseBoolean)
  },
  "EntitiesRequest"
)
export type EntitiesRequest = typeof EntitiesRequest.Type

export const EntitiesResult = Schema.Record({ key: Schema.String, value: Schema.Union(EventPage, ProfileEntity) })
export type EntitiesResult = typeof EntitiesResult.Type

/** 207: some identities failed. */
export const PartialFailure = Schema.Array(
  open({ xid: Schema.optional(Schema.String), error: Schema.optional(Schema.Unknown) })
).annotations({ identifier: "ErrorResponseById" })
export type PartialFailure = typeof PartialFailure.Type

export const DeleteEntityQuery = Schema.Struct({
  "schema.name": Schema.String,
  entityId: Schema.String,
  entityIdNS: Schema.optional(Schema.String),
  mergePolicyId: Schema.optional(Schema.String)
})
export type DeleteEntityQuery = typeof DeleteEntityQuery.Type

export const Accepted = HttpApiSchema.Empty(202)

export class EntitiesGroup extends HttpApiGroup.make("entities")
  .add(
    HttpApiEndpoint.get("get", "/access/entities")
      .setUrlParams(EntityQuery)
      .addSuccess(EntityLookupResult)
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
      .addError(E.TooManyRelatedIdentitiesWire)
      .addError(E.UnprocessableWire)
      .annotate(OpenApi.Description, "Look up one profile, or the experience events of one profile (schema.name decides)")
  )
  .add(
    HttpApiEndpoint.post("post", "/access/entities")
      .setPayload(EntitiesRequest)
      .addSuccess(EntitiesResult)
      .addSuccess(PartialFailure, { status: 207 })
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
      .addError(E.TooManyRelatedIdentitiesWire)
      .addError(E.UnprocessableWire)
  )
  .add(
    HttpApiEndpoint.del("delete", "/access/entities")
      .setUrlParams(DeleteEntityQuery)
      .addSuccess(Accepted)
      .addSuccess(PartialFailure, { status: 207 })
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
      .addError(E.TooManyRelatedIdentitiesWire)
      .addError(E.UnprocessableWire)
  )
  .middleware(PlatformGateway)
  .addError(E.ForbiddenWire)
  .addError(E.RateLimitedWire)
  .addError(E.ServerErrorWire)
  .addError(E.ServiceUnavailableWire)
  .prefix("/data/core/ups") {}
