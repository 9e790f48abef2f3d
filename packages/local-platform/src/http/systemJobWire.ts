/** A system job as AEP's Profile System Jobs API answers it. */
import type { SystemJob } from "@rtcp/core"
import { SystemJobs } from "@rtcp/profile-store"

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
