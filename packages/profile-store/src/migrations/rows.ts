/**
 * The rows of the store's tables as the SQL driver returns them, beside the
 * migrations that create the tables. Integers may arrive as numbers
 * (SQLite), strings (PostgreSQL BIGINT) or bigints, so every integer column
 * is `Int` and is read with `Number(...)`; JSON columns are TEXT.
 *
 * Queries name their row type (`sql<Rows.Fragment>`), a cast at the row
 * boundary rather than a per-row Schema decode: lookups and ingestion read
 * thousands of rows per request, and the columns are written only by this
 * store. Tables read a few rows at a time (definitions, jobs, snapshots) have
 * a row Schema instead, read through `SqlSchema`, which decodes integers and
 * flags once at the boundary.
 */
import { Schema } from "effect"

export type Int = number | string | bigint

/** An integer column as a number, whichever of number, string or bigint the driver returned. */
export const IntColumn = Schema.Union(
  Schema.Number,
  Schema.NumberFromString,
  Schema.transform(Schema.BigIntFromSelf, Schema.Number, { strict: true, decode: (n) => Number(n), encode: (n) => BigInt(n) })
)

/** A 0/1 INTEGER flag as a boolean. */
export const FlagColumn = Schema.transform(IntColumn, Schema.Boolean, {
  strict: true,
  decode: (n) => n !== 0,
  encode: (b) => (b ? 1 : 0)
})

export interface Sandbox {
  readonly name: string
  readonly id: string
  readonly title: string
  readonly type: "production" | "development"
  readonly created_at: Int
}

export interface Dataset {
  readonly sandbox: string
  readonly id: string
  readonly name: string
  readonly description: string | null
  readonly schema_ref: string
  readonly xdm_class: "profile" | "experienceevent"
  readonly profile_enabled: Int
  readonly upsert: Int
  readonly tags: string
  readonly created_at: Int
  readonly updated_at: Int
}

export interface Batch {
  readonly sandbox: string
  readonly id: string
  readonly dataset_id: string
  readonly status: "loading" | "processing" | "success" | "failed" | "aborted"
  readonly partial: Int
  readonly records_total: Int
  readonly records_failed: Int
  readonly errors: string
  readonly created_at: Int
  readonly completed_at: Int | null
}

export interface BatchFile {
  readonly sandbox: string
  readonly batch_id: string
  readonly name: string
  readonly content: string
}

export interface Identity {
  readonly id: Int
  readonly sandbox: string
  readonly ns: string
  readonly value: string
  readonly xid: string
  readonly graph_id: Int
  readonly created_at: Int
}

export interface Fragment {
  readonly sandbox: string
  readonly dataset_id: string
  readonly identity_id: Int
  readonly batch_id: string | null
  readonly data: string
  readonly ingested_at: Int
  readonly custom_ts: Int | null
}

export interface Event {
  readonly sandbox: string
  readonly dataset_id: string
  readonly id: string
  readonly identity_id: Int
  readonly batch_id: string | null
  readonly ts: Int
  readonly data: string
  readonly ingested_at: Int
}

export interface MergePolicy {
  readonly sandbox: string
  readonly id: string
  readonly name: string
  readonly schema_name: string
  readonly version: Int
  readonly identity_graph: "none" | "pdg"
  readonly attribute_merge: string
  readonly dataset_order: string
  readonly is_default: Int
  readonly active_on_edge: Int
  readonly update_epoch: Int
  readonly created_at: Int
}

export interface IdentityLink {
  readonly sandbox: string
  readonly identity_id: Int
  readonly linked_id: Int
  readonly dataset_id: string
  /** '' for streamed records. */
  readonly batch_id: string
  readonly first_seen: Int
  readonly last_seen: Int
}

export interface SystemJob {
  readonly seq: Int
  readonly sandbox: string
  readonly id: string
  readonly request_type: "TRUNCATE_DATASET" | "DELETE_EE_BATCH"
  readonly dataset_id: string
  readonly batch_id: string | null
  readonly status: "NEW" | "IN-PROGRESS" | "SUCCESS" | "FAILED"
  readonly ims_org_id: string
  readonly sandbox_id: string
  readonly fragments_total: Int | null
  readonly events_total: Int | null
  readonly profiles_affected: Int | null
  readonly fragments_deleted: Int
  readonly events_deleted: Int
  readonly error: string | null
  readonly removed: Int
  readonly created_at: Int
  readonly updated_at: Int
  readonly started_at: Int | null
  readonly completed_at: Int | null
}

/** An aggregate's single value (`COUNT(*) AS n`, `MAX(id) AS max`). */
export interface Count {
  readonly n: Int
}

/** `SELECT COUNT(*) AS n`, decoded. */
export const CountRow = Schema.Struct({ n: IntColumn })

export const ComputedAttribute = Schema.Struct({
  sandbox: Schema.String,
  id: Schema.String,
  name: Schema.String,
  name_key: Schema.String,
  display_name: Schema.String,
  description: Schema.String,
  ims_org_id: Schema.String,
  tenant: Schema.String,
  keep_current: FlagColumn,
  expression: Schema.String,
  merge_function: Schema.Literal("SUM", "COUNT", "MIN", "MAX", "MOST_RECENT", "FIRST", "LIST"),
  return_type: Schema.String,
  duration_count: IntColumn,
  duration_unit: Schema.Literal("HOURS", "DAYS", "WEEKS", "MONTHS"),
  status: Schema.Literal("DRAFT", "NEW", "INITIALIZING", "PROCESSING", "PROCESSED", "FAILED", "DISABLED"),
  last_evaluation_ts: Schema.NullOr(IntColumn),
  create_epoch: IntColumn,
  update_epoch: IntColumn,
  created_by: Schema.String
})

/** Read on every lookup with `withCA`: a typed cast. */
export interface ComputedAttributeValue {
  readonly sandbox: string
  readonly attribute_id: string
  readonly xid: string
  /** JSON. */
  readonly value: string
  readonly value_ts: Int | null
  readonly evaluated_at: Int
}

export const Destination = Schema.Struct({
  sandbox: Schema.String,
  id: Schema.String,
  type: Schema.Literal("EDGE"),
  /** A JSON array of data center codes. */
  data_centers: Schema.parseJson(Schema.Array(Schema.Literal("OR1", "VA5", "NLD1"))),
  ttl: IntColumn,
  replication_policy: Schema.Literal("PROACTIVE", "REACTIVE"),
  version: IntColumn,
  created_at: IntColumn,
  updated_at: IntColumn
})

export const ProjectionConfig = Schema.Struct({
  sandbox: Schema.String,
  id: Schema.String,
  schema_name: Schema.String,
  name: Schema.String,
  selector: Schema.String,
  destination_id: Schema.String,
  merge_policy_id: Schema.NullOr(Schema.String),
  version: IntColumn,
  created_at: IntColumn,
  updated_at: IntColumn
})

/**
 * An export job; the JSON columns stay text here (their shapes belong to
 * `ExportJobs`, which wrote them).
 */
export const ExportJob = Schema.Struct({
  id: IntColumn,
  sandbox: Schema.String,
  status: Schema.Literal("NEW", "PROCESSING", "SUCCEEDED", "FAILED", "CANCELLED"),
  request: Schema.String,
  plan: Schema.String,
  merge_policy_id: Schema.String,
  merge_policy_version: IntColumn,
  dataset_id: Schema.String,
  batch_id: Schema.String,
  request_id: Schema.String,
  ims_org_id: Schema.String,
  compute_gateway: Schema.String,
  metrics: Schema.String,
  errors: Schema.String,
  cancel_requested: FlagColumn,
  created_at: IntColumn,
  updated_at: IntColumn
})

export const SampleSnapshot = Schema.Struct({
  sandbox: Schema.String,
  day: Schema.String,
  sampled_at: IntColumn,
  submitted_at: IntColumn,
  /** The snapshot's figures, JSON. */
  body: Schema.String
})
