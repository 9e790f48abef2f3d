/**
 * The store's schema, as `@effect/sql` migrations.
 *
 * One migration list for SQLite and PostgreSQL: the statements are the same
 * but for the column types of `statements.ts` (JSON is `jsonb` on Postgres,
 * TEXT on SQLite; ids BIGINT). Every table is partitioned by sandbox.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { Effect } from "effect"
import { lockFor } from "./internal/dialect.js"
import { migrations as computedAttributes } from "./migrations/computedAttributes.js"
import { migrations as edgeProjections } from "./migrations/edgeProjections.js"
import { migrations as exportJobs } from "./migrations/exportJobs.js"
import { migrations as identityLinks } from "./migrations/identityLinks.js"
import { migrations as jobLeases } from "./migrations/jobLeases.js"
import { migrations as narrowIndexes } from "./migrations/narrowIndexes.js"
import { migrations as sampleStatus } from "./migrations/sampleStatus.js"
import { statements } from "./migrations/statements.js"
import { migrations as systemJobs } from "./migrations/systemJobs.js"


const core = {
  "0001_platform": statements(
    `CREATE TABLE sandboxes (
      name TEXT PRIMARY KEY,
      id TEXT NOT NULL,
      title TEXT NOT NULL,
      type TEXT NOT NULL,
      created_at BIGINT NOT NULL
    )`,
    (t) => `CREATE TABLE datasets (
      sandbox TEXT NOT NULL,
      id TEXT NOT NULL,
      name TEXT NOT NULL,
      description TEXT,
      schema_ref ${t.json} NOT NULL,
      xdm_class TEXT NOT NULL,
      profile_enabled INTEGER NOT NULL,
      upsert INTEGER NOT NULL,
      tags ${t.json} NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (sandbox, id)
    )`,
    (t) => `CREATE TABLE batches (
      sandbox TEXT NOT NULL,
      id TEXT NOT NULL,
      dataset_id TEXT NOT NULL,
      status TEXT NOT NULL,
      partial INTEGER NOT NULL,
      records_total INTEGER NOT NULL,
      records_failed INTEGER NOT NULL,
      errors ${t.json} NOT NULL,
      created_at BIGINT NOT NULL,
      completed_at BIGINT,
      PRIMARY KEY (sandbox, id)
    )`,
    `CREATE TABLE batch_files (
      sandbox TEXT NOT NULL,
      batch_id TEXT NOT NULL,
      name TEXT NOT NULL,
      content TEXT NOT NULL,
      PRIMARY KEY (sandbox, batch_id, name)
    )`
  ),
  "0002_identity_graph": statements(
    // An identity is a namespace code (lower case) and a value; `graph_id` is
    // its connected component. Graphs merge by relabelling the smaller one
    // (union by size), so an identity is relabelled O(log n) times at most.
    (t) => `CREATE TABLE identities (
      id ${t.serial},
      sandbox TEXT NOT NULL,
      ns TEXT NOT NULL,
      value TEXT NOT NULL,
      xid TEXT NOT NULL,
      graph_id ${t.id} NOT NULL,
      created_at BIGINT NOT NULL
    )`,
    `CREATE UNIQUE INDEX identities_key ON identities (sandbox, ns, value)`,
    `CREATE INDEX identities_graph ON identities (graph_id)`,
    `CREATE INDEX identities_xid ON identities (sandbox, xid)`,
    (t) => `CREATE TABLE graphs (
      id ${t.serial},
      sandbox TEXT NOT NULL,
      size INTEGER NOT NULL,
      canonical_identity_id ${t.id} NOT NULL
    )`
  ),
  "0003_fragments_events": statements(
    // A fragment is what one dataset holds for one primary identity.
    (t) => `CREATE TABLE fragments (
      sandbox TEXT NOT NULL,
      dataset_id TEXT NOT NULL,
      identity_id ${t.id} NOT NULL,
      batch_id TEXT,
      data ${t.json} NOT NULL,
      ingested_at BIGINT NOT NULL,
      custom_ts BIGINT,
      PRIMARY KEY (sandbox, dataset_id, identity_id)
    )`,
    `CREATE INDEX fragments_identity ON fragments (identity_id)`,
    (t) => `CREATE TABLE events (
      sandbox TEXT NOT NULL,
      dataset_id TEXT NOT NULL,
      id TEXT NOT NULL,
      identity_id ${t.id} NOT NULL,
      batch_id TEXT,
      ts BIGINT NOT NULL,
      data ${t.json} NOT NULL,
      ingested_at BIGINT NOT NULL,
      PRIMARY KEY (sandbox, dataset_id, id)
    )`,
    `CREATE INDEX events_identity_ts ON events (identity_id, ts, id)`,
    `CREATE INDEX events_batch ON events (sandbox, batch_id)`
  ),
  "0004_merge_policies": statements(
    (t) => `CREATE TABLE merge_policies (
      sandbox TEXT NOT NULL,
      id TEXT NOT NULL,
      name TEXT NOT NULL,
      schema_name TEXT NOT NULL,
      version INTEGER NOT NULL,
      identity_graph TEXT NOT NULL,
      attribute_merge TEXT NOT NULL,
      dataset_order ${t.json} NOT NULL,
      is_default INTEGER NOT NULL,
      active_on_edge INTEGER NOT NULL,
      update_epoch BIGINT NOT NULL,
      created_at BIGINT NOT NULL,
      PRIMARY KEY (sandbox, id)
    )`
  )
}

/**
 * Core tables first (0001–0004), then each feature's own migrations (0005 on).
 * The migrator runs only ids above the highest applied one, so a new
 * migration always takes the next global number, whichever feature file it
 * lives in; never fill a gap below an id that has shipped.
 */
export const loader = Migrator.fromRecord({
  ...core,
  ...systemJobs,
  ...exportJobs,
  ...sampleStatus,
  ...computedAttributes,
  ...edgeProjections,
  ...identityLinks,
  ...jobLeases,
  ...narrowIndexes
})

const TABLE = "rtcp_migrations"

const migrate = Migrator.make({})({ loader, table: TABLE })

/**
 * Runs the pending migrations; needs only a `SqlClient`. Processes starting
 * together on one Postgres database take turns: the migrator locks its table
 * while it works, and the table itself is created under an advisory lock
 * (its definition is the migrator's own).
 */
export const run = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.onDialectOrElse({
    pg: () =>
      sql
        .withTransaction(
          Effect.zipRight(
            lockFor(sql, "rtcp:migrations"),
            sql`CREATE TABLE IF NOT EXISTS ${sql(TABLE)} (
              migration_id integer primary key,
              created_at timestamp with time zone not null default now(),
              name text not null
            )`
          )
        )
        .pipe(Effect.zipRight(migrate)),
    orElse: () => migrate
  })
)
