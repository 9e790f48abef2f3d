/**
 * What an export job is asked to do, as the HTTP edge reads it from AEP's
 * request body (`POST /export/jobs`); the store then checks what needs the
 * database (merge policy, destination dataset).
 */

export const PROFILE_SCHEMA = "_xdm.context.profile"
export const SEGMENT_STATUSES = ["realized", "existing", "exited"] as const
export type SegmentStatus = (typeof SEGMENT_STATUSES)[number]

export interface SegmentFilter {
  readonly segmentId: string
  readonly segmentNs: string
  readonly status: ReadonlyArray<SegmentStatus>
}

export interface EventSelection {
  /** Event fields to keep; all when undefined. */
  readonly fields: ReadonlyArray<string> | undefined
  /** Epoch ms: only events ingested after it (exclusive). */
  readonly fromIngestTimestamp: number | undefined
  /** Epoch ms: only events ingested before it (exclusive). */
  readonly toIngestTimestamp: number | undefined
}

/** What the job will do. */
export interface ExportRequest {
  readonly fields: ReadonlyArray<string> | undefined
  readonly mergePolicyId: string | undefined
  readonly mergePolicyVersion: number | undefined
  readonly segments: ReadonlyArray<SegmentFilter> | undefined
  /** Epoch ms: only profiles updated after it (exclusive). */
  readonly fromIngestTimestamp: number | undefined
  readonly emptyProfiles: boolean
  readonly events: EventSelection | undefined
  readonly datasetId: string
  readonly segmentPerBatch: boolean
}
