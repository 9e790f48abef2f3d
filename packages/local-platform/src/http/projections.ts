/**
 * `/data/core/ups/config/projections`: edge projection configurations.
 *
 * Items carry `_links.destination`, `_links.self` and the destination itself
 * under `_embedded.destination` (with its top-level `self`), as the guide's
 * examples do. Media types are checked as for destinations (see
 * `destinations.ts`). Status codes where the guide is silent: POST and PUT
 * answer 200 (PUT also when it creates), DELETE 204; a duplicate name or a
 * stale `currentVersion` 409; an unknown destination or merge policy 422.
 *
 * PUT is create-or-update. Its contract has no query parameters, but a PUT
 * that creates needs a schema class: it is read from `?schemaName=` (as on
 * POST) or the body's `schemaName`, else `_xdm.context.profile`.
 */
import { HttpApiBuilder } from "@effect/platform"
import { EdgeProjection, PlatformGateway, ProfileApi } from "@rtcp/core"
import { EdgeProjections, StoreError } from "@rtcp/profile-store"
import { Effect } from "effect"
import { CONFIG_BASE, destinationHref, destinationItem, readDraft, readVendorJson } from "./destinations.js"
import { projectionDraftOf } from "./edgeProjectionWire.js"
import { aep, aepService } from "./storeErrors.js"

/** The class and id rules answer before the body's (the store checks them again). */
const paramProblem = (problem: string | undefined) =>
  problem === undefined ? Effect.void : aep(Effect.fail(StoreError.invalid(problem, "Invalid projection")))

const link = (href: string) => ({ href, templated: false })

const sandboxName = Effect.map(PlatformGateway.PlatformContext, (context) => context.sandboxName)

export const ProjectionsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "projections", (handlers) =>
  Effect.gen(function* () {
    const store = aepService(yield* EdgeProjections.EdgeProjections)

    /** The wire item, with its destination embedded (looked up once per destination). */
    const items = (sandbox: string, projections: ReadonlyArray<EdgeProjections.Projection>) =>
      Effect.gen(function* () {
        const destinations = new Map<string, EdgeProjection.Destination | undefined>()
        const out: Array<EdgeProjection.Projection> = []
        for (const p of projections) {
          if (!destinations.has(p.destinationId)) {
            const found = yield* Effect.option(store.getDestination(sandbox, p.destinationId))
            destinations.set(p.destinationId, found._tag === "Some" ? destinationItem(found.value) : undefined)
          }
          const destination = destinations.get(p.destinationId)
          out.push({
            _links: { destination: link(destinationHref(p.destinationId)), self: link(`${CONFIG_BASE}/projections/${p.id}`) },
            ...(destination === undefined ? {} : { _embedded: { destination } }),
            selector: p.selector,
            version: p.version,
            id: p.id,
            schemaName: p.schemaName,
            name: p.name,
            destinationId: p.destinationId,
            ...(p.mergePolicyId === undefined ? {} : { mergePolicyId: p.mergePolicyId })
          })
        }
        return out
      })

    const item = (sandbox: string, projection: EdgeProjections.Projection) =>
      Effect.map(items(sandbox, [projection]), (list) => list[0]!)

    return handlers
      .handle("list", ({ urlParams }) =>
        Effect.gen(function* () {
          const sandbox = yield* sandboxName
          const projections = yield* store.listProjections(sandbox, { schemaName: urlParams.schemaName, name: urlParams.name })
          return {
            _links: { self: link(`${CONFIG_BASE}/projections`) },
            _embedded: { projectionConfigs: yield* items(sandbox, projections) }
          }
        })
      )
      .handleRaw("create", ({ request, urlParams }) =>
        Effect.gen(function* () {
          const body = yield* readVendorJson(request, EdgeProjection.MediaType.projection)
          const sandbox = yield* sandboxName
          yield* paramProblem(EdgeProjections.checkSchemaName(urlParams.schemaName))
          const { schemaName: _, ...draft } = yield* readDraft(projectionDraftOf(body), "Invalid projection")
          return yield* item(sandbox, yield* store.createProjection(sandbox, urlParams.schemaName, draft))
        })
      )
      .handle("get", ({ path }) =>
        Effect.gen(function* () {
          const sandbox = yield* sandboxName
          return yield* item(sandbox, yield* store.getProjection(sandbox, path.projectionId))
        })
      )
      .handleRaw("replace", ({ path, request }) =>
        Effect.gen(function* () {
          const body = yield* readVendorJson(request, EdgeProjection.MediaType.projection)
          const sandbox = yield* sandboxName
          yield* paramProblem(EdgeProjections.checkProjectionId(path.projectionId))
          const { schemaName: bodySchema, ...draft } = yield* readDraft(projectionDraftOf(body), "Invalid projection")
          const schemaName = new URL(request.url, "http://local").searchParams.get("schemaName") || bodySchema
          const { projection } = yield* store.putProjection(sandbox, path.projectionId, draft, { schemaName })
          return yield* item(sandbox, projection)
        })
      )
      .handle("delete", ({ path }) =>
        Effect.gen(function* () {
          yield* store.removeProjection(yield* sandboxName, path.projectionId)
        })
      )
  })
)
