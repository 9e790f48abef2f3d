/**
 * The rows of the store's tables as the SQL driver returns them, beside the
 * migrations that create the tables. Integers may arrive as numbers
 * (SQLite), strings (PostgreSQL BIGINT) or bigints, so every integer column
 * is `Int` and is read with `Number(...)`; JSON columns are TEXT.
 *
 * Queries name their row type (`sql<Rows.Fragment>`), a cast at the row
 * boundary rather than a per-row Schema decode: lookups and ingestion read
 * thousands of rows per request, and the columns are written only by this
 * store.
 */

export type Int = number | string | bigint

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
