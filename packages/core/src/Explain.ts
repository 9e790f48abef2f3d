/**
 * Explain a merged profile: an rtcp extension of the Profile API that no AEP
 * client has. For a profile and a merge policy it says which fragment
 * (dataset, batch, ingestion time, record timestamp) supplied each attribute
 * and which values it beat, and which link joined each identity into the
 * identity graph.
 *
 * Only the local Profile API (`@rtcp/local-platform`) serves it, at
 * `GET /rtcp/explain/profile`, behind the same gateway headers as Platform
 * calls. Adobe's Platform has no such path: there the call fails with
 * `NotFound` (404).
 *
 * The `rtcp` group lives in the one contract so that the client and the
 * local server are derived from it like every other operation, but it is
 * left out of the OpenAPI document (`OpenApi.Exclude`): that document
 * describes Adobe's API, and an operation Adobe does not have would mislead
 * its readers.
 *
 * @since 0.1.0
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { PlatformGateway } from "./PlatformGateway.js"
import * as E from "./ProfileError.js"

/** Where a value came from: one fragment of the profile. */
export const Source = Schema.Struct({
  datasetId: Schema.String,
  datasetName: Schema.String,
  /** Null for streamed records. */
  batchId: Schema.NullOr(Schema.String),
  /** Epoch ms. */
  ingestedAt: Schema.Number,
  /** The record's own timestamp (`extSourceSystemAudit.lastUpdatedDate`), epoch ms, if it had one. */
  recordTimestamp: Schema.NullOr(Schema.Number)
})
export type Source = typeof Source.Type

export const ExplainedAttribute = Schema.Struct({
  /** Dot path, e.g. `person.name.firstName`. */
  path: Schema.String,
  value: Schema.Unknown,
  source: Source,
  /** What other fragments held at this path, in the order the merge applied them. */
  beaten: Schema.Array(Schema.Struct({ value: Schema.Unknown, source: Source }))
})
export type ExplainedAttribute = typeof ExplainedAttribute.Type

export const IdentityLink = Schema.Struct({
  datasetId: Schema.String,
  /** Null for streamed records. */
  batchId: Schema.NullOr(Schema.String),
  /** The member this identity was linked to. */
  linkedTo: Schema.Struct({ namespace: Schema.String, id: Schema.String }),
  /** Epoch ms. */
  firstSeen: Schema.Number,
  lastSeen: Schema.Number
})
export type IdentityLink = typeof IdentityLink.Type

export const ExplainedIdentity = Schema.Struct({
  namespace: Schema.String,
  id: Schema.String,
  primary: Schema.Boolean,
  /**
   * The earliest link that joined this identity to the graph; null for the
   * primary identity, and for one whose links were deleted with their data.
   */
  link: Schema.NullOr(IdentityLink)
})
export type ExplainedIdentity = typeof ExplainedIdentity.Type

export const ProfileExplanation = Schema.Struct({
  /** The profile's XID, as `entityId` of a lookup. */
  entityId: Schema.String,
  mergePolicy: Schema.Struct({
    id: Schema.String,
    name: Schema.String,
    version: Schema.Number,
    attributeMerge: Schema.Struct({ type: Schema.String }),
    identityGraph: Schema.Struct({ type: Schema.String })
  }),
  attributes: Schema.Array(ExplainedAttribute),
  identities: Schema.Array(ExplainedIdentity)
}).annotations({ identifier: "ProfileExplanation" })
export type ProfileExplanation = typeof ProfileExplanation.Type

export const ExplainQuery = Schema.Struct({
  entityId: Schema.String,
  /** Omitted when `entityId` is an XID. */
  entityIdNS: Schema.optional(Schema.String),
  /** Omitted: the sandbox's default profile merge policy. */
  mergePolicyId: Schema.optional(Schema.String),
  /** Accepted (lookups send it) and ignored: only profiles are explained. */
  "schema.name": Schema.optional(Schema.String)
})

export class RtcpGroup extends HttpApiGroup.make("rtcp")
  .add(
    HttpApiEndpoint.get("explainProfile", "/rtcp/explain/profile")
      .setUrlParams(ExplainQuery)
      .addSuccess(ProfileExplanation)
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
  .annotate(OpenApi.Exclude, true) {}
