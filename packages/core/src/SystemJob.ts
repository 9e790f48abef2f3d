/**
 * Profile system jobs (`/data/core/ups/system/jobs`): delete requests that
 * remove a dataset, or one batch of an experience event dataset, from the
 * profile store.
 *
 * @since 0.1.0
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { PlatformGateway } from "./PlatformGateway.js"
import * as E from "./ProfileError.js"
import { open, OpenLiteral } from "./Xdm.js"

export const Status = OpenLiteral("NEW", "IN-PROGRESS", "SUCCESS", "ERROR", "FAILED", "PROCESSING", "COMPLETED")
export const RequestType = OpenLiteral("TRUNCATE_DATASET", "DELETE_EE_BATCH", "BACKFILL_TTL")

/** Statuses after which a job changes no more. */
export const terminalStatuses: ReadonlySet<string> = new Set(["SUCCESS", "ERROR", "FAILED", "COMPLETED"])

/**
 * Both wire shapes exist: the newest guide's "request" shape (`requestId`,
 * `requestType`, ISO times) and the legacy one (`id`, `jobType`, epochs).
 */
export const SystemJob = open(
  {
    requestId: Schema.optional(Schema.String),
    requestType: Schema.optional(RequestType),
    id: Schema.optional(Schema.String),
    imsOrgId: Schema.optional(Schema.String),
    sandbox: Schema.optional(open({ sandboxName: Schema.optional(Schema.String), sandboxId: Schema.optional(Schema.String) })),
    status: Status,
    properties: Schema.optional(open({ datasetId: Schema.optional(Schema.String), batchId: Schema.optional(Schema.String) })),
    createdAt: Schema.optional(Schema.String),
    updatedAt: Schema.optional(Schema.String),
    dataSetId: Schema.optional(Schema.String),
    batchId: Schema.optional(Schema.String),
    jobType: Schema.optional(Schema.String),
    metrics: Schema.optional(Schema.Unknown),
    createEpoch: Schema.optional(Schema.Number),
    updateEpoch: Schema.optional(Schema.Number)
  },
  "SystemJob"
)
export type SystemJob = typeof SystemJob.Type

/** The job's id, whichever shape it came in. */
export const jobId = (job: SystemJob): string => job.requestId ?? job.id ?? ""

/** `dataSetId` and `datasetId` are both documented: accept either. */
export const SystemJobRequest = open(
  {
    dataSetId: Schema.optional(Schema.String),
    datasetId: Schema.optional(Schema.String),
    batchId: Schema.optional(Schema.String)
  },
  "SystemJobRequest"
)
export type SystemJobRequest = typeof SystemJobRequest.Type

export const SystemJobList = open(
  {
    _page: open({
      pageSize: Schema.optional(Schema.Number),
      start: Schema.optional(Schema.Union(Schema.String, Schema.Number)),
      totalCount: Schema.optional(Schema.Number),
      count: Schema.optional(Schema.Number),
      next: Schema.optional(Schema.Union(Schema.String, Schema.Number))
    }),
    children: Schema.Array(SystemJob)
  },
  "SystemJobList"
)
export type SystemJobList = typeof SystemJobList.Type

export const SystemJobListQuery = Schema.Struct({
  start: Schema.optional(Schema.NumberFromString),
  limit: Schema.optional(Schema.NumberFromString),
  page: Schema.optional(Schema.NumberFromString),
  sort: Schema.optional(Schema.String)
})
export type SystemJobListQuery = typeof SystemJobListQuery.Type

const id = HttpApiSchema.param("ID", Schema.String)

export class SystemJobsGroup extends HttpApiGroup.make("systemJobs")
  .add(HttpApiEndpoint.get("list", "/system/jobs").setUrlParams(SystemJobListQuery).addSuccess(SystemJobList).addError(E.BadRequestWire))
  .add(
    HttpApiEndpoint.post("create", "/system/jobs")
      .setPayload(SystemJobRequest)
      .addSuccess(SystemJob)
      .addError(E.BadRequestWire)
      .addError(E.UnprocessableWire)
  )
  .add(HttpApiEndpoint.get("get")`/system/jobs/${id}`.addSuccess(SystemJob).addError(E.NotFoundWire))
  .add(HttpApiEndpoint.del("delete")`/system/jobs/${id}`.addSuccess(HttpApiSchema.Empty(200)).addError(E.NotFoundWire))
  .middleware(PlatformGateway)
  .addError(E.ForbiddenWire)
  .addError(E.RateLimitedWire)
  .addError(E.ServerErrorWire)
  .addError(E.ServiceUnavailableWire)
  .prefix("/data/core/ups") {}
