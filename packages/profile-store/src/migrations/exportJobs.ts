import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"
import { statements } from "./statements.js"

/** Migrations of this feature, keyed "NNNN_name" (numbers are global across features). */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0006_export_jobs": statements(
    // One row per export job. `id` is AEP's integer job id, unique across
    // sandboxes and allocated by the store (MAX + 1 inside the insert's
    // transaction), so the SQL stays portable. `request` keeps what the
    // caller sent (echoed back as AEP does), `plan` the validated request and
    // the merge policy as it was at creation (the version is pinned).
    (t) => `CREATE TABLE export_jobs (
      id ${t.serial},
      sandbox TEXT NOT NULL,
      status TEXT NOT NULL,
      request ${t.json} NOT NULL,
      plan ${t.json} NOT NULL,
      merge_policy_id TEXT NOT NULL,
      merge_policy_version INTEGER NOT NULL,
      dataset_id TEXT NOT NULL,
      batch_id TEXT NOT NULL,
      request_id TEXT NOT NULL,
      ims_org_id TEXT NOT NULL,
      compute_gateway ${t.json} NOT NULL,
      metrics ${t.json} NOT NULL,
      errors ${t.json} NOT NULL,
      cancel_requested INTEGER NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
    `CREATE INDEX export_jobs_created ON export_jobs (sandbox, created_at, id)`,
    `CREATE INDEX export_jobs_status ON export_jobs (status)`
  )
}
