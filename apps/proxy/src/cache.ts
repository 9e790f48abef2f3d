/**
 * The lookup cache in front of the core's `ProfileLookup` batcher:
 * single-flight (identical lookups in flight share one), a short TTL for
 * answers, and `invalidate()` after writes.
 *
 * Why not `ProfileLookup`'s own `cacheTtl` (Effect's `Cache`): there the
 * first caller's fiber runs the lookup, so when that caller disconnects
 * every identical lookup waiting on it is interrupted too; failures
 * (429s, 5xx) are cached for the whole TTL; and a lookup in flight during
 * `invalidateAll` stores its pre-write answer afterwards. Here the shared
 * work runs detached from any one caller, only successes are kept, and an
 * entry invalidated while in flight is never stored.
 */

export type CacheResult = "hit" | "shared" | "miss"

interface Entry<A> {
  readonly promise: Promise<A>
  /** Epoch ms after which a completed entry is stale; Infinity while in flight. */
  expiresAt: number
}

export interface LookupCacheOptions {
  /** How long answers are kept, ms; 0 keeps none (single-flight only). */
  readonly ttlMs: number
  /** Most entries kept (oldest dropped first); default 10 000. */
  readonly capacity?: number | undefined
  readonly now?: (() => number) | undefined
}

export class LookupCache<A> {
  private readonly entries = new Map<string, Entry<A>>()
  private readonly capacity: number
  private readonly now: () => number

  constructor(private readonly options: LookupCacheOptions) {
    this.capacity = options.capacity ?? 10_000
    this.now = options.now ?? Date.now
  }

  get size(): number {
    return this.entries.size
  }

  /**
   * The cached or shared answer for `key`, or a new one from `compute`
   * (started detached: a caller that leaves does not cancel it for others).
   */
  get(key: string, compute: () => Promise<A>): { readonly result: CacheResult; readonly promise: Promise<A> } {
    const found = this.entries.get(key)
    if (found !== undefined) {
      if (found.expiresAt === Infinity) return { result: "shared", promise: found.promise }
      if (found.expiresAt > this.now()) return { result: "hit", promise: found.promise }
      this.entries.delete(key)
    }
    const entry: Entry<A> = { promise: undefined as unknown as Promise<A>, expiresAt: Infinity }
    const promise = compute().then(
      (value) => {
        if (this.entries.get(key) === entry) {
          if (this.options.ttlMs > 0) {
            entry.expiresAt = this.now() + this.options.ttlMs
          } else {
            this.entries.delete(key)
          }
        }
        return value
      },
      (error: unknown) => {
        if (this.entries.get(key) === entry) this.entries.delete(key)
        throw error
      }
    )
    // Waiters may all have left; the rejection is theirs to see, not the process's.
    promise.catch(() => undefined)
    ;(entry as { promise: Promise<A> }).promise = promise
    this.entries.set(key, entry)
    if (this.entries.size > this.capacity) this.evict()
    return { result: "miss", promise }
  }

  /** Forgets every answer; lookups in flight finish for their callers but are not stored. */
  invalidate(): void {
    this.entries.clear()
  }

  /** Drops the oldest entries (Map keeps insertion order); expired ones also go when next asked for. */
  private evict(): void {
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break
      this.entries.delete(key)
    }
  }
}
