/** A system job as AEP's Profile System Jobs API answers it, and its create body as the store reads it. */
import type { SystemJob } from "@rtcp/core"
import { SystemJobs } from "@rtcp/profile-store"

/** The title of every answer to a body that names no deletion. */
export const INVALID_PAYLOAD_TITLE = "Invalid system job payload."

const USAGE =
  'send {"dataSetId":"<dataset id>"} to delete a dataset from Profile, or ' +
  '{"datasetId":"<dataset id>","batchId":"<batch id>"} to delete one batch of an experience event dataset'

type Field = "dataSetId" | "datasetId" | "batchId"

/** An id field: absent, or a non-empty string. */
const idField = (input: Record<string, unknown>, key: Field): string | undefined | { readonly error: string } => {
  const value = input[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== "string" || value.trim() === "") return { error: `${key} must be a non-empty string` }
  return value.trim()
}

/**
 * The deletion a create body asks for: both documented spellings of the
 * dataset id are accepted, and a batch may come without its dataset.
 */
export const createInputOf = (input: unknown): SystemJobs.CreateInput | string => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return `The body must be a JSON object: ${USAGE}`
  const body = input as Record<string, unknown>
  const fields = { dataSetId: idField(body, "dataSetId"), datasetId: idField(body, "datasetId"), batchId: idField(body, "batchId") }
  for (const value of Object.values(fields)) {
    if (typeof value === "object") return `${value.error}: ${USAGE}`
  }
  const { batchId, dataSetId, datasetId } = fields as Record<Field, string | undefined>
  if (dataSetId !== undefined && datasetId !== undefined && dataSetId !== datasetId) {
    return `dataSetId "${dataSetId}" and datasetId "${datasetId}" differ: they are two spellings of one field, send one`
  }
  const dataset = dataSetId ?? datasetId
  if (batchId !== undefined) return { datasetId: dataset, batchId }
  if (dataset === undefined) return `dataSetId is required: ${USAGE}`
  return { datasetId: dataset }
}

const { isoMicros, progressOf } = SystemJobs

/** The newest documented "request" shape, with counts in `metrics`. */
export const toWire = (job: SystemJobs.Job): SystemJob.SystemJob => {
  const wire = {
    requestId: job.id,
    requestType: job.requestType,
    imsOrgId: job.imsOrgId,
    sandbox: { sandboxName: job.sandbox, sandboxId: job.sandboxId },
    status: job.status,
    properties: { datasetId: job.datasetId, ...(job.batchId === undefined ? {} : { batchId: job.batchId }) },
    createdAt: isoMicros(job.createdAt),
    updatedAt: isoMicros(job.updatedAt),
    progress: progressOf(job),
    metrics: {
      recordsProcessed: job.fragmentsDeleted + job.eventsDeleted,
      fragmentsDeleted: job.fragmentsDeleted,
      eventsDeleted: job.eventsDeleted,
      ...(job.fragmentsTotal === undefined ? {} : { fragmentsToDelete: job.fragmentsTotal }),
      ...(job.eventsTotal === undefined ? {} : { eventsToDelete: job.eventsTotal }),
      ...(job.profilesAffected === undefined ? {} : { profilesAffected: job.profilesAffected }),
      ...(job.startedAt === undefined
        ? {}
        : { timeTakenInSec: Math.round(((job.completedAt ?? job.updatedAt) - job.startedAt) / 1000) })
    },
    ...(job.error === undefined ? {} : { errors: [{ code: "RTCP-SJ-500", message: job.error }] })
  }
  return wire as SystemJob.SystemJob
}
