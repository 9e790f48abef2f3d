/**
 * Single-profile lookups, batched.
 *
 * A lookup is an Effect `Request` (`GetProfile`). Lookups from any fiber (one
 * per proxy request, say) wait in a queue for a short window; a background
 * fiber then resolves what arrived as one `POST /access/entities` per
 * (sandbox, merge policy, fields, withCA) group, de-duplicated and split at
 * `maxBatchSize`. An optional TTL cache answers repeated lookups without a
 * call, and concurrent lookups of one identity share one answer.
 *
 * Effect's own request batching only groups requests made inside one
 * `Effect.forEach(…, { batching: true })`; the window is what makes callers
 * that know nothing of each other share a call. The batched resolver is
 * exported too, for callers that do batch that way.
 *
 * @since 0.1.0
 */
import {
  Cache,
  Cause,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  FiberRef,
  Layer,
  Metric,
  MetricBoundaries,
  Option,
  Queue,
  Request,
  RequestResolver
} from "effect"
import type * as Entity from "./Entity.js"
import * as Identity from "./Identity.js"
import { currentSandbox, Platform } from "./Platform.js"
import { ProfileClient, type ProfileClientService } from "./ProfileClient.js"
import { NotFound, type ProfileError } from "./ProfileError.js"
import { CurrentDeadline } from "./Retry.js"

export interface LookupOptions {
  readonly fields?: ReadonlyArray<string> | undefined
  readonly mergePolicyId?: string | undefined
  readonly withCA?: boolean | undefined
}

/** Primitive fields only, so equal lookups are equal requests (caching, de-duplication). */
export class GetProfile extends Request.TaggedClass("GetProfile")<
  Entity.ProfileEntity,
  ProfileError,
  {
    readonly id: string
    /** Undefined for an XID. */
    readonly namespace: string | undefined
    readonly sandbox: string
    readonly mergePolicyId: string | undefined
    /** Comma-joined. */
    readonly fields: string | undefined
    readonly withCA: boolean | undefined
  }
> {}

export interface Options {
  /** Identities per `POST /access/entities` (default 100). */
  readonly maxBatchSize?: number | undefined
  /** How long a lookup waits for others to share its call (default 5 ms). */
  readonly window?: Duration.DurationInput | undefined
  /** Cache answers this long; omit for no cache. */
  readonly cacheTtl?: Duration.DurationInput | undefined
  readonly cacheCapacity?: number | undefined
}

export const batchSizes = Metric.histogram(
  "rtcp_lookup_batch_size",
  // Boundaries fit the default maximum batch of 100.
  MetricBoundaries.fromIterable([1, 2, 5, 10, 20, 50, 100]),
  "Identities per batched POST /access/entities"
)

const identityOf = (request: GetProfile): Identity.Identity =>
  request.namespace === undefined ? { id: request.id } : { id: request.id, namespace: request.namespace }

const groupKey = (request: GetProfile) =>
  `${request.sandbox}\u0000${request.mergePolicyId ?? ""}\u0000${request.fields ?? ""}\u0000${request.withCA ?? ""}`

const isPlaceholder = (entity: Entity.ProfileEntity) =>
  Object.keys(entity.entity).length === 0 &&
  (entity.sources === undefined || entity.sources.every((source) => source === ""))

/** Every identity an answer speaks for: its XID, `entity.identities`, `requestedIdentity`. */
const identityKeysOf = (entity: Entity.ProfileEntity): ReadonlySet<string> => {
  const keys = new Set([Identity.key({ id: entity.entityId })])
  const listed = entity.entity.identities
  if (Array.isArray(listed)) {
    for (const item of listed) {
      if (item && typeof item.id === "string" && item.namespace && typeof item.namespace.code === "string") {
        keys.add(Identity.key({ id: item.id, namespace: item.namespace.code }))
      }
    }
  }
  const requested = entity.requestedIdentity as { entityId?: unknown; entityIdNS?: { code?: unknown } } | undefined
  if (requested && typeof requested.entityId === "string") {
    keys.add(
      Identity.key(
        typeof requested.entityIdNS?.code === "string"
          ? { id: requested.entityId, namespace: requested.entityIdNS.code }
          : { id: requested.entityId }
      )
    )
  }
  return keys
}

const withoutIdentities = (entity: Entity.ProfileEntity): Entity.ProfileEntity => {
  const { identities: _ignored, ...rest } = entity.entity
  return { ...entity, entity: rest }
}

/**
 * Resolves a batch of lookups: grouped by what shares a call, de-duplicated,
 * split at `maxBatchSize`, the calls made concurrently. Every request gets
 * exactly one result.
 */
export const resolveBatch = (
  client: ProfileClientService,
  maxBatchSize: number,
  requests: ReadonlyArray<GetProfile>
): Effect.Effect<ReadonlyArray<readonly [GetProfile, Exit.Exit<Entity.ProfileEntity, ProfileError>]>> => {
  const groups = new Map<string, Map<string, Array<GetProfile>>>()
  for (const request of requests) {
    const group = groups.get(groupKey(request)) ?? new Map<string, Array<GetProfile>>()
    groups.set(groupKey(request), group)
    const key = Identity.key(identityOf(request))
    const same = group.get(key)
    if (same) same.push(request)
    else group.set(key, [request])
  }
  const calls: Array<{ readonly first: GetProfile; readonly keys: ReadonlyArray<string>; readonly byKey: Map<string, Array<GetProfile>> }> = []
  for (const byKey of groups.values()) {
    const keys = [...byKey.keys()]
    for (let i = 0; i < keys.length; i += maxBatchSize) {
      calls.push({ first: byKey.get(keys[i]!)![0]!, keys: keys.slice(i, i + maxBatchSize), byKey })
    }
  }
  /**
   * One call for `keys`; when it fails, each half is tried on its own, so an
   * identity the service chokes on (or a transient failure) fails only the
   * lookups it has to. Credential and quota failures (401, 403, 429) are not split.
   */
  const resolveKeys = (
    first: GetProfile,
    keys: ReadonlyArray<string>,
    byKey: Map<string, Array<GetProfile>>
  ): Effect.Effect<Array<readonly [GetProfile, Exit.Exit<Entity.ProfileEntity, ProfileError>]>> => {
    const requestedFields = first.fields?.split(",")
    // Identities are needed to match answers to requests.
    const fields =
      requestedFields && !requestedFields.includes("identities") ? [...requestedFields, "identities"] : requestedFields
    const identities = keys.map((key) => identityOf(byKey.get(key)![0]!))
    return Metric.update(batchSizes, identities.length).pipe(
      Effect.zipRight(client.getProfiles(identities, { fields, mergePolicyId: first.mergePolicyId, withCA: first.withCA })),
      Effect.locally(currentSandbox, Option.some(first.sandbox)),
      Effect.exit,
      Effect.flatMap((exit) => {
        if (Exit.isFailure(exit) && keys.length > 1 && splittable(exit.cause)) {
          const half = Math.ceil(keys.length / 2)
          return Effect.map(
            Effect.all([resolveKeys(first, keys.slice(0, half), byKey), resolveKeys(first, keys.slice(half), byKey)], {
              concurrency: "unbounded"
            }),
            ([a, b]) => [...a, ...b]
          )
        }
        return Effect.succeed(
          keys.flatMap((key) => {
            const waiting = byKey.get(key)!
            let result: Exit.Exit<Entity.ProfileEntity, ProfileError>
            if (Exit.isFailure(exit)) {
              result = Exit.failCause(exit.cause)
            } else {
              const match = Object.values(exit.value).find((entity) => !isPlaceholder(entity) && identityKeysOf(entity).has(key))
              result = match
                ? Exit.succeed(requestedFields && !requestedFields.includes("identities") ? withoutIdentities(match) : match)
                : Exit.fail(new NotFound({ status: 404, message: `no profile for ${key}` }))
            }
            return waiting.map((request) => [request, result] as const)
          })
        )
      })
    )
  }
  return Effect.map(
    Effect.forEach(calls, ({ byKey, first, keys }) => resolveKeys(first, keys, byKey), { concurrency: "unbounded" }),
    (results) => results.flat()
  )
}

/** Failures that concern every identity alike (the credential, the quota) are not split: halves would fail the same, twice the calls. */
const splittable = (cause: Cause.Cause<ProfileError>): boolean => {
  const failure = Cause.failureOption(cause)
  return Option.isSome(failure) && !["Unauthorized", "Forbidden", "RateLimited"].includes(failure.value._tag)
}

/** A batched resolver for `Effect.request(new GetProfile(…), resolver)` inside `{ batching: true }` code. */
export const makeResolver = (maxBatchSize = 100) =>
  Effect.map(ProfileClient, (client) =>
    RequestResolver.makeBatched((requests: ReadonlyArray<GetProfile>) =>
      Effect.flatMap(resolveBatch(client, maxBatchSize, requests), (results) =>
        Effect.forEach(results, ([request, result]) => Request.complete(request, result), { discard: true })
      )
    )
  )

export interface ProfileLookupService {
  /** One profile; lookups from any fiber within the window share one upstream call. */
  readonly lookup: (identity: Identity.Identity, options?: LookupOptions) => Effect.Effect<Entity.ProfileEntity, ProfileError>
  /** Forget cached answers (after a write or an entity delete). */
  readonly invalidate: Effect.Effect<void>
}

export class ProfileLookup extends Context.Tag("@rtcp/core/ProfileLookup")<ProfileLookup, ProfileLookupService>() {}

interface Pending {
  readonly request: GetProfile
  readonly deferred: Deferred.Deferred<Entity.ProfileEntity, ProfileError>
  /** The asking fiber's deadline (`Retry.CurrentDeadline`), if it has one. */
  readonly deadline: number | undefined
}

/**
 * The deadline of a batch's upstream calls: the latest of its lookups'
 * (the call is worth retrying while any of them still waits; the others
 * stop waiting at their own), or none when one of them has none, so that
 * lookups without a deadline keep the policy's attempt count.
 */
const deadlineOf = (batch: ReadonlyArray<Pending>): number | undefined => {
  let latest = -Infinity
  for (const pending of batch) {
    if (pending.deadline === undefined) return undefined
    latest = Math.max(latest, pending.deadline)
  }
  return latest
}

export const make = (options: Options = {}) =>
  Effect.gen(function* () {
    const client = yield* ProfileClient
    const platform = yield* Platform
    const maxBatchSize = options.maxBatchSize ?? 100
    const window = Duration.decode(options.window ?? "5 millis")
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Pending>(), Queue.shutdown)

    const drain = Effect.gen(function* () {
      const first = yield* Queue.take(queue)
      if (Duration.greaterThan(window, Duration.zero)) yield* Effect.sleep(window)
      const rest = yield* Queue.takeAll(queue)
      const batch = [first, ...rest]
      // Resolve without blocking the next window. The background fiber does not have the askers' context:
      // their deadline is handed over, so the batch's call retries by deadline (honouring Retry-After) as theirs would.
      yield* Effect.forkDaemon(
        Effect.flatMap(
          Effect.provideService(resolveBatch(client, maxBatchSize, batch.map((pending) => pending.request)), CurrentDeadline, deadlineOf(batch)),
          (results) => {
            const byRequest = new Map<GetProfile, Exit.Exit<Entity.ProfileEntity, ProfileError>>(results)
            return Effect.forEach(batch, (pending) => Deferred.done(pending.deferred, byRequest.get(pending.request)!), {
              discard: true
            })
          }
        )
      )
    })
    yield* Effect.forkScoped(Effect.forever(drain))

    const enqueue = (request: GetProfile) =>
      Effect.flatMap(Effect.zip(Deferred.make<Entity.ProfileEntity, ProfileError>(), CurrentDeadline), ([deferred, deadline]) =>
        Effect.zipRight(Queue.offer(queue, { request, deferred, deadline }), Deferred.await(deferred))
      )

    const cache =
      options.cacheTtl === undefined
        ? undefined
        : yield* Cache.make({ capacity: options.cacheCapacity ?? 10_000, timeToLive: options.cacheTtl, lookup: enqueue })

    const lookup = (identity: Identity.Identity, lookupOptions: LookupOptions = {}) =>
      Effect.flatMap(FiberRef.get(currentSandbox), (sandbox) => {
        const request = new GetProfile({
          id: identity.id,
          namespace: identity.namespace,
          sandbox: Option.getOrElse(sandbox, () => platform.sandbox),
          mergePolicyId: lookupOptions.mergePolicyId,
          fields: lookupOptions.fields?.join(","),
          withCA: lookupOptions.withCA
        })
        return cache === undefined ? enqueue(request) : cache.get(request)
      })

    return ProfileLookup.of({
      lookup,
      invalidate: cache === undefined ? Effect.void : cache.invalidateAll
    })
  })

export const layer = (options: Options = {}): Layer.Layer<ProfileLookup, never, ProfileClient | Platform> =>
  Layer.scoped(ProfileLookup, make(options))
