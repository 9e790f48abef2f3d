/**
 * Identity graphs: identities seen together in a record are linked, and a
 * graph is a connected component of those links.
 *
 * Stitching is incremental union-find kept in SQL: every identity row holds
 * its component (`graph_id`); linking two components relabels the smaller
 * one into the larger (union by size), so an identity moves O(log n) times at
 * most and ingestion never rescans the store. A graph's XID is the XID of its
 * root identity (the `graph_id` row), stable while the graph is unchanged.
 *
 * Lookups need components only; the edges are kept too (`identity_links`:
 * which dataset and batch linked two identities, first and last seen) so
 * that a profile can be explained.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { createHash } from "node:crypto"
import { Clock, Context, Effect, Layer, Option } from "effect"
import type * as Rows from "./migrations/rows.js"
import { lockFor } from "./internal/dialect.js"

export interface IdentityRow {
  readonly id: number
  /** Lower-case namespace code. */
  readonly ns: string
  readonly value: string
  readonly xid: string
  graphId: number
}

/** An edge of a graph: two identities seen in one record of `datasetId`. */
export interface IdentityLink {
  /** The smaller identity id of the pair. */
  readonly identityId: number
  readonly linkedId: number
  readonly datasetId: string
  /** Undefined for streamed records. */
  readonly batchId: string | undefined
  /** Epoch ms. */
  readonly firstSeen: number
  readonly lastSeen: number
}

export interface IdentityKey {
  readonly nsKey: string
  readonly value: string
}

/** AEP graphs answer 422 above this many identities. */
export const MAX_GRAPH_SIZE = 50

export const keyOf = (identity: IdentityKey) => `${identity.nsKey}\u0000${identity.value}`

/** Deterministic opaque id of an identity; a profile's XID is its graph root's. */
export const xidOf = (nsKey: string, value: string) =>
  createHash("sha256").update(`${nsKey}\u0000${value}`).digest("base64url").slice(0, 27)

/**
 * The condition of a lookup by XID. `identities_xid` (migration 0041) holds
 * an XID's first 11 characters (66 of the SHA-256's bits), so the prefix is
 * compared through the index, written exactly as the index's expression
 * (SQLite matches it by its text), then the whole XID and the sandbox on the
 * row. XIDs are ASCII, so `slice` and `substr` count alike.
 */
const byXid = (sql: SqlClient.SqlClient, sandbox: string, xid: string) =>
  sql`substr(xid, 1, 11) = ${xid.slice(0, 11)} AND xid = ${xid} AND sandbox = ${sandbox}`

/** The columns an identity row is read with. */
export type IdentityColumns = Pick<Rows.Identity, "id" | "ns" | "value" | "xid" | "graph_id">

export const toRow = (row: IdentityColumns): IdentityRow => ({
  id: Number(row.id),
  ns: row.ns,
  value: row.value,
  xid: row.xid,
  graphId: Number(row.graph_id)
})

/** A graph read as rows of its members: every member, and the one `value` in `nsKey` (an XID when undefined) names. */
export const graphOfRows = (rows: ReadonlyArray<IdentityColumns>, nsKey: string | undefined, value: string) => {
  const members = rows.map(toRow)
  const requested =
    nsKey === undefined
      ? members.find((member) => member.xid === value)
      : members.find((member) => member.ns === nsKey && member.value === value)
  return requested === undefined ? Option.none() : Option.some({ requested, members })
}

type LinkRow = Omit<Rows.IdentityLink, "sandbox">

const toLink = (row: LinkRow): IdentityLink => ({
  identityId: Number(row.identity_id),
  linkedId: Number(row.linked_id),
  datasetId: row.dataset_id,
  batchId: row.batch_id === "" ? undefined : row.batch_id,
  firstSeen: Number(row.first_seen),
  lastSeen: Number(row.last_seen)
})

const CHUNK = 400

const chunks = <A>(items: ReadonlyArray<A>, size = CHUNK): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export class IdentityGraph extends Context.Tag("@rtcp/profile-store/IdentityGraph")<
  IdentityGraph,
  {
    /** The rows of `keys`, creating the missing ones as singleton graphs when `create`. */
    readonly resolve: (
      sandbox: string,
      keys: ReadonlyArray<IdentityKey>,
      create: boolean
    ) => Effect.Effect<Map<string, IdentityRow>>
    /** Links each group's identities into one graph. Rows passed in are updated in place. */
    readonly link: (sandbox: string, groups: ReadonlyArray<ReadonlyArray<IdentityRow>>) => Effect.Effect<void>
    /**
     * `resolve(…, true)` then `link`, in one pass: the same rows and graphs,
     * but identities seen for the first time are written once, already in
     * their final graph, and relabelling touches only graphs stored before.
     * Returns every identity of `groups` by `keyOf`.
     */
    readonly stitch: (
      sandbox: string,
      groups: ReadonlyArray<ReadonlyArray<IdentityKey>>
    ) => Effect.Effect<Map<string, IdentityRow>>
    /** An identity by namespace key (lower case) and value, or by XID when `nsKey` is undefined. */
    readonly find: (sandbox: string, nsKey: string | undefined, value: string) => Effect.Effect<Option.Option<IdentityRow>>
    readonly members: (graphId: number) => Effect.Effect<ReadonlyArray<IdentityRow>>
    /**
     * `find` then `members` in one statement: the identity and every identity
     * of its graph (ordered by id), or none when the identity is unknown.
     */
    readonly graphOf: (
      sandbox: string,
      nsKey: string | undefined,
      value: string
    ) => Effect.Effect<Option.Option<{ readonly requested: IdentityRow; readonly members: ReadonlyArray<IdentityRow> }>>
    readonly root: (graphId: number) => Effect.Effect<IdentityRow>
    /**
     * Records that each pair of identity ids was seen together in a record of
     * `datasetId` (and `batchId`) at `at`: new pairs are inserted, known ones
     * get `last_seen` moved on. One statement per few hundred pairs.
     */
    readonly recordLinks: (
      sandbox: string,
      datasetId: string,
      batchId: string | null,
      pairs: ReadonlyArray<readonly [number, number]>,
      at: number
    ) => Effect.Effect<void>
    /** Every stored edge touching one of `ids`. */
    readonly linksOf: (sandbox: string, ids: ReadonlyArray<number>) => Effect.Effect<ReadonlyArray<IdentityLink>>
  }
>() {}

export const layer = Layer.effect(
  IdentityGraph,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    /**
     * New identities, each its own graph's root until linked; 150 rows × 7
     * columns per statement. Written in key order, not id order: the unique
     * key's B-tree is the one whose pages a batch of random e-mails and ECIDs
     * scatters over, and in order each page is visited once per statement.
     */
    const insertIdentities = (sandbox: string, rows: ReadonlyArray<IdentityRow>, now: number) =>
      Effect.forEach(
        chunks([...rows].sort(byKey), 150),
        (part) =>
          sql`INSERT INTO identities ${sql.insert(
            part.map((row) => ({
              id: row.id,
              sandbox,
              ns: row.ns,
              value: row.value,
              xid: row.xid,
              graph_id: row.graphId,
              created_at: now
            }))
          )}`,
        { discard: true }
      )

    /**
     * Ids for `n` new identities, all above every id stored in the sandbox.
     * Stitching holds the sandbox's lock (`lockFor`), taken before anything
     * is read, so on SQLite (one writer) MAX + 1 is safe, and on Postgres the
     * sequence's next values are above every id a writer before it committed.
     */
    const allocate = (n: number) =>
      sql.onDialectOrElse({
        pg: () =>
          Effect.map(
            sql<{ readonly id: Rows.Int }>`SELECT nextval(pg_get_serial_sequence('identities', 'id')) AS id FROM generate_series(1, ${n})`,
            (rows) => rows.map((row) => Number(row.id)).sort((a, b) => a - b)
          ),
        orElse: () =>
          Effect.map(sql<{ readonly max: Rows.Int }>`SELECT COALESCE(MAX(id), 0) AS max FROM identities`, (rows) => {
            const max = Number(rows[0]!.max)
            return Array.from({ length: n }, (_, i) => max + 1 + i)
          })
      })

    /**
     * Stitching reads graphs then relabels them: two processes merging into
     * the same graph at once would each relabel from what they read. The
     * sandbox's lock (held to the end of the caller's transaction) makes
     * every stitch of a sandbox see the one before it.
     */
    const locked = (sandbox: string) => lockFor(sql, `rtcp:identities:${sandbox}`)

    const select = (sandbox: string, keys: ReadonlyArray<IdentityKey>) =>
      Effect.gen(function* () {
        const byNs = new Map<string, Array<string>>()
        for (const key of keys) {
          const values = byNs.get(key.nsKey)
          if (values) values.push(key.value)
          else byNs.set(key.nsKey, [key.value])
        }
        const found = new Map<string, IdentityRow>()
        for (const [ns, values] of byNs) {
          for (const part of chunks(values)) {
            const rows = yield* sql<IdentityColumns>`SELECT id, ns, value, xid, graph_id FROM identities
              WHERE sandbox = ${sandbox} AND ns = ${ns} AND ${sql.in("value", part)}`
            for (const row of rows) {
              const identity = toRow(row)
              found.set(keyOf({ nsKey: identity.ns, value: identity.value }), identity)
            }
          }
        }
        return found
      })

    const resolve = (sandbox: string, keys: ReadonlyArray<IdentityKey>, create: boolean) =>
      Effect.gen(function* () {
        if (create) yield* locked(sandbox)
        const found = yield* select(sandbox, keys)
        if (!create) return found
        const missing = new Map<string, IdentityKey>()
        for (const key of keys) {
          const k = keyOf(key)
          if (!found.has(k)) missing.set(k, key)
        }
        if (missing.size === 0) return found
        // Each new identity is its own graph's root.
        const ids = yield* allocate(missing.size)
        const now = yield* Clock.currentTimeMillis
        const fresh: Array<IdentityRow> = []
        for (const [k, key] of missing) {
          const next = ids[fresh.length]!
          const row: IdentityRow = { id: next, ns: key.nsKey, value: key.value, xid: xidOf(key.nsKey, key.value), graphId: next }
          fresh.push(row)
          found.set(k, row)
        }
        yield* insertIdentities(sandbox, fresh, now)
        return found
      }).pipe(Effect.orDie)

    /** Sizes of stored graphs (identities per `graph_id`). */
    const sizesOf = (graphIds: ReadonlyArray<number>) =>
      Effect.gen(function* () {
        const size = new Map<number, number>()
        for (const part of chunks(graphIds)) {
          const rows = yield* sql<Rows.Count & Pick<Rows.Identity, "graph_id">>`SELECT graph_id, COUNT(*) AS n FROM identities WHERE ${sql.in("graph_id", part)} GROUP BY graph_id`
          for (const row of rows) size.set(Number(row.graph_id), Number(row.n))
        }
        return size
      })

    /** Relabels stored graphs: `graph_id` old → new, one statement per chunk. */
    const relabel = (moves: ReadonlyArray<readonly [number, number]>) =>
      Effect.forEach(
        chunks(moves, 200),
        (part) =>
          sql`UPDATE identities SET graph_id = CASE graph_id ${sql.join(" ", false)(
            part.map(([from, to]) => sql`WHEN ${from} THEN CAST(${to} AS BIGINT)`)
          )} END WHERE ${sql.in("graph_id", part.map(([from]) => from))}`,
        { discard: true }
      )

    const link = (sandbox: string, groups: ReadonlyArray<ReadonlyArray<IdentityRow>>) =>
      Effect.gen(function* () {
        yield* locked(sandbox)
        const graphIds = graphsToJoin(groups)
        if (graphIds.size === 0) return
        const findRoot = unite(groups, yield* sizesOf([...graphIds]))
        yield* relabel(movesOf(graphIds, findRoot))
        for (const group of groups) for (const row of group) row.graphId = findRoot(row.graphId)
      }).pipe(Effect.orDie)

    const stitch = (sandbox: string, groups: ReadonlyArray<ReadonlyArray<IdentityKey>>) =>
      Effect.gen(function* () {
        // Keys in first-seen order: fresh ids are allocated in that order, as `resolve` does.
        const keys = new Map<string, IdentityKey>()
        for (const group of groups) {
          for (const key of group) {
            const k = keyOf(key)
            if (!keys.has(k)) keys.set(k, key)
          }
        }
        yield* locked(sandbox)
        const found = yield* select(sandbox, [...keys.values()])
        const fresh: Array<IdentityRow> = []
        if (found.size < keys.size) {
          const ids = yield* allocate(keys.size - found.size)
          for (const [k, key] of keys) {
            if (found.has(k)) continue
            const next = ids[fresh.length]!
            const row: IdentityRow = { id: next, ns: key.nsKey, value: key.value, xid: xidOf(key.nsKey, key.value), graphId: next }
            fresh.push(row)
            found.set(k, row)
          }
        }
        const rows = groups.map((group) => group.map((key) => found.get(keyOf(key))!))
        const graphIds = graphsToJoin(rows)
        if (graphIds.size > 0) {
          // A fresh identity is a graph of one; only stored graphs are counted and relabelled.
          const firstFresh = fresh.length > 0 ? fresh[0]!.id : Infinity
          const findRoot = unite(rows, yield* sizesOf([...graphIds].filter((g) => g < firstFresh)))
          yield* relabel(movesOf(graphIds, findRoot).filter(([from]) => from < firstFresh))
          for (const row of found.values()) row.graphId = findRoot(row.graphId)
        }
        if (fresh.length > 0) {
          const now = yield* Clock.currentTimeMillis
          yield* insertIdentities(sandbox, fresh, now)
        }
        return found
      }).pipe(Effect.orDie)

    const find = (sandbox: string, nsKey: string | undefined, value: string) =>
      (nsKey === undefined
        ? sql<IdentityColumns>`SELECT id, ns, value, xid, graph_id FROM identities WHERE ${byXid(sql, sandbox, value)}`
        : sql<IdentityColumns>`SELECT id, ns, value, xid, graph_id FROM identities WHERE sandbox = ${sandbox} AND ns = ${nsKey} AND value = ${value}`
      ).pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toRow)),
        Effect.orDie
      )

    const graphOf = (sandbox: string, nsKey: string | undefined, value: string) =>
      (nsKey === undefined
        ? sql<IdentityColumns>`SELECT id, ns, value, xid, graph_id FROM identities
            WHERE graph_id = (SELECT graph_id FROM identities WHERE ${byXid(sql, sandbox, value)} LIMIT 1) ORDER BY id`
        : sql<IdentityColumns>`SELECT id, ns, value, xid, graph_id FROM identities
            WHERE graph_id = (SELECT graph_id FROM identities WHERE sandbox = ${sandbox} AND ns = ${nsKey} AND value = ${value})
            ORDER BY id`
      ).pipe(
        Effect.map((rows) => graphOfRows(rows, nsKey, value)),
        Effect.orDie
      )

    return IdentityGraph.of({
      resolve,
      link,
      stitch,
      find,
      graphOf,
      members: (graphId) =>
        sql<IdentityColumns>`SELECT id, ns, value, xid, graph_id FROM identities WHERE graph_id = ${graphId} ORDER BY id`.pipe(
          Effect.map((rows) => rows.map(toRow)),
          Effect.orDie
        ),
      root: (graphId) =>
        sql<IdentityColumns>`SELECT id, ns, value, xid, graph_id FROM identities WHERE id = ${graphId}`.pipe(
          Effect.map((rows) => toRow(rows[0])),
          Effect.orDie
        ),
      recordLinks: (sandbox, datasetId, batchId, pairs, at) =>
        Effect.forEach(
          // 7 columns a row: 120 rows stay under SQLite's and Postgres' parameter limits with room to spare.
          chunks(pairs, 120),
          (part) =>
            sql`INSERT INTO identity_links ${sql.insert(
              part.map(([identityId, linkedId]) => ({
                sandbox,
                identity_id: identityId,
                linked_id: linkedId,
                dataset_id: datasetId,
                batch_id: batchId ?? "",
                first_seen: at,
                last_seen: at
              }))
            )} ON CONFLICT (sandbox, identity_id, linked_id, dataset_id, batch_id) DO UPDATE SET last_seen = excluded.last_seen`,
          { discard: true }
        ).pipe(Effect.orDie),
      linksOf: (sandbox, ids) =>
        Effect.gen(function* () {
          const out: Array<IdentityLink> = []
          for (const part of chunks(ids)) {
            const rows = yield* sql<LinkRow>`SELECT identity_id, linked_id, dataset_id, batch_id, first_seen, last_seen FROM identity_links
              WHERE sandbox = ${sandbox} AND (${sql.in("identity_id", part)} OR ${sql.in("linked_id", part)})`
            for (const row of rows) out.push(toLink(row))
          }
          // A pair found from both ends is one edge.
          const seen = new Set<string>()
          return out.filter((link) => {
            const key = `${link.identityId}/${link.linkedId}/${link.datasetId}/${link.batchId ?? ""}`
            if (seen.has(key)) return false
            seen.add(key)
            return true
          })
        }).pipe(Effect.orDie)
    })
  })
)

const byKey = (a: IdentityRow, b: IdentityRow) =>
  a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0

/** The graphs that groups with more than one graph bring together. */
const graphsToJoin = (groups: ReadonlyArray<ReadonlyArray<IdentityRow>>): Set<number> => {
  const graphIds = new Set<number>()
  for (const group of groups) {
    if (group.length < 2) continue
    const first = group[0]!.graphId
    if (group.some((row) => row.graphId !== first)) for (const row of group) graphIds.add(row.graphId)
  }
  return graphIds
}

/**
 * In-memory union-find over the graphs of `groups`, by size (`size` holds
 * the stored sizes; a graph missing from it has one identity). The larger
 * graph keeps its root (and so its XID); ties keep the older. Returns the
 * root of each graph.
 */
const unite = (groups: ReadonlyArray<ReadonlyArray<IdentityRow>>, size: Map<number, number>): ((graphId: number) => number) => {
  const parent = new Map<number, number>()
  const findRoot = (g: number): number => {
    let root = g
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!
    let cursor = g
    while (cursor !== root) {
      const next = parent.get(cursor)!
      parent.set(cursor, root)
      cursor = next
    }
    return root
  }
  for (const group of groups) {
    for (let i = 1; i < group.length; i++) {
      const a = findRoot(group[0]!.graphId)
      const b = findRoot(group[i]!.graphId)
      if (a === b) continue
      const sa = size.get(a) ?? 1
      const sb = size.get(b) ?? 1
      const [keep, drop] = sa > sb || (sa === sb && a < b) ? [a, b] : [b, a]
      parent.set(drop, keep)
      size.set(keep, sa + sb)
    }
  }
  return findRoot
}

/** (graph, its new root) for every graph of `graphIds` that was joined into another. */
const movesOf = (graphIds: ReadonlySet<number>, findRoot: (graphId: number) => number): Array<readonly [number, number]> => {
  const moves: Array<readonly [number, number]> = []
  for (const g of graphIds) {
    const root = findRoot(g)
    if (root !== g) moves.push([g, root])
  }
  return moves
}
