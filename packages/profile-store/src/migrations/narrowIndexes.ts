import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"
import { statements } from "./statements.js"

/**
 * Narrower index entries for bulk loads: every ingested record adds an entry
 * to each, and at a million profiles the indexes no longer fit in SQLite's
 * page cache, so their width is what an insert pays for in pages touched.
 *
 * - `events_identity_ts` drops the event id: lookups seek by identity and
 *   time range and read the row anyway (the page order also needs
 *   `dataset_id`, which the index never had), so the id only widened every
 *   entry by its length (a UUID in AEP).
 * - `identities_xid` keys on the first 11 characters of the XID (66 bits of
 *   a SHA-256, base64url) instead of the sandbox and all 27: lookups by XID
 *   compare the prefix through the index and the whole XID and sandbox on
 *   the row (`byXid` in IdentityGraph.ts).
 *
 * The same statements on both dialects; an existing data folder's indexes
 * are rebuilt in place.
 */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0041_narrow_indexes": statements(
    `DROP INDEX events_identity_ts`,
    `CREATE INDEX events_identity_ts ON events (identity_id, ts)`,
    `DROP INDEX identities_xid`,
    `CREATE INDEX identities_xid ON identities (substr(xid, 1, 11))`
  )
}
