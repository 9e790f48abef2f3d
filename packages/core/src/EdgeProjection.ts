/**
 * Edge projections: destinations (`/config/destinations`: where merged
 * profiles are replicated) and projection configurations
 * (`/config/projections`: which fields of which schema go there).
 * Both use Adobe's vendor media types.
 *
 * @since 0.1.0
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { PlatformGateway } from "./PlatformGateway.js"
import * as E from "./ProfileError.js"
import { open, OpenLiteral } from "./Xdm.js"

export const MediaType = {
  destination: "application/vnd.adobe.platform.projectionDestination+json; version=1",
  destinationList: "application/vnd.adobe.platform.projectionDestinationList+json; version=1",
  projection: "application/vnd.adobe.platform.projectionConfig+json; version=1",
  projectionList: "application/vnd.adobe.platform.projectionConfigList+json; version=1"
} as const

const vendorJson = <S extends Schema.Schema.Any>(schema: S, contentType: string) =>
  HttpApiSchema.withEncoding(schema, { kind: "Json", contentType })

const Link = open({ href: Schema.String, templated: Schema.optional(Schema.Boolean) })

export const DataCenter = OpenLiteral("OR1", "VA5", "NLD1")

export const Destination = open(
  {
    self: Schema.optional(Link),
    _links: Schema.optional(open({ self: Schema.optional(Link) })),
    id: Schema.String,
    type: Schema.String,
    dataCenters: Schema.Array(DataCenter),
    ttl: Schema.optional(Schema.Number),
    replicationPolicy: Schema.optional(OpenLiteral("PROACTIVE", "REACTIVE")),
    version: Schema.Number
  },
  "ProjectionDestination"
)
export type Destination = typeof Destination.Type

export const DestinationInput = open(
  {
    type: Schema.String,
    dataCenters: Schema.Array(Schema.String),
    ttl: Schema.optional(Schema.Number),
    replicationPolicy: Schema.optional(Schema.String),
    currentVersion: Schema.optional(Schema.Number)
  },
  "ProjectionDestinationInput"
)
export type DestinationInput = typeof DestinationInput.Type

export const DestinationList = open(
  {
    _links: Schema.optional(open({ self: Schema.optional(Link) })),
    _embedded: open({ projectionDestinations: Schema.Array(Destination) })
  },
  "ProjectionDestinationList"
)
export type DestinationList = typeof DestinationList.Type

export const Projection = open(
  {
    _links: Schema.optional(open({ self: Schema.optional(Link), destination: Schema.optional(Link) })),
    _embedded: Schema.optional(open({ destination: Schema.optional(Destination) })),
    id: Schema.String,
    name: Schema.String,
    selector: Schema.String,
    destinationId: Schema.String,
    schemaName: Schema.String,
    mergePolicyId: Schema.optional(Schema.String),
    version: Schema.Number
  },
  "ProjectionConfig"
)
export type Projection = typeof Projection.Type

export const ProjectionInput = open(
  {
    name: Schema.String,
    selector: Schema.String,
    destinationId: Schema.String,
    mergePolicyId: Schema.optional(Schema.String),
    currentVersion: Schema.optional(Schema.Number)
  },
  "ProjectionConfigInput"
)
export type ProjectionInput = typeof ProjectionInput.Type

export const ProjectionList = open(
  {
    _links: Schema.optional(open({ self: Schema.optional(Link) })),
    _embedded: open({ projectionConfigs: Schema.Array(Projection) })
  },
  "ProjectionConfigList"
)
export type ProjectionList = typeof ProjectionList.Type

export const ProjectionListQuery = Schema.Struct({
  schemaName: Schema.optional(Schema.String),
  name: Schema.optional(Schema.String)
})
export const ProjectionCreateQuery = Schema.Struct({ schemaName: Schema.String })

const destinationId = HttpApiSchema.param("destinationId", Schema.String)
const projectionId = HttpApiSchema.param("projectionId", Schema.String)



export class DestinationsGroup extends HttpApiGroup.make("destinations")
  .add(
    HttpApiEndpoint.get("list", "/config/destinations").addSuccess(vendorJson(DestinationList, MediaType.destinationList))
  )
  .add(
    HttpApiEndpoint.post("create", "/config/destinations")
      .setPayload(vendorJson(DestinationInput, MediaType.destination))
      .addSuccess(vendorJson(Destination, MediaType.destination))
      .addError(E.BadRequestWire)
      .addError(E.UnsupportedMediaTypeWire)
  )
  .add(
    HttpApiEndpoint.get("get")`/config/destinations/${destinationId}`
      .addSuccess(vendorJson(Destination, MediaType.destination))
      .addError(E.NotFoundWire)
  )
  .add(
    HttpApiEndpoint.put("replace")`/config/destinations/${destinationId}`
      .setPayload(vendorJson(DestinationInput, MediaType.destination))
      .addSuccess(vendorJson(Destination, MediaType.destination))
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
      .addError(E.UnsupportedMediaTypeWire)
  )
  .add(
    HttpApiEndpoint.del("delete")`/config/destinations/${destinationId}`
      .addSuccess(HttpApiSchema.Empty(204))
      .addError(E.NotFoundWire)
      .addError(E.UnprocessableWire)
  )
  .middleware(PlatformGateway)
  .addError(E.ForbiddenWire)
  .addError(E.RateLimitedWire)
  .addError(E.ServerErrorWire)
  .addError(E.ServiceUnavailableWire)
  .prefix("/data/core/ups") {}

export class ProjectionsGroup extends HttpApiGroup.make("projections")
  .add(
    HttpApiEndpoint.get("list", "/config/projections")
      .setUrlParams(ProjectionListQuery)
      .addSuccess(vendorJson(ProjectionList, MediaType.projectionList))
      .addError(E.BadRequestWire)
  )
  .add(
    HttpApiEndpoint.post("create", "/config/projections")
      .setUrlParams(ProjectionCreateQuery)
      .setPayload(vendorJson(ProjectionInput, MediaType.projection))
      .addSuccess(vendorJson(Projection, MediaType.projection))
      .addError(E.BadRequestWire)
      .addError(E.UnsupportedMediaTypeWire)
      .addError(E.UnprocessableWire)
  )
  .add(
    HttpApiEndpoint.get("get")`/config/projections/${projectionId}`
      .addSuccess(vendorJson(Projection, MediaType.projection))
      .addError(E.NotFoundWire)
  )
  .add(
    HttpApiEndpoint.put("replace")`/config/projections/${projectionId}`
      .setPayload(vendorJson(ProjectionInput, MediaType.projection))
      .addSuccess(vendorJson(Projection, MediaType.projection))
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
      .addError(E.UnsupportedMediaTypeWire)
      .addError(E.UnprocessableWire)
  )
  .add(
    HttpApiEndpoint.del("delete")`/config/projections/${projectionId}`
      .addSuccess(HttpApiSchema.Empty(204))
      .addError(E.NotFoundWire)
  )
  .middleware(PlatformGateway)
  .addError(E.ForbiddenWire)
  .addError(E.RateLimitedWire)
  .addError(E.ServerErrorWire)
  .addError(E.ServiceUnavailableWire)
  .prefix("/data/core/ups") {}
