/**
 * Computed attributes (`/data/core/ca/attributes`): profile attributes
 * aggregated from experience events by a PQL expression.
 *
 * @since 0.1.0
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { PlatformGateway } from "./PlatformGateway.js"
import * as E from "./ProfileError.js"
import { open, OpenLiteral, Repeated } from "./Xdm.js"

export const Status = OpenLiteral("DRAFT", "NEW", "INITIALIZING", "PROCESSING", "PROCESSED", "FAILED", "DISABLED")
export const DurationUnit = Schema.Literal("HOURS", "DAYS", "WEEKS", "MONTHS")

export const Expression = open({ type: Schema.String, format: Schema.String, value: Schema.String }, "PqlExpression")
export const Lookback = open({ count: Schema.Number, unit: DurationUnit }, "Lookback")

export const ComputedAttribute = open(
  {
    id: Schema.String,
    type: Schema.optional(Schema.String),
    name: Schema.String,
    displayName: Schema.optional(Schema.String),
    description: Schema.optional(Schema.String),
    imsOrgId: Schema.optional(Schema.String),
    sandbox: Schema.optional(Schema.Unknown),
    path: Schema.optional(Schema.String),
    positionPath: Schema.optional(Schema.Array(Schema.String)),
    keepCurrent: Schema.optional(Schema.Boolean),
    expression: Expression,
    mergeFunction: Schema.optional(open({ value: Schema.String })),
    status: Status,
    schema: Schema.optional(open({ name: Schema.String })),
    duration: Schema.optional(Lookback),
    returnSchema: Schema.optional(Schema.Unknown),
    definedOn: Schema.optional(Schema.Array(Schema.Unknown)),
    lastEvaluationTs: Schema.optional(Schema.String),
    createEpoch: Schema.optional(Schema.Number),
    updateEpoch: Schema.optional(Schema.Number),
    createdBy: Schema.optional(Schema.String)
  },
  "ComputedAttribute"
)
export type ComputedAttribute = typeof ComputedAttribute.Type

export const ComputedAttributeInput = open(
  {
    name: Schema.String,
    displayName: Schema.String,
    description: Schema.String,
    expression: Expression,
    duration: Lookback,
    keepCurrent: Schema.optional(Schema.Boolean),
    status: Schema.optional(Schema.Literal("DRAFT", "NEW")),
    path: Schema.optional(Schema.String)
  },
  "ComputedAttributeInput"
)
export type ComputedAttributeInput = typeof ComputedAttributeInput.Type

/** PATCH is a partial object: which fields may change depends on the status. */
export const ComputedAttributePatch = open(
  {
    name: Schema.optional(Schema.String),
    displayName: Schema.optional(Schema.String),
    description: Schema.optional(Schema.String),
    expression: Schema.optional(Expression),
    duration: Schema.optional(Lookback),
    keepCurrent: Schema.optional(Schema.Boolean),
    status: Schema.optional(Schema.String)
  },
  "ComputedAttributePatch"
)
export type ComputedAttributePatch = typeof ComputedAttributePatch.Type

const Href = open({ href: Schema.String })

export const ComputedAttributeList = open(
  {
    _links: Schema.optional(
      open({
        self: Schema.optional(Href),
        next: Schema.optional(Href),
        prev: Schema.optional(Href),
        last: Schema.optional(Href)
      })
    ),
    computedAttributes: Schema.Array(ComputedAttribute),
    _page: open({
      offset: Schema.optional(Schema.Number),
      limit: Schema.optional(Schema.Number),
      count: Schema.optional(Schema.Number),
      totalCount: Schema.optional(Schema.Number)
    })
  },
  "ComputedAttributeList"
)
export type ComputedAttributeList = typeof ComputedAttributeList.Type

export const ComputedAttributeListQuery = Schema.Struct({
  limit: Schema.optional(Schema.NumberFromString),
  offset: Schema.optional(Schema.NumberFromString),
  sortBy: Schema.optional(Schema.String),
  property: Schema.optional(Repeated),
  status: Schema.optional(Schema.String),
  state: Schema.optional(Schema.String)
})
export type ComputedAttributeListQuery = typeof ComputedAttributeListQuery.Type

const id = HttpApiSchema.param("ATTRIBUTE_ID", Schema.String)

export class ComputedAttributesGroup extends HttpApiGroup.make("computedAttributes")
  .add(
    HttpApiEndpoint.get("list", "/attributes")
      .setUrlParams(ComputedAttributeListQuery)
      .addSuccess(ComputedAttributeList)
      .addError(E.BadRequestWire)
  )
  .add(
    HttpApiEndpoint.post("create", "/attributes")
      .setPayload(ComputedAttributeInput)
      .addSuccess(ComputedAttribute)
      .addError(E.BadRequestWire)
  )
  .add(HttpApiEndpoint.get("get")`/attributes/${id}`.addSuccess(ComputedAttribute).addError(E.NotFoundWire))
  .add(
    HttpApiEndpoint.patch("patch")`/attributes/${id}`
      .setPayload(ComputedAttributePatch)
      .addSuccess(ComputedAttribute)
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
  )
  .add(
    HttpApiEndpoint.del("delete")`/attributes/${id}`
      .addSuccess(ComputedAttribute, { status: 202 })
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
      .addError(E.UnprocessableWire)
  )
  .middleware(PlatformGateway)
  .addError(E.ForbiddenWire)
  .addError(E.RateLimitedWire)
  .addError(E.ServerErrorWire)
  .addError(E.ServiceUnavailableWire)
  .prefix("/data/core/ca") {}
