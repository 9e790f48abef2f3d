/**
 * `/data/core/ca/attributes`: computed attribute definitions (list with
 * AEP's filters and paging, create, get, patch, delete) over the store's
 * `ComputedAttributes`, which also evaluates them.
 */
import { HttpApiBuilder } from "@effect/platform"
import { PlatformGateway, ProfileApi } from "@rtcp/core"
import { ComputedAttributes, Sandboxes, StoreError } from "@rtcp/profile-store"
import { Effect } from "effect"
import { changesOf, definitionOf, toWire } from "./computedAttributeWire.js"
import { type RequestScope, requestScope } from "./scope.js"
import { aep, aepService } from "./storeErrors.js"

/** A body the store cannot take answers as the store's own invalid input does. */
const readBody = <A>(result: A | string, title: string) =>
  aep(typeof result === "string" ? Effect.fail(StoreError.invalid(result, title)) : Effect.succeed(result))

const asArray = (value: string | ReadonlyArray<string> | undefined) =>
  value === undefined ? undefined : typeof value === "string" ? [value] : value

export const ComputedAttributesLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "computedAttributes", (handlers) =>
  Effect.gen(function* () {
    const attributes = aepService(yield* ComputedAttributes.ComputedAttributes)
    const sandboxes = yield* Sandboxes.Sandboxes
    const scoped = <A, E, R>(f: (scope: RequestScope) => Effect.Effect<A, E, R>) =>
      Effect.flatMap(Effect.provideService(requestScope, Sandboxes.Sandboxes, sandboxes), f)
    const wire = (scope: RequestScope) => (attribute: ComputedAttributes.Attribute) =>
      toWire(attribute, scope)
    return handlers
      .handle("list", ({ urlParams: q }) =>
        scoped((scope) =>
          Effect.gen(function* () {
            const property = asArray(q.property)
            const page = yield* attributes.list(scope.sandbox, {
              limit: q.limit,
              offset: q.offset,
              sortBy: q.sortBy,
              property,
              status: q.status,
              state: q.state
            })
            // Links keep the caller's filters and sort, relative to /data/core/ca as Adobe's are.
            const href = (offset: number) => {
              const params = new URLSearchParams({ offset: String(offset), limit: String(page.limit) })
              if (q.sortBy !== undefined) params.set("sortBy", q.sortBy)
              for (const p of property ?? []) params.append("property", p)
              if (q.status !== undefined) params.set("status", q.status)
              if (q.state !== undefined) params.set("state", q.state)
              return { href: `/attributes?${params.toString()}` }
            }
            const lastOffset = page.totalCount === 0 ? 0 : Math.floor((page.totalCount - 1) / page.limit) * page.limit
            const items = page.attributes.map(wire(scope))
            return {
              _links: {
                self: href(page.offset),
                ...(page.offset + page.limit < page.totalCount ? { next: href(page.offset + page.limit) } : {}),
                ...(page.offset > 0 ? { prev: href(Math.max(0, page.offset - page.limit)) } : {}),
                last: href(lastOffset)
              },
              computedAttributes: items,
              _page: { offset: page.offset, limit: page.limit, count: items.length, totalCount: page.totalCount },
              // The OpenAPI document's list key.
              children: items
            }
          })
        )
      )
      .handle("create", ({ payload }) =>
        scoped((scope) =>
          Effect.gen(function* () {
            const context = yield* PlatformGateway.PlatformContext
            const definition = yield* readBody(definitionOf(payload), "Invalid computed attribute")
            const created = yield* attributes.create(scope.sandbox, definition, {
              imsOrgId: context.imsOrgId,
              createdBy: context.subject
            })
            return toWire(created, scope)
          })
        )
      )
      .handle("get", ({ path }) => scoped((scope) => Effect.map(attributes.get(scope.sandbox, path.ATTRIBUTE_ID), wire(scope))))
      .handle("patch", ({ path, payload }) =>
        scoped((scope) =>
          Effect.gen(function* () {
            // An unknown attribute answers 404 whatever the body says.
            const changes = yield* readBody(changesOf(payload), "Invalid computed attribute update").pipe(
              Effect.tapError(() => attributes.get(scope.sandbox, path.ATTRIBUTE_ID))
            )
            return wire(scope)(yield* attributes.patch(scope.sandbox, path.ATTRIBUTE_ID, changes))
          })
        )
      )
      .handle("delete", ({ path }) =>
        scoped((scope) => Effect.map(attributes.remove(scope.sandbox, path.ATTRIBUTE_ID), wire(scope)))
      )
  })
)
