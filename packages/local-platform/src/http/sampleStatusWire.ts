/**
 * Preview sample status and its reports as AEP's `/previewsamplestatus`
 * answers them, written from the store's sample snapshots: counts as strings
 * (some as JSON inside a string), Java timestamps, six-decimal percentages.
 */
import type { PreviewSampleStatus } from "@rtcp/core"
import type { SampleStatus } from "@rtcp/profile-store"

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/**
 * `yyyy-MM-dd HH:mm:ss.S` in UTC, as Java's `Timestamp.toString` prints it
 * (AEP's `2020-08-01 17:57:57.0`): the fraction without trailing zeros, at
 * least one digit.
 */
export const sampleTimestamp = (ms: number): string => {
  const d = new Date(ms)
  const fraction = pad(d.getUTCMilliseconds(), 3).replace(/0+$/, "") || "0"
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${fraction}`
  )
}

/** `yyyy-MM-ddTHH:mm:ss.SSS` in UTC without a zone, as report timestamps are sent. */
export const reportTimestamp = (ms: number): string => new Date(ms).toISOString().slice(0, 23)

/** Rounded as AEP's examples are (six decimals). */
export const ratio = (part: number, whole: number): number => (whole === 0 ? 0 : Math.round((part / whole) * 1e6) / 1e6)

/** AEP sends some values as JSON inside a string: `"\"300803\""`, `"\"null\""`. */
const quoted = (value: string | number) => JSON.stringify(String(value))

/** Who created a dataset: the local Catalog does not record it. */
export const CREATED_USER = "rtcp-local@AdobeID"

/** The status; a sandbox never sampled answers zero counts and `TASK_NOT_STARTED`, as AEP does. */
export const status = ({ mergeStrategy, running, snapshot, submittedAt }: SampleStatus.Status): PreviewSampleStatus.SampleStatus => ({
  numRowsToRead: String(snapshot?.numRowsToRead ?? 0),
  sampleJobRunning: {
    status: running,
    submissionTimestamp: submittedAt === undefined ? null : sampleTimestamp(submittedAt)
  },
  cosmosDocCount: quoted(snapshot?.documents ?? 0),
  docCount: quoted(snapshot?.documents ?? 0),
  totalFragmentCount: snapshot?.fragments ?? 0,
  lastSuccessfulBatchTimestamp: quoted(snapshot?.lastBatch ? snapshot.lastBatch.at : "null"),
  streamingDriven: quoted("false"),
  totalRows: String(snapshot?.totalRows ?? 0),
  lastBatchId: quoted(snapshot?.lastBatch ? snapshot.lastBatch.id : "null"),
  status: snapshot ? "TASK_FINISHED" : "TASK_NOT_STARTED",
  samplingRatio: snapshot ? (snapshot.totalRows === 0 ? 1 : ratio(snapshot.numRowsToRead, snapshot.totalRows)) : 0,
  mergeStrategy,
  lastSampledTimestamp: snapshot ? sampleTimestamp(snapshot.sampledAt) : null
})

export const datasetReport = (snapshot: SampleStatus.Snapshot): PreviewSampleStatus.DatasetReport => {
  const at = reportTimestamp(snapshot.sampledAt)
  return {
    data: snapshot.datasets.map((dataset) => ({
      sampleCount: dataset.sampleCount,
      samplePercentage: ratio(dataset.sampleCount, snapshot.numRowsToRead),
      fullIDsCount: dataset.fullIDsCount,
      fullIDsPercentage: ratio(dataset.fullIDsCount, snapshot.totalRows),
      name: dataset.name,
      description: dataset.description,
      value: dataset.id,
      streamingIngestionEnabled: dataset.streamingIngestionEnabled,
      createdUser: CREATED_USER,
      reportTimestamp: at
    })),
    reportTimestamp: at
  }
}

export const namespaceReport = (snapshot: SampleStatus.Snapshot): PreviewSampleStatus.NamespaceReport => {
  const at = reportTimestamp(snapshot.sampledAt)
  return {
    data: snapshot.namespaces.map((ns) => ({
      sampleCount: ns.sampleCount,
      samplePercentage: ratio(ns.sampleCount, snapshot.numRowsToRead),
      reportTimestamp: at,
      fullIDsFragmentCount: ns.fullIDsFragmentCount,
      fullIDsCount: ns.fullIDsCount,
      fullIDsPercentage: ratio(ns.fullIDsCount, snapshot.totalRows),
      code: ns.code,
      value: ns.id
    })),
    reportTimestamp: at
  }
}

/**
 * A stored map with its keys in code-point order. The maps a snapshot holds
 * are written in that order, but PostgreSQL keeps snapshots as jsonb, which
 * gives keys back shortest first: the answer is the same on both databases.
 */
const byKey = <V>(record: Readonly<Record<string, V>>): Record<string, V> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

/** A window of unstitched profiles, its keys in the report's order (see `byKey`). */
const window = (w: SampleStatus.Window) => ({
  countOfProfiles: w.countOfProfiles,
  eventsAssociated: w.eventsAssociated,
  nsDistribution: Object.fromEntries(
    Object.entries(byKey(w.nsDistribution)).map(([code, d]) => [code, { countOfProfiles: d.countOfProfiles, eventsAssociated: d.eventsAssociated }])
  )
})

export const datasetOverlapReport = (snapshot: SampleStatus.Snapshot): PreviewSampleStatus.OverlapReport => ({
  data: byKey(snapshot.datasetOverlap),
  reportTimestamp: reportTimestamp(snapshot.sampledAt)
})

export const namespaceOverlapReport = (snapshot: SampleStatus.Snapshot): PreviewSampleStatus.OverlapReport => ({
  data: byKey(snapshot.namespaceOverlap),
  reportTimestamp: reportTimestamp(snapshot.sampledAt)
})

export const unstitchedProfilesReport = (snapshot: SampleStatus.Snapshot): PreviewSampleStatus.UnstitchedProfilesReport => ({
  data: {
    totalNumberOfProfiles: snapshot.totalRows,
    totalNumberOfEvents: snapshot.events,
    // Windows shortest first is also their order by days (7days … 120days), as jsonb gives them back.
    unstitchedProfiles: Object.fromEntries(Object.entries(snapshot.unstitched).map(([name, w]) => [name, window(w)]))
  },
  reportTimestamp: reportTimestamp(snapshot.sampledAt)
})
