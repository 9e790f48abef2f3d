/**
 * Export jobs (`/data/core/ups/export/jobs`): merged profiles written to a dataset.
 *
 * @since 0.1.0
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { PlatformGateway } from "./PlatformGateway.js"
import * as E from "./ProfileError.js"
import { open, OpenLiteral } from "./Xdm.js"

export const Status = OpenLiteral("NEW", "PROCESSING", "SUCCEEDED", "FAILED", "CANCELLED")

export const Destination = open(
  {
    datasetId: Schema.optional(Schema.String),
    dataSetId: Schema.optional(Schema.String),
    segmentPerBatch: Schema.optional(Schema.Boolean),
    batchId: Schema.optional(Schema.String)
  },
  "ExportDestination"
)

const Timing = open({
  startTimeInMs: Schema.optional(Schema.Number),
  endTimeInMs: Schema.optional(Schema.Number),
  totalTimeInMs: Schema.optional(Schema.Number)
})

export const ExportJobRequest = open(
  {
    fields: Schema.optional(Schema.String),
    mergePolicy: Schema.optional(open({ id: Schema.String, version: Schema.optional(Schema.Number) })),
    filter: Schema.optional(Schema.Unknown),
    additionalFields: Schema.optional(Schema.Unknown),
    destination: Destination,
    schema: open({ name: Schema.String }),
    evaluationInfo: Schema.optional(Schema.Unknown)
  },
  "ExportJobRequest"
)
export type ExportJobRequest = typeof ExportJobRequest.Type

export const ExportJob = open(
  {
    id: Schema.Number,
    jobType: Schema.optional(Schema.String),
    profileInstanceId: Schema.optional(Schema.String),
    schema: Schema.optional(open({ name: Schema.String })),
    mergePolicy: Schema.optional(open({ id: Schema.String, version: Schema.optional(Schema.Number) })),
    fields: Schema.optional(Schema.String),
    filter: Schema.optional(Schema.Unknown),
    additionalFields: Schema.optional(Schema.Unknown),
    status: Status,
    requestId: Schema.optional(Schema.String),
    computeGatewayJobId: Schema.optional(Schema.Unknown),
    metrics: Schema.optional(
      open({
        totalTime: Schema.optional(Timing),
        profileExportTime: Schema.optional(Timing),
        aCPDatasetWriteTime: Schema.optional(Timing),
        totalExportedProfileCounter: Schema.optional(Schema.Number),
        exportedProfileByNamespaceCounter: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Number }))
      })
    ),
    destination: Schema.optional(Destination),
    errors: Schema.optional(Schema.Array(Schema.Unknown)),
    imsOrgId: Schema.optional(Schema.String),
    creationTime: Schema.optional(Schema.Number),
    updateTime: Schema.optional(Schema.Number)
  },
  "ExportJob"
)
export type ExportJob = typeof ExportJob.Type

export const ExportJobList = open(
  {
    records: Schema.Array(ExportJob),
    page: Schema.optional(
      open({
        sortField: Schema.optional(Schema.String),
        sort: Schema.optional(Schema.String),
        pageOffset: Schema.optional(Schema.String),
        pageSize: Schema.optional(Schema.Number)
      })
    ),
    link: Schema.optional(open({ next: Schema.optional(Schema.String) }))
  },
  "ExportJobList"
)
export type ExportJobList = typeof ExportJobList.Type

export const ExportJobListQuery = Schema.Struct({
  limit: Schema.optional(Schema.NumberFromString),
  offset: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String)
})
export type ExportJobListQuery = typeof ExportJobListQuery.Type

export const CancelResult = open({ status: Schema.optional(Schema.Boolean), message: Schema.optional(Schema.String) })

const id = HttpApiSchema.param("exportJobId", Schema.NumberFromString)

export class ExportJobsGroup extends HttpApiGroup.make("exportJobs")
  .add(HttpApiEndpoint.get("list", "/export/jobs").setUrlParams(ExportJobListQuery).addSuccess(ExportJobList).addError(E.BadRequestWire))
  .add(
    HttpApiEndpoint.post("create", "/export/jobs")
      .setPayload(ExportJobRequest)
      .addSuccess(ExportJob)
      .addError(E.BadRequestWire)
      .addError(E.UnprocessableWire)
  )
  .add(HttpApiEndpoint.get("get")`/export/jobs/${id}`.addSuccess(ExportJob).addError(E.NotFoundWire))
  .add(
    HttpApiEndpoint.del("cancel")`/export/jobs/${id}`
      .addSuccess(CancelResult)
      .addSuccess(HttpApiSchema.Empty(204))
      .addError(E.NotFoundWire)
  )
  .middleware(PlatformGateway)
  .addError(E.ForbiddenWire)
  .addError(E.RateLimitedWire)
  .addError(E.ServerErrorWire)
  .addError(E.ServiceUnavailableWire)
  .prefix("/data/core/ups") {}
