/**
 * Reading merged profiles page by page for an export, as entity lookups
 * would show them.
 *
 * A page is a run of profile roots in identity-id order after a cursor (the
 * last root id of the previous page): graph roots under a `pdg` policy, every
 * identity under `none`. Its members, fragments and events are read in the
 * same transaction, so one page is consistent; the export as a whole is not a
 * snapshot (ingestion between pages is seen by later pages).
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { type AttributeMerge, type Fragment, project } from "../Merge.js"
import type * as Rows from "../migrations/rows.js"
import { mergedEntity } from "./mergedEntity.js"
import type { ExportRequest } from "./exportRequest.js"

/** The merge policy as it was when the job was created. */
export interface PolicySnapshot {
  readonly id: string
  readonly version: number
  readonly identityGraph: "none" | "pdg"
  readonly attributeMerge: AttributeMerge
}

export interface ExportedProfile {
  readonly xid: string
  /** The NDJSON line (no newline). */
  readonly line: string
  /** Distinct namespace codes of the profile's identities. */
  readonly namespaces: ReadonlyArray<string>
}

export interface ProfilePage {
  readonly profiles: ReadonlyArray<ExportedProfile>
  /** Cursor of the next page; undefined after the last one. */
  readonly next: number | undefined
}

interface Member {
  readonly id: number
  readonly ns: string
  readonly value: string
  readonly xid: string
  readonly graphId: number
}

/** Placeholders per statement stay well under SQLite's (and Postgres') limits. */
const IN_CHUNK = 400

const chunks = <A>(items: ReadonlyArray<A>, size = IN_CHUNK): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Entity lookups show times to the second (RFC 3339, no fraction). */
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

type IdentityRow = Pick<Rows.Identity, "id" | "ns" | "value" | "xid" | "graph_id">
type EventRow = Pick<Rows.Event, "sandbox" | "identity_id" | "dataset_id" | "id" | "ts" | "data" | "ingested_at">

const toMember = (row: IdentityRow): Member => ({
  id: Number(row.id),
  ns: row.ns,
  value: row.value,
  xid: row.xid,
  graphId: Number(row.graph_id)
})

interface PageRows {
  readonly roots: ReadonlyArray<Member>
  readonly next: number | undefined
  /** Members of each profile, by root id. */
  readonly members: Map<number, Array<Member>>
  /** Fragments, by identity id. */
  readonly fragments: Map<number, Array<{ identityId: number; fragment: Fragment }>>
  /** Latest event ingestion, by identity id. */
  readonly lastEvent: Map<number, number>
  /** Event rows, by identity id. */
  readonly events: Map<number, Array<EventRow>>
}

const push = <K, V>(map: Map<K, Array<V>>, key: K, value: V) => {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/**
 * One page of exported profiles after `after` (a root identity id), reading
 * at most `size` roots. Profiles the request filters out are skipped, so a
 * page may hold fewer profiles than roots.
 */
export const readPage = (
  sql: SqlClient.SqlClient,
  sandbox: string,
  request: ExportRequest,
  policy: PolicySnapshot,
  after: number,
  size: number
): Effect.Effect<ProfilePage, SqlError> =>
  Effect.gen(function* () {
    const pdg = policy.identityGraph === "pdg"
    // Identity ids are unique across sandboxes, so every query below is keyed
    // by ids alone and the sandbox is checked on the rows: with a `sandbox = ?`
    // predicate, SQLite (without statistics) plans a scan of the whole
    // sandbox through a sandbox-led index for every page.
    const rows = yield* (pdg
      ? sql<IdentityRow & Pick<Rows.Identity, "sandbox">>`SELECT id, sandbox, ns, value, xid, graph_id FROM identities WHERE id > ${after} AND id = graph_id ORDER BY id LIMIT ${size}`
      : sql<IdentityRow & Pick<Rows.Identity, "sandbox">>`SELECT id, sandbox, ns, value, xid, graph_id FROM identities WHERE id > ${after} ORDER BY id LIMIT ${size}`)
    if (rows.length === 0) return undefined
    const next = rows.length < size ? undefined : Number(rows[rows.length - 1]!.id)
    const roots = rows.filter((row) => row.sandbox === sandbox).map(toMember)
    const read: PageRows = { roots, next, members: new Map(), fragments: new Map(), lastEvent: new Map(), events: new Map() }
    if (roots.length === 0) return read

    // The members of each profile: its whole graph, or the identity alone.
    const { events, fragments, lastEvent, members } = read
    if (pdg) {
      for (const part of chunks(roots.map((root) => root.id))) {
        const found = yield* sql<IdentityRow>`SELECT id, ns, value, xid, graph_id FROM identities WHERE ${sql.in("graph_id", part)} ORDER BY id`
        for (const row of found) {
          const member = toMember(row)
          push(members, member.graphId, member)
        }
      }
    } else {
      for (const root of roots) members.set(root.id, [root])
    }
    const ids = [...members.values()].flatMap((list) => list.map((member) => member.id))

    for (const part of chunks(ids)) {
      const found = yield* sql<Omit<Rows.Fragment, "batch_id">>`SELECT sandbox, dataset_id, identity_id, data, ingested_at, custom_ts FROM fragments
        WHERE ${sql.in("identity_id", part)} ORDER BY identity_id, dataset_id`
      for (const row of found) {
        if (row.sandbox !== sandbox) continue
        push(fragments, Number(row.identity_id), {
          identityId: Number(row.identity_id),
          fragment: {
            datasetId: row.dataset_id,
            data: JSON.parse(row.data),
            ingestedAt: Number(row.ingested_at),
            customTimestamp: row.custom_ts === null ? null : Number(row.custom_ts)
          } satisfies Fragment
        })
      }
    }

    // Latest event ingestion per identity: tells event-only profiles apart.
    if (request.emptyProfiles) {
      for (const part of chunks(ids)) {
        const found = yield* sql<Pick<Rows.Event, "sandbox" | "identity_id"> & { readonly at: Rows.Int }>`SELECT sandbox, identity_id, MAX(ingested_at) AS at FROM events
          WHERE ${sql.in("identity_id", part)} GROUP BY sandbox, identity_id`
        for (const row of found) if (row.sandbox === sandbox) lastEvent.set(Number(row.identity_id), Number(row.at))
      }
    }

    const selection = request.events
    if (selection !== undefined) {
      const from = selection.fromIngestTimestamp === undefined ? sql`` : sql`AND ingested_at > ${selection.fromIngestTimestamp}`
      const to = selection.toIngestTimestamp === undefined ? sql`` : sql`AND ingested_at < ${selection.toIngestTimestamp}`
      for (const part of chunks(ids)) {
        const found = yield* sql<EventRow>`SELECT sandbox, identity_id, dataset_id, id, ts, data, ingested_at FROM events
          WHERE ${sql.in("identity_id", part)} ${from} ${to}`
        for (const row of found) if (row.sandbox === sandbox) push(events, Number(row.identity_id), row)
      }
    }
    return read
  }).pipe(
    sql.withTransaction,
    Effect.map((read): ProfilePage => {
      if (read === undefined) return { profiles: [], next: undefined }
      const { events, fragments, lastEvent, members, next, roots } = read
      const profiles: Array<ExportedProfile> = []
      for (const root of roots) {
        const group = members.get(root.id)
        // Relabelled into another graph since the roots were read: that graph's root exports it.
        if (group === undefined || group.length === 0) continue
        const rows = group.flatMap((member) => fragments.get(member.id) ?? [])
        const { entity, merged } = mergedEntity(rows, group, policy.attributeMerge, root.id)
        let updated = merged.lastModifiedAt
        if (merged.sources.length === 0) {
          // No record data: exported only with emptyProfiles, and only when it has events.
          if (!request.emptyProfiles) continue
          const times = group.map((member) => lastEvent.get(member.id)).filter((at): at is number => at !== undefined)
          if (times.length === 0) continue
          updated = Math.max(...times)
        }
        if (request.fromIngestTimestamp !== undefined && !(updated > request.fromIngestTimestamp)) continue

        const line: Record<string, unknown> = {
          entityId: root.xid,
          sources: merged.sources,
          entity: request.fields ? project(entity, request.fields) : entity,
          lastModifiedAt: iso(merged.lastModifiedAt),
          mergePolicy: { id: policy.id }
        }
        if (request.events !== undefined) {
          const fields = request.events.fields
          const list = group.flatMap((member) => events.get(member.id) ?? [])
          list.sort((a, b) => Number(a.ts) - Number(b.ts) || compare(a.dataset_id, b.dataset_id) || compare(a.id, b.id))
          line.events = list.map((row) => {
            const data = JSON.parse(row.data)
            return {
              relatedEntityId: root.xid,
              entityId: row.id,
              timestamp: Number(row.ts),
              entity: fields ? project(data, fields) : data,
              lastModifiedAt: iso(Number(row.ingested_at))
            }
          })
        }
        profiles.push({ xid: root.xid, line: JSON.stringify(line), namespaces: [...new Set(group.map((member) => member.ns))] })
      }
      return { profiles, next }
    })
  )

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
