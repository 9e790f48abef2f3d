/** `/data/core/ups/config/mergePolicies` with AEP's list envelope and bulk-get. */
import { HttpApiBuilder } from "@effect/platform"
import { ProfileApi } from "@rtcp/core"
import { MergePolicies, Sandboxes } from "@rtcp/profile-store"
import { Effect } from "effect"
import { requestScope } from "./scope.js"
import { aepService } from "./storeErrors.js"

export const MergePoliciesLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "mergePolicies", (handlers) =>
  Effect.gen(function* () {
    const policies = aepService(yield* MergePolicies.MergePolicies)
    const sandboxes = yield* Sandboxes.Sandboxes
    const scoped = <A, E>(f: (scope: MergePolicies.RequestScope) => Effect.Effect<A, E>) =>
      Effect.flatMap(Effect.provideService(requestScope, Sandboxes.Sandboxes, sandboxes), f)
    return handlers
      .handle("list", ({ urlParams: q }) =>
        scoped((scope) =>
          Effect.gen(function* () {
            const orderBy = q.orderBy ?? q.orderby
            const page = yield* policies.list(scope.sandbox, {
              start: q.start,
              limit: q.limit,
              orderBy,
              schemaName: q["schema.name"],
              isDefault: q.default,
              isActiveOnEdge: q.isActiveOnEdge,
              identityGraphType: q["identityGraph.type"],
              attributeMergeType: q["attributeMerge.type"]
            })
            const limit = q.limit ?? 20
            const next =
              page.next === undefined
                ? ""
                : `@/mergePolicies?${new URLSearchParams({
                    start: String(page.next),
                    orderBy: orderBy ?? "",
                    limit: String(limit),
                    ...(q["schema.name"] ? { "schema.name": q["schema.name"] } : {}),
                    ...(q.default === undefined ? {} : { default: String(q.default) }),
                    ...(q.isActiveOnEdge === undefined ? {} : { isActiveOnEdge: String(q.isActiveOnEdge) }),
                    ...(q["identityGraph.type"] ? { "identityGraph.type": q["identityGraph.type"] } : {}),
                    ...(q["attributeMerge.type"] ? { "attributeMerge.type": q["attributeMerge.type"] } : {})
                  }).toString()}`
            // Both documented `_page` shapes: {totalCount, pageSize} and {count, next}.
            return {
              _page: { totalCount: page.totalCount, pageSize: page.policies.length, count: page.policies.length, next: page.next === undefined ? "" : String(page.next) },
              children: page.policies.map((policy) => MergePolicies.toWire(policy, scope)),
              _links: { next: { href: next } }
            }
          })
        )
      )
      .handle("create", ({ payload }) =>
        scoped((scope) => Effect.map(policies.create(scope.sandbox, payload), (p) => MergePolicies.toWire(p, scope)))
      )
      .handle("get", ({ path }) =>
        scoped((scope) => Effect.map(policies.get(scope.sandbox, path.mergePolicyId), (p) => MergePolicies.toWire(p, scope)))
      )
      .handle("replace", ({ path, payload }) =>
        scoped((scope) =>
          Effect.map(policies.replace(scope.sandbox, path.mergePolicyId, payload), (p) => MergePolicies.toWire(p, scope))
        )
      )
      .handle("patch", ({ path, payload }) =>
        scoped((scope) =>
          Effect.map(policies.patch(scope.sandbox, path.mergePolicyId, payload), (p) => MergePolicies.toWire(p, scope))
        )
      )
      .handle("delete", ({ path }) => scoped((scope) => policies.remove(scope.sandbox, path.mergePolicyId)))
      .handle("bulkGet", ({ payload }) =>
        scoped((scope) =>
          Effect.gen(function* () {
            const results: Record<string, ReturnType<typeof MergePolicies.toWire>> = {}
            // Unknown ids are left out of `results`, never an error for the others.
            for (const { id } of payload.ids) {
              const found = yield* Effect.option(policies.get(scope.sandbox, id))
              if (found._tag === "Some") results[id] = MergePolicies.toWire(found.value, scope)
            }
            return { results }
          })
        )
      )
  })
)

