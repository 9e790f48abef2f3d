import { Effect, Layer } from "effect"
import { Catalog, Ingestion } from "../../src/index.js"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { storeAt } from "./database.js"

/** A fresh store per test (in memory on SQLite, a scratch schema on Postgres). */
export const store = () => storeAt(":memory:")

const folders: Array<string> = []
afterAll(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
})

/**
 * A fresh store per test in a folder of its own, removed after the file's
 * tests: on SQLite, lookups then read on a connection of their own
 * (`LookupRows.layerFile`) rather than the store's.
 */
export const storeInFolder = () => {
  const folder = mkdtempSync(join(tmpdir(), "rtcp-store-test-"))
  folders.push(folder)
  return storeAt(folder)
}

export const dataset = (
  name: string,
  xdmClass: "profile" | "experienceevent",
  options: { readonly upsert?: boolean; readonly sandbox?: string; readonly enabled?: boolean } = {}
) =>
  Effect.flatMap(Catalog.Catalog, (catalog) =>
    catalog.create(options.sandbox ?? "prod", {
      name,
      schemaRef: {
        id:
          xdmClass === "profile"
            ? "https://ns.adobe.com/xdm/context/profile"
            : "https://ns.adobe.com/xdm/context/experienceevent"
      },
      tags: {
        unifiedProfile:
          options.enabled === false ? [] : options.upsert ? ["enabled:true", "isUpsert:true"] : ["enabled:true"]
      }
    })
  ).pipe(Effect.orDie)

export const ingest = (datasetId: string, records: Iterable<unknown>, sandbox = "prod") =>
  Effect.flatMap(Ingestion.Ingestion, (ingestion) => ingestion.ingestRecords(sandbox, datasetId, records))

/** A profile record keyed by its first identity. */
export const person = (
  identities: ReadonlyArray<readonly [string, string]>,
  attributes: Record<string, unknown> = {}
): Record<string, unknown> => {
  const identityMap: Record<string, Array<{ id: string; primary?: boolean }>> = {}
  identities.forEach(([ns, id], index) => {
    ;(identityMap[ns] ??= []).push(index === 0 ? { id, primary: true } : { id })
  })
  return { _id: `${identities[0]![0]}-${identities[0]![1]}`, identityMap, ...attributes }
}

export const event = (
  id: string,
  timestamp: number,
  identities: ReadonlyArray<readonly [string, string]>,
  attributes: Record<string, unknown> = {}
) => ({ ...person(identities, attributes), _id: id, timestamp: new Date(timestamp).toISOString() })

export const ecid = (n: number) => String(n).padStart(38, "0")

export { Layer }
