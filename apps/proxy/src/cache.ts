/**
 * The proxy's one lookup cache, in front of the core's `ProfileLookup`
 * batcher (whose own `cacheTtl` the proxy leaves off):
 *
 * - entries live in the shared state (Redis when configured, so every
 *   replica reads what any replica stored; see shared.ts for how a write
 *   through any replica invalidates them before its answer returns);
 * - single-flight: identical lookups in flight on this replica share one,
 *   run detached from any one caller, so a caller that leaves does not
 *   cancel it for the others;
 * - only successes are stored, and never one whose lookup started before an
 *   invalidation;
 * - stale-if-error: an entry is kept `staleMs` (beyond its `ttlMs`
 *   freshness) and served, marked stale, when the lookup fails with a
 *   failure the upstream is to blame for (429, 5xx, no answer, circuit open),
 *   and at once, without waiting, while the upstream is held (the shared
 *   429 gate is closed or the circuit is open).
 */
import { RequestAborted } from "./errors.js"
import type { SharedState } from "./shared.js"

export type CacheResult = "hit" | "shared" | "miss" | "stale"

export interface CacheAnswer<A> {
  readonly value: A
  readonly result: CacheResult
  /** Age of a stale answer, ms. */
  readonly ageMs?: number | undefined
  /** The upstream status that made a stale answer necessary (0: no answer). */
  readonly upstreamStatus?: number | undefined
}

export interface LookupCacheOptions {
  /** How long answers are fresh, ms; 0 keeps none fresh (single-flight only). */
  readonly ttlMs: number
  /** How long past its storage an answer may still be served when upstream fails, ms; 0: never. */
  readonly staleMs?: number | undefined
  readonly now?: (() => number) | undefined
  /**
   * While the upstream is held (a 429's `Retry-After`, an open circuit), the
   * status it stands for: a stale answer is then served at once instead of
   * waiting for the hold to end.
   */
  readonly held?: (() => number | undefined) | undefined
}

/** Resolves with `promise`, or rejects with `RequestAborted` as soon as `signal` aborts. */
export const untilAborted = <A>(promise: Promise<A>, signal: AbortSignal | undefined): Promise<A> => {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.reject(new RequestAborted())
  return new Promise<A>((resolve, reject) => {
    const onAbort = () => reject(new RequestAborted())
    signal.addEventListener("abort", onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort)
        reject(error)
      }
    )
  })
}

export class LookupCache<A> {
  private readonly inflight = new Map<string, Promise<A>>()
  private readonly now: () => number
  private readonly staleMs: number

  constructor(
    private readonly shared: SharedState,
    private readonly options: LookupCacheOptions
  ) {
    this.now = options.now ?? Date.now
    this.staleMs = options.staleMs ?? 0
    // Another replica's write (or this one's): lookups in flight may carry pre-write answers.
    shared.subscribe((event) => {
      if (event.type === "invalidate") this.inflight.clear()
    })
  }

  get inFlight(): number {
    return this.inflight.size
  }

  /** The fresh answer for `key` (what `get` answers as a hit), else undefined; nothing else happens. */
  async fresh(key: string): Promise<A | undefined> {
    const { stored } = await this.shared.cacheGet<A>(key)
    return stored !== undefined && this.now() - stored.storedAt < this.options.ttlMs ? stored.value : undefined
  }

  /**
   * The answer for `key`: fresh from the cache, shared with an identical
   * lookup in flight, or computed; stale when computing fails and
   * `upstreamStatus(error)` says the upstream is to blame.
   */
  async get(
    key: string,
    compute: () => Promise<A>,
    upstreamStatus: (error: unknown) => number | undefined,
    signal?: AbortSignal
  ): Promise<CacheAnswer<A>> {
    const { generation, stored } = await this.shared.cacheGet<A>(key)
    const age = stored === undefined ? Infinity : this.now() - stored.storedAt
    if (stored !== undefined && age < this.options.ttlMs) return { value: stored.value, result: "hit" }
    if (stored !== undefined && age < this.staleMs) {
      const heldStatus = this.options.held?.()
      if (heldStatus !== undefined) return { value: stored.value, result: "stale", ageMs: age, upstreamStatus: heldStatus }
    }
    let result: CacheResult = "shared"
    let promise = this.inflight.get(key)
    if (promise === undefined) {
      result = "miss"
      const keep = Math.max(this.options.ttlMs, this.staleMs)
      const started = compute().then((value) => {
        if (keep > 0) void this.shared.cacheSet(key, value, keep, generation)
        return value
      })
      promise = started
      this.inflight.set(key, started)
      const forget = () => {
        if (this.inflight.get(key) === started) this.inflight.delete(key)
      }
      // Waiters may all have left; the rejection is theirs to see, not the process's.
      started.then(forget, forget)
    }
    try {
      return { value: await untilAborted(promise, signal), result }
    } catch (error) {
      const status = error instanceof RequestAborted ? undefined : upstreamStatus(error)
      if (status !== undefined && stored !== undefined && age < this.staleMs) {
        return { value: stored.value, result: "stale", ageMs: age, upstreamStatus: status }
      }
      throw error
    }
  }

  /** Forgets every answer here and on every replica; resolves once that is written. */
  invalidate(): Promise<void> {
    this.inflight.clear()
    return this.shared.invalidate()
  }
}

/** The `Cache-Status` header (RFC 9211) of a lookup answer. */
export const cacheStatus = (answer: { readonly result: CacheResult; readonly ageMs?: number | undefined; readonly upstreamStatus?: number | undefined }): string => {
  switch (answer.result) {
    case "hit":
      return "rtcp-proxy; hit"
    case "stale":
      return `rtcp-proxy; hit; ttl=${-Math.ceil((answer.ageMs ?? 0) / 1000)}; fwd=stale; fwd-status=${answer.upstreamStatus ?? 0}; detail=stale-if-error`
    case "shared":
      return "rtcp-proxy; fwd=miss; collapsed"
    default:
      return "rtcp-proxy; fwd=miss"
  }
}
