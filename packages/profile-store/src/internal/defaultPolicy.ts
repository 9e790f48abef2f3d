import type { SqlClient } from "@effect/sql"
import { randomUUID } from "node:crypto"

/**
 * Every sandbox starts with a default policy for profiles. AEP's examples
 * show `none`; we stitch (`pdg`) so that a fresh store shows what identity
 * graphs do, and document it.
 */
export const insertDefaultPolicy = (sql: SqlClient.SqlClient, sandbox: string, now: number) =>
  sql`INSERT INTO merge_policies ${sql.insert({
    sandbox,
    id: randomUUID(),
    name: "Default Timebased",
    schema_name: "_xdm.context.profile",
    version: 1,
    identity_graph: "pdg",
    attribute_merge: "timestampOrdered",
    dataset_order: "[]",
    is_default: 1,
    active_on_edge: 0,
    update_epoch: Math.floor(now / 1000),
    created_at: now
  })}`
