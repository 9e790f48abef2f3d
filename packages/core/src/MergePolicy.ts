/**
 * Merge policies (`/data/core/ups/config/mergePolicies`): how fragments of an
 * identity graph become one profile.
 *
 * @since 0.1.0
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { PlatformGateway } from "./PlatformGateway.js"
import * as E from "./ProfileError.js"
import { LooseBoolean, open, OpenLiteral } from "./Xdm.js"

export const IdentityGraphType = Schema.Literal("none", "pdg")
export const AttributeMergeType = Schema.Literal("timestampOrdered", "dataSetPrecedence")

export const Sandbox = open(
  {
    sandboxId: Schema.optional(Schema.String),
    sandboxName: Schema.String,
    type: Schema.optional(Schema.String),
    default: Schema.optional(Schema.Boolean),
    isDefault: Schema.optional(Schema.Boolean)
  },
  "Sandbox"
)

export const MergePolicy = open(
  {
    id: Schema.String,
    // Adobe's own example of a single policy has no name.
    name: Schema.optional(Schema.String),
    imsOrgId: Schema.optional(Schema.String),
    sandbox: Schema.optional(Sandbox),
    schema: open({ name: Schema.String }),
    version: Schema.Number,
    // "auto" is an internal graph type that reads may show.
    identityGraph: open({ type: OpenLiteral("none", "pdg", "auto") }),
    attributeMerge: open({
      type: OpenLiteral("timestampOrdered", "dataSetPrecedence"),
      order: Schema.optional(Schema.Array(Schema.String))
    }),
    isActiveOnEdge: Schema.optional(LooseBoolean),
    default: LooseBoolean,
    updateEpoch: Schema.optional(Schema.Number)
  },
  "MergePolicy"
)
export type MergePolicy = typeof MergePolicy.Type

/** Body of create and PUT. Read-only fields (id, version, updateEpoch…) may be sent and are ignored. */
export const MergePolicyInput = open(
  {
    name: Schema.String,
    schema: open({ name: Schema.String }),
    identityGraph: open({ type: IdentityGraphType }),
    attributeMerge: open({ type: AttributeMergeType, order: Schema.optional(Schema.Array(Schema.String)) }),
    default: Schema.optional(LooseBoolean),
    isActiveOnEdge: Schema.optional(LooseBoolean)
  },
  "MergePolicyInput"
)
export type MergePolicyInput = typeof MergePolicyInput.Type

/** One JSON Patch operation; AEP documents `add` on `/name`, `/default`, `/identityGraph.type`… */
export const PatchOperation = open({ op: Schema.String, path: Schema.String, value: Schema.optional(Schema.Unknown) })
export type PatchOperation = typeof PatchOperation.Type

/** The OpenAPI document sends an array; Adobe's guide sends one object: accept both. */
export const MergePolicyPatch = Schema.Union(Schema.Array(PatchOperation), PatchOperation)
export type MergePolicyPatch = typeof MergePolicyPatch.Type

export const MergePolicyList = open(
  {
    _page: open({
      totalCount: Schema.optional(Schema.Number),
      pageSize: Schema.optional(Schema.Number),
      count: Schema.optional(Schema.Number),
      next: Schema.optional(Schema.String)
    }),
    children: Schema.Array(MergePolicy),
    _links: Schema.optional(open({ next: Schema.optional(open({ href: Schema.String })) }))
  },
  "MergePolicyList"
)
export type MergePolicyList = typeof MergePolicyList.Type

export const MergePolicyListQuery = Schema.Struct({
  start: Schema.optional(Schema.String),
  limit: Schema.optional(Schema.NumberFromString),
  orderBy: Schema.optional(Schema.String),
  orderby: Schema.optional(Schema.String),
  "schema.name": Schema.optional(Schema.String),
  default: Schema.optional(Schema.BooleanFromString),
  isActiveOnEdge: Schema.optional(Schema.BooleanFromString),
  "identityGraph.type": Schema.optional(Schema.String),
  "attributeMerge.type": Schema.optional(Schema.String),
  version: Schema.optional(Schema.NumberFromString)
})
export type MergePolicyListQuery = typeof MergePolicyListQuery.Type

export const BulkGetRequest = open({ ids: Schema.Array(open({ id: Schema.String })) }, "MergePolicyBulkGetRequest")
export const BulkGetResult = open(
  { results: Schema.Record({ key: Schema.String, value: MergePolicy }) },
  "MergePolicyBulkGetResult"
)
export type BulkGetResult = typeof BulkGetResult.Type

const id = HttpApiSchema.param("mergePolicyId", Schema.String)

export class MergePoliciesGroup extends HttpApiGroup.make("mergePolicies")
  .add(HttpApiEndpoint.get("list", "/config/mergePolicies").setUrlParams(MergePolicyListQuery).addSuccess(MergePolicyList))
  .add(
    HttpApiEndpoint.post("create", "/config/mergePolicies")
      .setPayload(MergePolicyInput)
      .addSuccess(MergePolicy)
      .addError(E.BadRequestWire)
      .addError(E.UnprocessableWire)
  )
  .add(
    HttpApiEndpoint.post("bulkGet", "/config/mergePolicies/bulk-get")
      .setPayload(BulkGetRequest)
      .addSuccess(BulkGetResult, { status: 207 })
      .addError(E.BadRequestWire)
  )
  .add(HttpApiEndpoint.get("get")`/config/mergePolicies/${id}`.addSuccess(MergePolicy).addError(E.NotFoundWire))
  .add(
    HttpApiEndpoint.put("replace")`/config/mergePolicies/${id}`
      .setPayload(MergePolicyInput)
      .addSuccess(MergePolicy)
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
      .addError(E.UnprocessableWire)
  )
  .add(
    HttpApiEndpoint.patch("patch")`/config/mergePolicies/${id}`
      .setPayload(MergePolicyPatch)
      .addSuccess(MergePolicy)
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
      .addError(E.UnprocessableWire)
  )
  .add(
    HttpApiEndpoint.del("delete")`/config/mergePolicies/${id}`
      .addSuccess(HttpApiSchema.Empty(200))
      .addError(E.NotFoundWire)
      .addError(E.UnprocessableWire)
  )
  .middleware(PlatformGateway)
  .addError(E.ForbiddenWire)
  .addError(E.RateLimitedWire)
  .addError(E.ServerErrorWire)
  .addError(E.ServiceUnavailableWire)
  .prefix("/data/core/ups") {}
