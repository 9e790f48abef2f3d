/**
 * Single-profile lookups, batched.
 *
 * A lookup is an Effect `Request`; concurrent lookups (from many fibers, many
 * callers of a proxy) are collected by a batched resolver into one
 * `POST /access/entities` per (sandbox, merge policy, fields, withCA) group,
 * de-duplicated and split at `maxBatchSize`. An optional TTL cache answers
 * repeated lookups without a call.
 *
 * @since 0.1.0
 */
import { Context, type Duration, Effect, Exit, FiberRef, Layer, Metric, MetricBoundaries, Option, Request, RequestResolver } from "effect"
import * as Entity from "./Entity.js"
import * as Identity from "./Identity.js"
import { currentSandbox, Platform } from "./Platform.js"
import { ProfileClient } from "./ProfileClient.js"
import { NotFound, type ProfileError } from "./ProfileError.js"

export interface LookupOptions {
  readonly fields?: ReadonlyArray<string> | undefined
  readonly mergePolicyId?: string | undefined
  readonly withCA?: boolean | undefined
}

export class GetProfile extends Request.TaggedClass("GetProfile")<
  Entity.ProfileEntity,
  ProfileError,
  {
    readonly identity: Identity.Identity
    readonly sandbox: string
    readonly mergePolicyId: string | undefined
    /** Comma-joined, so requests compare by value. */
    readonly fields: string | undefined
    readonly withCA: boolean | undefined
  }
> {}

export interface Options {
  /** Identities per `POST /access/entities`. */
  readonly maxBatchSize?: number | undefined
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

const groupKey = (request: GetProfile) =>
  `${request.sandbox}\u0000${request.mergePolicyId ?? ""}\u0000${request.fields ?? ""}\u0000${request.withCA ?? ""}`

const isPlaceholder = (entity: Entity.ProfileEntity) =>
  Object.keys(entity.entity).length === 0 &&
  (entity.sources === undefined || entity.sources.every((source) => source === ""))

const identitiesOf = (entity: Entity.ProfileEntity): ReadonlyArray<Identity.Identity> => {
  const listed = entity.entity.identities
  const found: Array<Identity.Identity> = [{ id: entity.entityId }]
  if (Array.isArray(listed)) {
    for (const item of listed) {
      if (item && typeof item.id === "string" && item.namespace && typeof item.namespace.code === "string") {
        found.push({ id: item.id, namespace: item.namespace.code })
      }
    }
  }
  const requested = entity.requestedIdentity as { entityId?: unknown; entityIdNS?: { code?: unknown } } | undefined
  if (requested && typeof requested.entityId === "string") {
    found.push({
      id: requested.entityId,
      ...(typeof requested.entityIdNS?.code === "string" ? { namespace: requested.entityIdNS.code } : {})
    })
  }
  return found
}

export const makeResolver = (maxBatchSize: number) =>
  Effect.map(ProfileClient, (client) =>
    RequestResolver.makeBatched((requests: ReadonlyArray<GetProfile>) =>
      Effect.gen(function* () {
        const groups = new Map<string, Array<GetProfile>>()
        for (const request of requests) {
          const key = groupKey(request)
          const group = groups.get(key)
          if (group) group.push(request)
          else groups.set(key, [request])
        }
        yield* Effect.forEach(
          groups.values(),
          (group) => {
            // De-duplicate: identical identities share one slot of the batch.
            const byIdentity = new Map<string, Array<GetProfile>>()
            for (const request of group) {
              const key = Identity.key(request.identity)
              const same = byIdentity.get(key)
              if (same) same.push(request)
              else byIdentity.set(key, [request])
            }
            const keys = [...byIdentity.keys()]
            const chunks: Array<Array<string>> = []
            for (let i = 0; i < keys.length; i += maxBatchSize) chunks.push(keys.slice(i, i + maxBatchSize))
            const first = group[0]!
            const requestedFields = first.fields?.split(",")
            // Identities are needed to match answers to requests.
            const fields =
              requestedFields && !requestedFields.includes("identities") ? [...requestedFields, "identities"] : requestedFields
            return Effect.forEach(
              chunks,
              (chunk) => {
                const identities = chunk.map((key) => byIdentity.get(key)![0]!.identity)
                return Metric.update(batchSizes, identities.length).pipe(
                  Effect.zipRight(
                    client.getProfiles(identities, {
                      fields,
                      mergePolicyId: first.mergePolicyId,
                      withCA: first.withCA
                    })
                  ),
                  Effect.locally(currentSandbox, Option.some(first.sandbox)),
                  Effect.exit,
                  Effect.flatMap((exit) =>
                    Effect.forEach(chunk, (key) => {
                      const waiting = byIdentity.get(key)!
                      const complete = (result: Exit.Exit<Entity.ProfileEntity, ProfileError>) =>
                        Effect.forEach(waiting, (request) => Request.complete(request, result), { discard: true })
                      if (Exit.isFailure(exit)) return complete(Exit.failCause(exit.cause))
                      const match = Object.values(exit.value).find(
                        (entity) =>
                          !isPlaceholder(entity) && identitiesOf(entity).some((identity) => Identity.key(identity) === key || sameIdentity(identity, waiting[0]!.identity))
                      )
                      return complete(
                        match
                          ? Exit.succeed(
                              requestedFields && !requestedFields.includes("identities") ? withoutIdentities(match) : match
                            )
                          : Exit.fail(
                              new NotFound({ status: 404, message: `no profile for ${key}` })
                            )
                      )
                    }, { discard: true })
                  )
                )
              },
              { concurrency: "unbounded", discard: true }
            )
          },
          { concurrency: "unbounded", discard: true }
        )
      })
    ).pipe(RequestResolver.batchN(Number.MAX_SAFE_INTEGER))
  )

const sameIdentity = (a: Identity.Identity, b: Identity.Identity) =>
  a.id === b.id && (a.namespace ?? "").toLowerCase() === (b.namespace ?? "").toLowerCase()

const withoutIdentities = (entity: Entity.ProfileEntity): Entity.ProfileEntity => {
  const { identities: _ignored, ...rest } = entity.entity
  return { ...entity, entity: rest }
}

export interface ProfileLookupService {
  /** One profile; concurrent calls are batched into one upstream call. */
  readonly lookup: (identity: Identity.Identity, options?: LookupOptions) => Effect.Effect<Entity.ProfileEntity, ProfileError>
  /** Forget cached answers (after a write or an entity delete). */
  readonly invalidate: Effect.Effect<void>
}

export class ProfileLookup extends Context.Tag("@rtcp/core/ProfileLookup")<ProfileLookup, ProfileLookupService>() {}

export const make = (options: Options = {}) =>
  Effect.gen(function* () {
    const resolver = yield* makeResolver(options.maxBatchSize ?? 100)
    const platform = yield* Platform
    const cache =
      options.cacheTtl === undefined
        ? undefined
        : yield* Request.makeCache({
            capacity: options.cacheCapacity ?? 10_000,
            timeToLive: options.cacheTtl
          })
    const lookup = (identity: Identity.Identity, lookupOptions: LookupOptions = {}) =>
      Effect.flatMap(currentSandboxOr(platform.sandbox), (sandbox) => {
        const request = Effect.request(
          new GetProfile({
            identity,
            sandbox,
            mergePolicyId: lookupOptions.mergePolicyId,
            fields: lookupOptions.fields?.join(","),
            withCA: lookupOptions.withCA
          }),
          resolver
        )
        return cache === undefined
          ? request
          : request.pipe(Effect.withRequestCaching(true), Effect.withRequestCache(cache))
      })
    return ProfileLookup.of({
      lookup,
      invalidate: cache === undefined ? Effect.void : cache.invalidateAll
    })
  })

const currentSandboxOr = (fallback: string) =>
  Effect.map(FiberRef.get(currentSandbox), Option.getOrElse(() => fallback))

export const layer = (options: Options = {}): Layer.Layer<ProfileLookup, never, ProfileClient | Platform> =>
  Layer.effect(ProfileLookup, make(options))

