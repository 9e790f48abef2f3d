/**
 * State the replicas of one proxy share, in Redis (`--redis URL`), or in
 * this process when there is no Redis (one replica, today's behaviour):
 *
 * - per-caller rate limits (rate-limiter-flexible; with Redis a limiter in
 *   memory stands in while Redis is unreachable: then each replica limits
 *   on its own);
 * - the lookup cache: entries live under a cache *generation*; a write
 *   through any replica increments the generation in Redis before its
 *   answer goes back (so a lookup that starts after the write's answer, on
 *   any replica, cannot read a pre-write entry) and publishes the
 *   invalidation so replicas also drop what they hold locally (lookups in
 *   flight, and the stale copies of stale-if-error);
 * - the upstream gate: a 429 with `Retry-After` seen by one replica holds
 *   that endpoint on every replica until then (published);
 * - the upstream budget (optional): calls per second to Adobe, split
 *   fairly between callers (see `Budget`).
 *
 * Losing Redis degrades and never fails a request: every Redis command has a
 * short timeout and its failure falls back to the in-process behaviour;
 * `health()` says so for `/readyz` and `/metrics`. When Redis comes back,
 * the local copies are dropped and an invalidation that could not be
 * written is written then.
 */
import { Redis } from "ioredis"
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible"
import type { RateLimit } from "./keys.js"

export interface Stored<A> {
  readonly value: A
  /** Epoch ms. */
  readonly storedAt: number
}

/** Where a cache read happened: this process's generation, and Redis' when Redis answered. */
export interface Generation {
  readonly local: number
  readonly redis: string | undefined
}

export interface SharedHealth {
  readonly kind: "memory" | "redis"
  readonly ok: boolean
  readonly state: "in-process" | "connected" | "degraded"
  readonly detail?: string
}

export type SharedEvent =
  | { readonly type: "invalidate" }
  | { readonly type: "gate"; readonly endpoint: string; readonly until: number }
  | { readonly type: "open"; readonly endpoint: string }

export interface SharedState {
  readonly health: () => SharedHealth
  readonly limiterFor: (limit: RateLimit) => RateLimiterAbstract
  /** The entry of `key`, and the generation it was read under (give it back to `cacheSet`). */
  readonly cacheGet: <A>(key: string) => Promise<{ readonly stored: Stored<A> | undefined; readonly generation: Generation }>
  /** Stores `value` unless the cache was invalidated since `generation` was read. */
  readonly cacheSet: <A>(key: string, value: A, keepMs: number, generation: Generation) => Promise<void>
  /** Bumps the cache generation everywhere; resolves once it is written (or Redis is found unreachable). */
  readonly invalidate: () => Promise<void>
  /** Holds `endpoint` on every replica until `until` (epoch ms). */
  readonly closeGate: (endpoint: string, until: number) => void
  /** A probe through the closed gate got an answer other than 429: open it again, on every replica. */
  readonly openGate: (endpoint: string) => void
  /** Until when `endpoint` is held (epoch ms; 0: open). */
  readonly gateOf: (endpoint: string) => number
  /** One call's worth of upstream budget for `caller`, or the ms to wait for the next window. */
  readonly takeBudget: (caller: string) => Promise<{ readonly ok: true } | { readonly ok: false; readonly waitMs: number }>
  /** Listeners of invalidations and gates (from this replica and the others). */
  readonly subscribe: (listener: (event: SharedEvent) => void) => void
  readonly close: () => Promise<void>
}

export interface SharedOptions {
  /** `redis://…`; undefined: in this process. */
  readonly redisUrl?: string | undefined
  /** Keys are prefixed with this (tests use one per test); default `rtcp-proxy:`. */
  readonly prefix?: string | undefined
  /** Upstream calls per second across replicas and callers; undefined: no budget. */
  readonly upstreamBudget?: number | undefined
  /** How long a Redis command may take before the replica goes on without it (default 250 ms). */
  readonly commandTimeoutMs?: number | undefined
  readonly now?: () => number
}

// ---------------------------------------------------------------------------
// The budget's fairness rule, in one place for both stores
// ---------------------------------------------------------------------------

/**
 * Budget B calls per one-second window. The callers that asked for an
 * upstream call in the last 2 s are *active*; each may use at most
 * max(1, floor(B / active)) calls of a window, and the window's total never
 * exceeds B. A noisy caller therefore waits for the next window once it has
 * used its share, however much the others left unused: strict equal shares,
 * so a quiet caller's call never waits behind a noisy one's.
 */
const ACTIVE_MS = 2000
const WINDOW_MS = 1000

const BUDGET_SCRIPT = `
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], 0, tonumber(ARGV[3]) - ${ACTIVE_MS})
redis.call('PEXPIRE', KEYS[3], ${ACTIVE_MS * 2})
local budget = tonumber(ARGV[1])
local active = redis.call('ZCARD', KEYS[3])
local share = math.max(1, math.floor(budget / active))
local total = tonumber(redis.call('GET', KEYS[1]) or '0')
local mine = tonumber(redis.call('GET', KEYS[2]) or '0')
if total >= budget or mine >= share then return 0 end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ${WINDOW_MS * 2})
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ${WINDOW_MS * 2})
return 1
`

const CACHE_GET_SCRIPT = `
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}
`

const CACHE_SET_SCRIPT = `
local generation = redis.call('GET', KEYS[1]) or '0'
if generation ~= ARGV[4] then return 0 end
redis.call('SET', ARGV[1] .. generation .. ':' .. ARGV[2], ARGV[3], 'PX', ARGV[5])
return 1
`

interface LocalBudget {
  window: number
  total: number
  used: Map<string, number>
  seen: Map<string, number>
}

const takeLocalBudget = (state: LocalBudget, budget: number, caller: string, now: number): boolean => {
  const window = Math.floor(now / WINDOW_MS)
  if (window !== state.window) {
    state.window = window
    state.total = 0
    state.used.clear()
  }
  state.seen.set(caller, now)
  for (const [name, at] of state.seen) if (at < now - ACTIVE_MS) state.seen.delete(name)
  const share = Math.max(1, Math.floor(budget / state.seen.size))
  const mine = state.used.get(caller) ?? 0
  if (state.total >= budget || mine >= share) return false
  state.total++
  state.used.set(caller, mine + 1)
  return true
}

// ---------------------------------------------------------------------------

export const makeSharedState = (options: SharedOptions = {}): SharedState => {
  const now = options.now ?? Date.now
  const prefix = options.prefix ?? "rtcp-proxy:"
  const listeners: Array<(event: SharedEvent) => void> = []
  const emit = (event: SharedEvent) => {
    for (const listener of listeners) listener(event)
  }
  const gates = new Map<string, number>()
  const applyGate = (endpoint: string, until: number) => {
    if ((gates.get(endpoint) ?? 0) < until) gates.set(endpoint, until)
  }
  const budgetState: LocalBudget = { window: 0, total: 0, used: new Map(), seen: new Map() }
  const localBudget = (caller: string) => {
    const at = now()
    return takeLocalBudget(budgetState, options.upstreamBudget!, caller, at)
      ? ({ ok: true } as const)
      : ({ ok: false, waitMs: WINDOW_MS - (at % WINDOW_MS) } as const)
  }

  // The in-process cache: the fallback of the Redis one, and the only one without Redis.
  let localGeneration = 0
  const local = new Map<string, { readonly stored: Stored<unknown>; readonly expiresAt: number; readonly generation: number }>()
  const localGet = <A>(key: string): Stored<A> | undefined => {
    const entry = local.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now() || entry.generation !== localGeneration) {
      local.delete(key)
      return undefined
    }
    // Map order is insertion order: re-inserting keeps the most used at the end.
    local.delete(key)
    local.set(key, entry)
    return entry.stored as Stored<A>
  }
  const localSet = (key: string, value: unknown, keepMs: number) => {
    local.set(key, { stored: { value, storedAt: now() }, expiresAt: now() + keepMs, generation: localGeneration })
    if (local.size > 10_000) local.delete(local.keys().next().value!)
  }
  const localInvalidate = () => {
    localGeneration++
    local.clear()
  }
  const memoryLimiters = new Map<string, RateLimiterMemory>()
  const memoryLimiter = (limit: RateLimit) => {
    const id = `${limit.points}/${limit.duration}`
    let limiter = memoryLimiters.get(id)
    if (limiter === undefined) {
      limiter = new RateLimiterMemory({ points: limit.points, duration: limit.duration })
      memoryLimiters.set(id, limiter)
    }
    return limiter
  }

  if (options.redisUrl === undefined) {
    return {
      health: () => ({ kind: "memory", ok: true, state: "in-process" }),
      limiterFor: memoryLimiter,
      cacheGet: async (key) => ({ stored: localGet(key), generation: { local: localGeneration, redis: undefined } }),
      cacheSet: async (key, value, keepMs, generation) => {
        if (generation.local === localGeneration) localSet(key, value, keepMs)
      },
      invalidate: async () => {
        localInvalidate()
        emit({ type: "invalidate" })
      },
      closeGate: (endpoint, until) => {
        applyGate(endpoint, until)
        emit({ type: "gate", endpoint, until })
      },
      openGate: (endpoint) => {
        if (!gates.delete(endpoint)) return
        emit({ type: "open", endpoint })
      },
      gateOf: (endpoint) => gates.get(endpoint) ?? 0,
      takeBudget: async (caller) => (options.upstreamBudget === undefined ? { ok: true } : localBudget(caller)),
      subscribe: (listener) => {
        listeners.push(listener)
      },
      close: async () => undefined
    }
  }

  // -- Redis ---------------------------------------------------------------------

  const commandTimeout = options.commandTimeoutMs ?? 250
  const redisOptions = {
    // Fail fast while Redis is away instead of queueing requests behind it.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout,
    connectTimeout: 1000,
    retryStrategy: (times: number) => Math.min(times * 100, 1000)
  }
  const redis = new Redis(options.redisUrl, redisOptions)
  // The subscriber queues its SUBSCRIBE until connected, and resubscribes after a reconnect.
  const subscriber = new Redis(options.redisUrl, { ...redisOptions, enableOfflineQueue: true, commandTimeout: undefined })
  let lastError: string | undefined
  let pendingInvalidation = false
  let everReady = false
  const channel = `${prefix}events`
  const generationKey = `${prefix}cache:generation`
  const entryPrefix = `${prefix}cache:`
  const gatePrefix = `${prefix}gate:`
  const quiet = (error: unknown) => {
    lastError = error instanceof Error ? error.message : String(error)
  }
  redis.on("error", quiet)
  subscriber.on("error", quiet)
  redis.on("ready", () => {
    lastError = undefined
    // Whatever was published while this replica was away is lost: start afresh.
    if (everReady) localInvalidate()
    everReady = true
    if (pendingInvalidation) {
      pendingInvalidation = false
      redis.incr(generationKey).catch(() => {
        pendingInvalidation = true
      })
    }
    // Gates closed while away.
    // SCAN, not KEYS: a Redis shared with others must not be blocked by a walk of its whole keyspace.
    const readGates = async (cursor: string): Promise<void> => {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${gatePrefix}*`, "COUNT", 100)
      for (const key of keys) {
        const until = Number(await redis.get(key))
        if (Number.isFinite(until)) applyGate(key.slice(gatePrefix.length), until)
      }
      if (next !== "0") await readGates(next)
    }
    readGates("0").catch(quiet)
  })
  subscriber.subscribe(channel).catch(quiet)
  subscriber.on("message", (_channel: string, message: string) => {
    let event: SharedEvent
    try {
      event = JSON.parse(message) as SharedEvent
    } catch {
      return
    }
    if (event.type === "invalidate") localInvalidate()
    else if (event.type === "gate") applyGate(event.endpoint, event.until)
    else if (event.type === "open") gates.delete(event.endpoint)
    emit(event)
  })
  const up = () => redis.status === "ready"
  const publish = (event: SharedEvent) => {
    if (up()) redis.publish(channel, JSON.stringify(event)).catch(quiet)
  }

  const redisLimiters = new Map<string, RateLimiterRedis>()
  const limiterFor = (limit: RateLimit) => {
    const id = `${limit.points}/${limit.duration}`
    let limiter = redisLimiters.get(id)
    if (limiter === undefined) {
      limiter = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${prefix}ratelimit:${id}`,
        points: limit.points,
        duration: limit.duration,
        insuranceLimiter: new RateLimiterMemory({ points: limit.points, duration: limit.duration })
      })
      redisLimiters.set(id, limiter)
    }
    return limiter
  }

  return {
    health: () =>
      up()
        ? { kind: "redis", ok: true, state: "connected" }
        : {
            kind: "redis",
            ok: false,
            state: "degraded",
            detail: `Redis unreachable (${lastError ?? redis.status}): rate limits per replica, cache per replica, no shared gate`
          },
    limiterFor,
    cacheGet: async <A>(key: string) => {
      const generation = localGeneration
      if (!up()) return { stored: localGet<A>(key), generation: { local: generation, redis: undefined } }
      try {
        const [redisGeneration, text] = (await redis.eval(CACHE_GET_SCRIPT, 1, generationKey, entryPrefix, key)) as [string, string | null]
        return {
          stored: text === null ? undefined : (JSON.parse(text) as Stored<A>),
          generation: { local: generation, redis: redisGeneration }
        }
      } catch (error) {
        quiet(error)
        return { stored: localGet<A>(key), generation: { local: generation, redis: undefined } }
      }
    },
    cacheSet: async (key, value, keepMs, generation) => {
      // An invalidation seen here (a local write, or pub/sub) since the read wins.
      if (generation.local !== localGeneration) return
      localSet(key, value, keepMs)
      if (generation.redis === undefined || !up()) return
      try {
        // And one written in Redis by another replica: the script stores only under the generation read.
        await redis.eval(CACHE_SET_SCRIPT, 1, generationKey, entryPrefix, key, JSON.stringify({ value, storedAt: now() }), generation.redis, String(keepMs))
      } catch (error) {
        quiet(error)
      }
    },
    invalidate: async () => {
      localInvalidate()
      if (!up()) {
        pendingInvalidation = true
        return
      }
      try {
        await redis.incr(generationKey)
        publish({ type: "invalidate" })
      } catch (error) {
        quiet(error)
        pendingInvalidation = true
      }
    },
    closeGate: (endpoint, until) => {
      applyGate(endpoint, until)
      emit({ type: "gate", endpoint, until })
      if (!up()) return
      const ms = Math.max(1, until - now())
      redis.set(`${gatePrefix}${endpoint}`, String(until), "PX", ms).catch(quiet)
      publish({ type: "gate", endpoint, until })
    },
    openGate: (endpoint) => {
      if (!gates.delete(endpoint)) return
      emit({ type: "open", endpoint })
      if (!up()) return
      redis.del(`${gatePrefix}${endpoint}`).catch(quiet)
      publish({ type: "open", endpoint })
    },
    gateOf: (endpoint) => gates.get(endpoint) ?? 0,
    takeBudget: async (caller) => {
      if (options.upstreamBudget === undefined) return { ok: true }
      if (!up()) return localBudget(caller)
      const at = now()
      const window = Math.floor(at / WINDOW_MS)
      try {
        const granted = await redis.eval(
          BUDGET_SCRIPT,
          3,
          `${prefix}budget:${window}`,
          `${prefix}budget:${window}:${caller}`,
          `${prefix}budget:active`,
          String(options.upstreamBudget),
          caller,
          String(at)
        )
        return granted === 1 ? { ok: true } : { ok: false, waitMs: WINDOW_MS - (at % WINDOW_MS) }
      } catch (error) {
        quiet(error)
        return localBudget(caller)
      }
    },
    subscribe: (listener) => {
      listeners.push(listener)
    },
    close: async () => {
      redis.disconnect()
      subscriber.disconnect()
    }
  }
}
