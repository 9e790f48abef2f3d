import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Entities } from "../src/index.js"
import { dialect } from "./support/database.js"
import { dataset, ingest, person, storeInFolder } from "./support/store.js"

const lookup = Effect.flatMap(Entities.Entities, (entities) =>
  entities.getProfile("prod", { identity: { namespace: "crmid", id: "c0" }, schemaName: "_xdm.context.profile" })
)

describe("lookups while the store's connection is in a transaction", () => {
  // A store in a folder: lookups read on a connection of their own (LookupRows.layerFile). On the
  // store's connection a lookup would read the transaction's uncommitted write (checked: a store in
  // memory answers version 2 here).
  it.live.skipIf(dialect !== "sqlite")("are answered from what was committed before it, without waiting for the transaction", () =>
    Effect.gen(function* () {
      const crm = yield* dataset("CRM", "profile")
      yield* ingest(crm.id, [person([["CRMID", "c0"]], { version: 1 })])
      const sql = yield* SqlClient.SqlClient
      const during = yield* Effect.gen(function* () {
        // What a batch does in its transaction: a write not yet committed.
        yield* sql`UPDATE fragments SET data = ${JSON.stringify({ version: 2 })}`
        return yield* lookup.pipe(Effect.timeout("5 seconds"))
      }).pipe(sql.withTransaction)
      expect(during.body.entity).toMatchObject({ version: 1 })
      expect((yield* lookup).body.entity).toMatchObject({ version: 2 })
    }).pipe(Effect.provide(storeInFolder()))
  )
})
