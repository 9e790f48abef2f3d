/**
 * An export job request as AEP's API reads it (`POST /export/jobs`): every
 * documented field is checked before anything is created, and each message
 * says what to fix. The store then checks what needs the database (merge
 * policy, destination dataset). And the job as AEP's API answers it (create,
 * get and list).
 */
import type { ExportJob } from "@rtcp/core"
import { ExportJobs } from "@rtcp/profile-store"

const { PROFILE_SCHEMA, SEGMENT_STATUSES } = ExportJobs
type ExportRequest = ExportJobs.Request
type SegmentFilter = ExportJobs.SegmentFilter
type EventSelection = ExportJobs.EventSelection
type SegmentStatus = SegmentFilter["status"][number]

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const asBoolean = (u: unknown): boolean | undefined =>
  typeof u === "boolean" ? u : u === "true" ? true : u === "false" ? false : undefined

const DATE_TIME = /^\d{4}-\d{2}-\d{2}/

/** An RFC 3339 date-time (or, liberally, epoch ms) as epoch ms. */
const timestampOf = (u: unknown): number | undefined => {
  if (typeof u === "number") return Number.isFinite(u) && u >= 0 ? u : undefined
  if (typeof u !== "string" || !DATE_TIME.test(u.trim())) return undefined
  const ms = Date.parse(u.trim())
  return Number.isNaN(ms) ? undefined : ms
}

/** A comma-separated list of paths (`identities.id,person.name`); undefined when empty. */
const splitFields = (raw: string): ReadonlyArray<string> | undefined => {
  const fields = raw.split(",").map((field) => field.trim()).filter((field) => field !== "")
  return fields.length === 0 ? undefined : fields
}

type Result<A> = { readonly ok: A; readonly error?: undefined } | { readonly error: string; readonly ok?: undefined }
const fail = (error: string): Result<never> => ({ error })

const FIELD_PATH = /^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/

const readFields = (raw: unknown, name: string): Result<ReadonlyArray<string> | undefined> => {
  if (raw === undefined) return { ok: undefined }
  if (typeof raw !== "string") return fail(`${name} must be a comma-separated string of paths, e.g. "identities,person.name"`)
  const fields = splitFields(raw)
  const wrong = fields?.find((field) => !FIELD_PATH.test(field))
  if (wrong !== undefined) return fail(`${name}: "${wrong}" is not a dot-separated field path`)
  return { ok: fields }
}

const readTimestamp = (raw: unknown, name: string): Result<number | undefined> => {
  if (raw === undefined) return { ok: undefined }
  const ms = timestampOf(raw)
  return ms === undefined ? fail(`${name} must be an RFC 3339 date-time such as "2025-01-31T12:00:00Z"`) : { ok: ms }
}

const readSegments = (raw: unknown): Result<ReadonlyArray<SegmentFilter> | undefined> => {
  if (raw === undefined) return { ok: undefined }
  if (!Array.isArray(raw)) return fail('filter.segments must be an array of {"segmentId":"…","segmentNs":"ups","status":["realized"]}')
  const out: Array<SegmentFilter> = []
  for (const [index, segment] of raw.entries()) {
    const at = `filter.segments[${index}]`
    if (!isObject(segment) || typeof segment.segmentId !== "string" || segment.segmentId.trim() === "") {
      return fail(`${at}.segmentId is required (a segment definition id)`)
    }
    if (segment.segmentNs !== undefined && (typeof segment.segmentNs !== "string" || segment.segmentNs === "")) {
      return fail(`${at}.segmentNs must be a namespace such as "ups", "AAM" or "AdCloud"`)
    }
    let status: ReadonlyArray<SegmentStatus> = ["realized", "existing"]
    if (segment.status !== undefined) {
      if (
        !Array.isArray(segment.status) ||
        segment.status.length === 0 ||
        !segment.status.every((s) => SEGMENT_STATUSES.includes(s as SegmentStatus))
      ) {
        return fail(`${at}.status must be a non-empty array of ${SEGMENT_STATUSES.join(", ")}`)
      }
      status = segment.status as Array<SegmentStatus>
    }
    out.push({ segmentId: segment.segmentId, segmentNs: (segment.segmentNs as string | undefined) ?? "ups", status })
  }
  return { ok: out.length === 0 ? undefined : out }
}

const readEvents = (raw: unknown): Result<EventSelection | undefined> => {
  if (raw === undefined) return { ok: undefined }
  if (!isObject(raw)) return fail('additionalFields must be an object such as {"eventList":{"fields":"environment.browserDetails.name"}}')
  const list = raw.eventList
  if (list === undefined) return { ok: undefined }
  if (!isObject(list)) return fail('additionalFields.eventList must be an object: {"fields":"…","filter":{"fromIngestTimestamp":"…"}}')
  const fields = readFields(list.fields, "additionalFields.eventList.fields")
  if (fields.error !== undefined) return fail(fields.error)
  const filter = list.filter
  if (filter !== undefined && !isObject(filter)) {
    return fail("additionalFields.eventList.filter must be an object with fromIngestTimestamp and/or toIngestTimestamp")
  }
  const from = readTimestamp(filter?.fromIngestTimestamp, "additionalFields.eventList.filter.fromIngestTimestamp")
  if (from.error !== undefined) return fail(from.error)
  const to = readTimestamp(filter?.toIngestTimestamp, "additionalFields.eventList.filter.toIngestTimestamp")
  if (to.error !== undefined) return fail(to.error)
  if (from.ok !== undefined && to.ok !== undefined && from.ok >= to.ok) {
    return fail("additionalFields.eventList.filter.fromIngestTimestamp must be before toIngestTimestamp")
  }
  return { ok: { fields: fields.ok, fromIngestTimestamp: from.ok, toIngestTimestamp: to.ok } }
}

/** Checks a whole request body; `Result.error` is the detail of a 400. */
const read = (body: unknown): Result<ExportRequest> => {
  if (!isObject(body)) return fail("the body must be an export job object")
  const schema = body.schema
  if (!isObject(schema) || typeof schema.name !== "string") return fail(`schema.name is required: {"name":"${PROFILE_SCHEMA}"}`)
  if (schema.name !== PROFILE_SCHEMA) {
    return fail(`schema.name "${schema.name}" cannot be exported: only ${PROFILE_SCHEMA} (merged profiles) can`)
  }

  const destination = body.destination
  if (!isObject(destination)) return fail('destination is required: {"datasetId":"<dataset id>"}')
  const { dataSetId, datasetId } = destination
  if (datasetId !== undefined && typeof datasetId !== "string") return fail("destination.datasetId must be a string")
  if (dataSetId !== undefined && typeof dataSetId !== "string") return fail("destination.dataSetId must be a string")
  if (datasetId && dataSetId && datasetId !== dataSetId) {
    return fail("destination.datasetId and destination.dataSetId name different datasets: send one of them")
  }
  const target = (datasetId || dataSetId) as string | undefined
  if (target === undefined || target.trim() === "") return fail('destination.datasetId is required: {"datasetId":"<dataset id>"}')
  const segmentPerBatch = destination.segmentPerBatch === undefined ? false : asBoolean(destination.segmentPerBatch)
  if (segmentPerBatch === undefined) return fail("destination.segmentPerBatch must be a boolean")

  const fields = readFields(body.fields, "fields")
  if (fields.error !== undefined) return fail(fields.error)

  let mergePolicyId: string | undefined
  let mergePolicyVersion: number | undefined
  if (body.mergePolicy !== undefined) {
    const policy = body.mergePolicy
    if (!isObject(policy) || typeof policy.id !== "string" || policy.id.trim() === "") {
      return fail('mergePolicy must name a policy: {"id":"<merge policy id>","version":1}')
    }
    if (policy.version !== undefined && (typeof policy.version !== "number" || !Number.isInteger(policy.version) || policy.version < 1)) {
      return fail("mergePolicy.version must be a positive integer")
    }
    mergePolicyId = policy.id
    mergePolicyVersion = policy.version as number | undefined
  }

  const filter = body.filter
  if (filter !== undefined && !isObject(filter)) {
    return fail('filter must be an object such as {"fromIngestTimestamp":"2025-01-01T00:00:00Z","emptyProfiles":false}')
  }
  const segments = readSegments(filter?.segments)
  if (segments.error !== undefined) return fail(segments.error)
  const qualification = filter?.segmentQualificationTime
  if (qualification !== undefined) {
    if (!isObject(qualification)) return fail("filter.segmentQualificationTime must be an object with startTime and/or endTime")
    for (const key of ["startTime", "endTime"] as const) {
      const checked = readTimestamp(qualification[key], `filter.segmentQualificationTime.${key}`)
      if (checked.error !== undefined) return fail(checked.error)
    }
  }
  const from = readTimestamp(filter?.fromIngestTimestamp, "filter.fromIngestTimestamp")
  if (from.error !== undefined) return fail(from.error)
  const emptyProfiles = filter?.emptyProfiles === undefined ? false : asBoolean(filter.emptyProfiles)
  if (emptyProfiles === undefined) return fail("filter.emptyProfiles must be a boolean")

  const events = readEvents(body.additionalFields)
  if (events.error !== undefined) return fail(events.error)

  const evaluation = body.evaluationInfo
  if (evaluation !== undefined) {
    if (!isObject(evaluation)) return fail('evaluationInfo must be an object such as {"segmentation":true}')
    if (evaluation.segmentation !== undefined && asBoolean(evaluation.segmentation) === undefined) {
      return fail("evaluationInfo.segmentation must be a boolean")
    }
  }

  return {
    ok: {
      fields: fields.ok,
      mergePolicyId,
      mergePolicyVersion,
      segments: segments.ok,
      fromIngestTimestamp: from.ok,
      emptyProfiles,
      events: events.ok,
      datasetId: target,
      segmentPerBatch
    }
  }
}

/** The job a request body asks for, with the fields its answers echo; or the detail of a 400. */
export const newJobOf = (body: unknown): ExportJobs.NewJob | string => {
  const checked = read(body)
  if (checked.error !== undefined) return checked.error
  const input = body as Record<string, unknown>
  return {
    request: checked.ok,
    echo: {
      ...(typeof input.fields === "string" ? { fields: input.fields } : {}),
      ...(input.filter === undefined ? {} : { filter: input.filter }),
      ...(input.additionalFields === undefined ? {} : { additionalFields: input.additionalFields }),
      ...(input.evaluationInfo === undefined ? {} : { evaluationInfo: input.evaluationInfo })
    }
  }
}

/**
 * The job in AEP's shape. The key order is the one these answers have always
 * had, so their JSON stays the same byte for byte; the request's fields are
 * echoed only when they were sent, and `errors` appears only when there are some.
 */
export const toWire = (job: ExportJobs.Job): ExportJob.ExportJob => ({
  id: job.id,
  jobType: "BATCH",
  profileInstanceId: "ups",
  schema: { name: PROFILE_SCHEMA },
  mergePolicy: { id: job.mergePolicyId, version: job.mergePolicyVersion },
  ...(job.echo.fields === undefined ? {} : { fields: job.echo.fields }),
  ...(job.echo.filter === undefined ? {} : { filter: job.echo.filter }),
  ...(job.echo.additionalFields === undefined ? {} : { additionalFields: job.echo.additionalFields }),
  ...(job.echo.evaluationInfo === undefined ? {} : { evaluationInfo: job.echo.evaluationInfo }),
  status: job.status,
  requestId: job.requestId,
  computeGatewayJobId: job.computeGateway,
  metrics: job.metrics,
  destination: { datasetId: job.datasetId, segmentPerBatch: job.segmentPerBatch, batchId: job.batchId },
  ...(job.errors.length === 0 ? {} : { errors: job.errors }),
  imsOrgId: job.imsOrgId,
  creationTime: job.createdAt,
  updateTime: job.updatedAt
})
