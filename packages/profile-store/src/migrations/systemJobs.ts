import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"
import { statements } from "./statements.js"

/** Migrations of this feature, keyed "NNNN_name" (numbers are global across features). */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0005_system_jobs": statements(
    // One row per delete request: the row is the job's whole state, so a job
    // left NEW or IN-PROGRESS by a stopped service resumes from it. `seq`
    // orders jobs created within the same millisecond. Counters are updated
    // in the same transaction as each deleted chunk. `removed` hides a job
    // whose record was deleted while it ran: it finishes, then its row goes.
    (t) => `CREATE TABLE system_jobs (
      seq ${t.serial},
      sandbox TEXT NOT NULL,
      id TEXT NOT NULL,
      request_type TEXT NOT NULL,
      dataset_id TEXT NOT NULL,
      batch_id TEXT,
      status TEXT NOT NULL,
      ims_org_id TEXT NOT NULL,
      sandbox_id TEXT NOT NULL,
      fragments_total INTEGER,
      events_total INTEGER,
      profiles_affected INTEGER,
      fragments_deleted INTEGER NOT NULL,
      events_deleted INTEGER NOT NULL,
      error TEXT,
      removed INTEGER NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      started_at BIGINT,
      completed_at BIGINT
    )`,
    `CREATE UNIQUE INDEX system_jobs_key ON system_jobs (sandbox, id)`,
    `CREATE INDEX system_jobs_created ON system_jobs (sandbox, created_at, seq)`,
    `CREATE INDEX system_jobs_status ON system_jobs (status, seq)`
  )
}
