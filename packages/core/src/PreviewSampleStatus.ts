/**
 * Preview sample status and its reports (`/data/core/ups/previewsamplestatus`):
 * what the profile store holds, measured by the last sample job.
 *
 * @since 0.1.0
 */
import { HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { Schema } from "effect"
import { PlatformGateway } from "./PlatformGateway.js"
import * as E from "./ProfileError.js"
import { open } from "./Xdm.js"

/** AEP sends several counts as strings, some as JSON inside a string (`"\"300803\""`); keep them as sent. */
const Loose = Schema.Union(Schema.String, Schema.Number)

export const SampleStatus = open(
  {
    numRowsToRead: Schema.optional(Loose),
    sampleJobRunning: Schema.optional(
      open({ status: Schema.Boolean, submissionTimestamp: Schema.optional(Schema.NullOr(Schema.String)) })
    ),
    cosmosDocCount: Schema.optional(Loose),
    docCount: Schema.optional(Loose),
    totalFragmentCount: Schema.optional(Schema.Number),
    lastSuccessfulBatchTimestamp: Schema.optional(Schema.NullOr(Loose)),
    streamingDriven: Schema.optional(Schema.Unknown),
    totalRows: Schema.optional(Loose),
    lastBatchId: Schema.optional(Schema.NullOr(Schema.String)),
    status: Schema.optional(Schema.String),
    samplingRatio: Schema.optional(Schema.Number),
    mergeStrategy: Schema.optional(Schema.String),
    lastSampledTimestamp: Schema.optional(Schema.NullOr(Schema.String))
  },
  "PreviewSampleStatus"
)
export type SampleStatus = typeof SampleStatus.Type

export const DatasetReportItem = open({
  sampleCount: Schema.Number,
  samplePercentage: Schema.Number,
  fullIDsCount: Schema.Number,
  fullIDsPercentage: Schema.Number,
  name: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  value: Schema.String,
  streamingIngestionEnabled: Schema.optional(Schema.Unknown),
  createdUser: Schema.optional(Schema.String),
  reportTimestamp: Schema.optional(Schema.String)
})

export const DatasetReport = open(
  { data: Schema.Array(DatasetReportItem), reportTimestamp: Schema.optional(Schema.String) },
  "DatasetReport"
)
export type DatasetReport = typeof DatasetReport.Type

export const NamespaceReportItem = open({
  sampleCount: Schema.Number,
  samplePercentage: Schema.Number,
  reportTimestamp: Schema.optional(Schema.String),
  fullIDsFragmentCount: Schema.Number,
  fullIDsCount: Schema.Number,
  fullIDsPercentage: Schema.Number,
  code: Schema.String,
  value: Schema.optional(Schema.String)
})

export const NamespaceReport = open(
  { data: Schema.Array(NamespaceReportItem), reportTimestamp: Schema.optional(Schema.String) },
  "NamespaceReport"
)
export type NamespaceReport = typeof NamespaceReport.Type

/** Key: comma-joined sorted set of datasets (or namespaces); value: profiles with exactly that set. */
export const OverlapReport = open(
  { data: Schema.Record({ key: Schema.String, value: Schema.Number }), reportTimestamp: Schema.optional(Schema.String) },
  "OverlapReport"
)
export type OverlapReport = typeof OverlapReport.Type

const Bucket = open({
  countOfProfiles: Schema.optional(Schema.Number),
  eventsAssociated: Schema.optional(Schema.Number),
  nsDistribution: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})

export const UnstitchedProfilesReport = open(
  {
    data: open({
      totalNumberOfProfiles: Schema.optional(Schema.Number),
      totalNumberOfEvents: Schema.optional(Schema.Number),
      unstitchedProfiles: Schema.optional(Schema.Record({ key: Schema.String, value: Bucket }))
    }),
    reportTimestamp: Schema.optional(Schema.String)
  },
  "UnstitchedProfilesReport"
)
export type UnstitchedProfilesReport = typeof UnstitchedProfilesReport.Type

/** `date=YYYY-MM-DD`: the latest report of that day (404 if none); the latest overall when omitted. */
export const ReportQuery = Schema.Struct({
  date: Schema.optional(Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}$/)))
})

export class PreviewSampleStatusGroup extends HttpApiGroup.make("previewSampleStatus")
  .add(HttpApiEndpoint.get("status", "/previewsamplestatus").addSuccess(SampleStatus))
  .add(
    HttpApiEndpoint.get("datasetReport", "/previewsamplestatus/report/dataset")
      .setUrlParams(ReportQuery)
      .addSuccess(DatasetReport)
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
  )
  .add(
    HttpApiEndpoint.get("namespaceReport", "/previewsamplestatus/report/namespace")
      .setUrlParams(ReportQuery)
      .addSuccess(NamespaceReport)
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
  )
  .add(
    HttpApiEndpoint.get("datasetOverlapReport", "/previewsamplestatus/report/dataset/overlap")
      .setUrlParams(ReportQuery)
      .addSuccess(OverlapReport)
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
  )
  .add(
    HttpApiEndpoint.get("namespaceOverlapReport", "/previewsamplestatus/report/namespace/overlap")
      .setUrlParams(ReportQuery)
      .addSuccess(OverlapReport)
      .addError(E.BadRequestWire)
      .addError(E.NotFoundWire)
  )
  .add(
    HttpApiEndpoint.get("unstitchedProfilesReport", "/previewsamplestatus/report/unstitchedProfiles")
      .addSuccess(UnstitchedProfilesReport)
      .addError(E.NotFoundWire)
  )
  .middleware(PlatformGateway)
  .addError(E.ForbiddenWire)
  .addError(E.RateLimitedWire)
  .addError(E.ServerErrorWire)
  .addError(E.ServiceUnavailableWire)
  .prefix("/data/core/ups") {}
