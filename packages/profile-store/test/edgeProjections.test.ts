import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { EdgeProjections, MergePolicies, Sandboxes } from "../src/index.js"
import { store } from "./support/store.js"

const edge = EdgeProjections.EdgeProjections

const destinationDraft = (overrides: Partial<EdgeProjections.DestinationDraft> = {}): EdgeProjections.DestinationDraft => ({
  type: "EDGE",
  dataCenters: ["OR1"],
  ttl: undefined,
  replicationPolicy: undefined,
  currentVersion: undefined,
  ...overrides
})

const projectionDraft = (overrides: Partial<EdgeProjections.ProjectionDraft> & Pick<EdgeProjections.ProjectionDraft, "destinationId">) => ({
  name: "p",
  selector: "emails",
  mergePolicyId: undefined,
  currentVersion: undefined,
  ...overrides
})

const destination = (overrides: Partial<EdgeProjections.DestinationDraft> = {}) =>
  Effect.flatMap(edge, (s) => s.createDestination("prod", destinationDraft(overrides)))

// The kind of each domain error, written as the status the HTTP edge answers it with,
// so these cases read as the API documentation does.
const STATUS: Record<string, number> = { InvalidInput: 400, Conflict: 409, Refused: 422, DestinationNotFound: 404, ProjectionNotFound: 404 }

const failure = <A, E extends { readonly _tag: string; readonly message: string }>(
  effect: Effect.Effect<A, E, EdgeProjections.EdgeProjections>
) => Effect.map(Effect.flip(effect), (error) => ({ error, status: STATUS[error._tag], message: error.message }))

describe("EdgeProjections: destinations", () => {
  it.effect("creates with defaults, versions every update, and refuses stale versions with 409", () =>
    Effect.gen(function* () {
      const s = yield* edge
      const created = yield* destination()
      expect(created).toMatchObject({ type: "EDGE", dataCenters: ["OR1"], ttl: 3600, replicationPolicy: "REACTIVE", version: 1 })

      const updated = yield* s.replaceDestination("prod", created.id, destinationDraft({ dataCenters: ["OR1", "VA5"], ttl: 8000, currentVersion: 1 }))
      expect(updated).toMatchObject({ dataCenters: ["OR1", "VA5"], ttl: 8000, version: 2 })

      // ttl and replicationPolicy left out of a PUT keep their values (the guide's PUT example).
      const again = yield* s.replaceDestination("prod", created.id, destinationDraft({ dataCenters: ["NLD1"], replicationPolicy: "PROACTIVE" }))
      expect(again).toMatchObject({ dataCenters: ["NLD1"], ttl: 8000, replicationPolicy: "PROACTIVE", version: 3 })

      const stale = yield* failure(s.replaceDestination("prod", created.id, destinationDraft({ currentVersion: 2 })))
      expect(stale.status).toBe(409)
      expect(stale.message).toMatch(/at version 3, not 2/)
      expect((yield* s.getDestination("prod", created.id)).version).toBe(3)

      expect((yield* s.listDestinations("prod")).map((d) => d.id)).toEqual([created.id])
      expect(yield* s.listDestinations("other")).toEqual([])
    }).pipe(Effect.provide(store()))
  )

  it.effect("keeps the bounds of ttl; replacing an unknown destination is a 404", () =>
    Effect.gen(function* () {
      const s = yield* edge
      expect((yield* destination({ ttl: 600 })).ttl).toBe(600)
      expect((yield* destination({ ttl: 604_800, dataCenters: ["OR1", "VA5", "NLD1"] })).ttl).toBe(604_800)
      const missing = yield* failure(s.replaceDestination("prod", "nope", destinationDraft()))
      expect(missing.status).toBe(404)
    }).pipe(Effect.provide(store()))
  )

  it.effect("refuses to delete a destination that projections use, naming them (422)", () =>
    Effect.gen(function* () {
      const s = yield* edge
      const target = yield* destination()
      const p = yield* s.createProjection("prod", "_xdm.context.profile", projectionDraft({ name: "emails_only", destinationId: target.id }))
      const inUse = yield* failure(s.removeDestination("prod", target.id))
      expect(inUse.status).toBe(422)
      expect(inUse.message).toContain(`"emails_only" (${p.id}, _xdm.context.profile)`)
      yield* s.removeProjection("prod", p.id)
      yield* s.removeDestination("prod", target.id)
      expect((yield* failure(s.getDestination("prod", target.id))).status).toBe(404)
      expect((yield* failure(s.removeDestination("prod", target.id))).status).toBe(404)
    }).pipe(Effect.provide(store()))
  )
})

describe("EdgeProjections: projections", () => {
  it.effect("creates, lists by class and name, updates with versions and deletes", () =>
    Effect.gen(function* () {
      const s = yield* edge
      const target = yield* destination()
      const created = yield* s.createProjection(
        "prod",
        "_xdm.context.profile",
        projectionDraft({ selector: "emails,person(firstName)", name: "my_test_projection", destinationId: target.id })
      )
      expect(created).toMatchObject({ schemaName: "_xdm.context.profile", version: 1, mergePolicyId: undefined })
      yield* s.createProjection("prod", "_xdm.context.experienceevent", projectionDraft({ selector: "web", name: "my_test_projection", destinationId: target.id }))

      expect((yield* s.listProjections("prod", {})).length).toBe(2)
      expect((yield* s.listProjections("prod", { schemaName: "_xdm.context.profile" })).map((p) => p.id)).toEqual([created.id])
      expect((yield* s.listProjections("prod", { schemaName: "_xdm.context.profile", name: "nope" }))).toEqual([])
      const needsClass = yield* failure(s.listProjections("prod", { name: "my_test_projection" }))
      expect(needsClass.status).toBe(400)
      expect(needsClass.message).toMatch(/requires schemaName/)

      const put = yield* s.putProjection("prod", created.id, { ...created, selector: "emails", currentVersion: 1 })
      expect(put).toMatchObject({ created: false, projection: { selector: "emails", version: 2 } })
      const stale = yield* failure(s.putProjection("prod", created.id, { ...created, currentVersion: 1 }))
      expect(stale.status).toBe(409)

      yield* s.removeProjection("prod", created.id)
      expect((yield* failure(s.getProjection("prod", created.id))).status).toBe(404)
    }).pipe(Effect.provide(store()))
  )

  it.effect("PUT creates under the given id, in the class asked for", () =>
    Effect.gen(function* () {
      const s = yield* edge
      const target = yield* destination()
      const first = yield* s.putProjection("prod", "my-projection", projectionDraft({ destinationId: target.id }))
      expect(first).toMatchObject({ created: true, projection: { id: "my-projection", version: 1, schemaName: "_xdm.context.profile" } })
      const event = yield* s.putProjection(
        "prod",
        "events",
        projectionDraft({ selector: "web", destinationId: target.id }),
        { schemaName: "_xdm.context.experienceevent" }
      )
      expect(event.projection.schemaName).toBe("_xdm.context.experienceevent")
      const moved = yield* failure(
        s.putProjection("prod", "events", projectionDraft({ selector: "web", destinationId: target.id }), { schemaName: "_xdm.context.profile" })
      )
      expect(moved.message).toMatch(/schemaName is read-only/)
      const gone = yield* failure(s.putProjection("prod", "deleted", projectionDraft({ name: "q", selector: "a", destinationId: target.id, currentVersion: 4 })))
      expect(gone.status).toBe(409)
      const badId = yield* failure(s.putProjection("prod", "has space", projectionDraft({ name: "q", selector: "a", destinationId: target.id })))
      expect(badId.status).toBe(400)
    }).pipe(Effect.provide(store()))
  )

  it.effect("checks the class and what the projection refers to", () =>
    Effect.gen(function* () {
      const s = yield* edge
      const policies = yield* MergePolicies.MergePolicies
      const target = yield* destination()
      const create = (input: Partial<EdgeProjections.ProjectionDraft>, schemaName = "_xdm.context.profile") =>
        s.createProjection("prod", schemaName, projectionDraft({ destinationId: target.id, ...input }))
      const bad = (input: Partial<EdgeProjections.ProjectionDraft>, schemaName?: string) =>
        Effect.map(failure(create(input, schemaName)), (e) => [e.status, e.message])

      expect(yield* bad({}, "")).toEqual([400, expect.stringMatching(/schemaName is required/)])
      expect(yield* bad({}, "not a class")).toEqual([400, expect.stringMatching(/not an XDM class name/)])
      expect(yield* bad({ destinationId: "missing" })).toEqual([422, expect.stringMatching(/Destination "missing" does not exist/)])
      expect(yield* bad({ mergePolicyId: "missing" })).toEqual([422, expect.stringMatching(/Merge policy "missing" does not exist/)])

      const [policy] = (yield* policies.list("prod", {})).policies
      const withPolicy = yield* create({ mergePolicyId: policy!.id })
      expect(withPolicy.mergePolicyId).toBe(policy!.id)
      expect(yield* bad({ name: "other", mergePolicyId: policy!.id }, "_xdm.context.experienceevent")).toEqual([
        422,
        expect.stringMatching(/applies to _xdm.context.profile, not to _xdm.context.experienceevent/)
      ])

      // Names are unique per class.
      expect(yield* bad({})).toEqual([409, expect.stringMatching(/named "p" already exists for _xdm.context.profile/)])
      const other = yield* create({ name: "other" })
      const renamed = yield* failure(s.putProjection("prod", other.id, projectionDraft({ destinationId: target.id })))
      expect(renamed.status).toBe(409)
    }).pipe(Effect.provide(store()))
  )

  it.effect("keeps sandboxes apart", () =>
    Effect.gen(function* () {
      const s = yield* edge
      const sandboxes = yield* Sandboxes.Sandboxes
      yield* sandboxes.create({ name: "dev" })
      const target = yield* destination()
      const inDev = yield* failure(s.createProjection("dev", "_xdm.context.profile", projectionDraft({ selector: "a", destinationId: target.id })))
      expect(inDev.status).toBe(422)
      expect((yield* failure(s.getDestination("dev", target.id))).status).toBe(404)
    }).pipe(Effect.provide(store()))
  )
})
