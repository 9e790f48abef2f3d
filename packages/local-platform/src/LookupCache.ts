/**
 * The answers of profile and event lookups (`GET /access/entities`) as the
 * lean route wrote them, kept by sandbox and request URL, each with the
 * store's data version (`DataVersion`) it was read at.
 *
 * An answer is served again only while the store's version is the one it
 * was read at: any write (ingestion, a merge of graphs, a deletion, a merge
 * policy, a computed attribute's values), in this process or in the writer
 * behind a reader, changes the version, so what a client reads after a write
 * is never older than the write. Reads of the same profiles between writes,
 * which a dashboard, a polling client or a test suite do most, skip the
 * store. A store that cannot tell its version (Postgres, shared by several
 * processes) caches nothing.
 *
 * Bounded by the bytes of the answers kept (least recently used go first).
 *
 * @since 0.1.0
 */
import { LRUCache } from "lru-cache"

/** The default bound: 64 MiB of answers. */
export const DEFAULT_MAX_MB = 64

interface Kept {
  readonly version: string
  readonly body: string
}

export interface LookupCache {
  /** The answer kept for `key` when it was read at `version`. */
  readonly get: (key: string, version: string) => string | undefined
  /** `get` for a hit only: a miss is not counted (the caller then asks `get`). */
  readonly peek: (key: string, version: string) => string | undefined
  readonly set: (key: string, version: string, body: string) => void
  /** What it holds and did, for tests and benchmarks. */
  readonly stats: () => { readonly entries: number; readonly bytes: number; readonly hits: number; readonly misses: number }
}

/** A cache of at most `maxMb` MiB of answers; undefined (no cache) for 0. */
export const make = (maxMb: number = DEFAULT_MAX_MB): LookupCache | undefined => {
  if (!(maxMb > 0)) return undefined
  const maxSize = Math.floor(maxMb * 1024 * 1024)
  const entries = new LRUCache<string, Kept>({
    maxSize,
    // A JavaScript string of these answers (JSON, mostly ASCII) takes about its length in bytes, plus the key's.
    sizeCalculation: (kept, key) => kept.body.length + key.length + 64
  })
  let hits = 0
  let misses = 0
  return {
    get: (key, version) => {
      const kept = entries.get(key)
      if (kept !== undefined && kept.version === version) {
        hits++
        return kept.body
      }
      misses++
      return undefined
    },
    peek: (key, version) => {
      const kept = entries.get(key)
      if (kept === undefined || kept.version !== version) return undefined
      hits++
      return kept.body
    },
    set: (key, version, body) => {
      // An answer bigger than the whole cache is not kept (lru-cache would refuse it anyway).
      if (body.length + key.length + 64 <= maxSize) entries.set(key, { version, body })
    },
    stats: () => ({ entries: entries.size, bytes: entries.calculatedSize, hits, misses })
  }
}
