import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"
import { statements } from "./statements.js"

/** Migrations of this feature, keyed "NNNN_name" (numbers are global across features). */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0008_computed_attributes": statements(
    // One row per computed attribute definition. `name_key` (lower case)
    // keeps names unique per sandbox whatever their case; epochs are ms.
    `CREATE TABLE computed_attributes (
      sandbox TEXT NOT NULL,
      id TEXT NOT NULL,
      name TEXT NOT NULL,
      name_key TEXT NOT NULL,
      display_name TEXT NOT NULL,
      description TEXT NOT NULL,
      ims_org_id TEXT NOT NULL,
      tenant TEXT NOT NULL,
      keep_current INTEGER NOT NULL,
      expression TEXT NOT NULL,
      merge_function TEXT NOT NULL,
      return_type TEXT NOT NULL,
      duration_count INTEGER NOT NULL,
      duration_unit TEXT NOT NULL,
      status TEXT NOT NULL,
      last_evaluation_ts BIGINT,
      create_epoch BIGINT NOT NULL,
      update_epoch BIGINT NOT NULL,
      created_by TEXT NOT NULL,
      PRIMARY KEY (sandbox, id)
    )`,
    `CREATE UNIQUE INDEX computed_attributes_name ON computed_attributes (sandbox, name_key)`,
    // The values of the last evaluation, per merged profile (its XID).
    (t) => `CREATE TABLE computed_attribute_values (
      sandbox TEXT NOT NULL,
      attribute_id TEXT NOT NULL,
      xid TEXT NOT NULL,
      value ${t.json} NOT NULL,
      value_ts BIGINT,
      evaluated_at BIGINT NOT NULL,
      PRIMARY KEY (sandbox, attribute_id, xid)
    )`,
    `CREATE INDEX computed_attribute_values_xid ON computed_attribute_values (sandbox, xid)`
  )
}
