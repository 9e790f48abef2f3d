import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"

/** Migrations of this feature, keyed "NNNN_name" (numbers are global across features). */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {}
