import { describe, expect, it } from "@effect/vitest"
import { ProfileClient } from "@rtcp/core"
import { Chunk, Effect, Stream } from "effect"
import { layer } from "./support/harness.js"
import { json, raw } from "./support/raw.js"

const input = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  schema: { name: "_xdm.context.profile" },
  identityGraph: { type: "none" as const },
  attributeMerge: { type: "timestampOrdered" as const },
  ...extra
})

describe("merge policies through the core client", () => {
  it.layer(layer())((it) => {
    it.effect("create, get, replace, patch, bulk-get, list as a stream, delete", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const created = yield* client.createMergePolicy(input("Loyalty first", { default: true }))
        expect(created).toMatchObject({ name: "Loyalty first", version: 1, default: true, imsOrgId: "RTCPLOCAL@AdobeOrg" })
        expect(created.sandbox).toMatchObject({ sandboxName: "prod", type: "production" })
        const previousDefault = (yield* client.listMergePolicies({ default: false })).children
        expect(previousDefault.map((p) => p.name)).toContain("Default Timebased")

        const replaced = yield* client.replaceMergePolicy(created.id, input("Renamed", { identityGraph: { type: "pdg" } }))
        expect(replaced).toMatchObject({ version: 2, identityGraph: { type: "pdg" }, default: false })
        const patched = yield* client.patchMergePolicy(created.id, [{ op: "add", path: "/name", value: "Patched" }])
        expect(patched).toMatchObject({ version: 3, name: "Patched" })
        const single = yield* client.patchMergePolicy(created.id, { op: "add", path: "/default", value: "true" })
        expect(single.default).toBe(true)

        const bulk = yield* client.bulkGetMergePolicies([created.id, "unknown-id"])
        expect(Object.keys(bulk.results)).toEqual([created.id])

        for (const name of ["c", "d"]) yield* client.createMergePolicy(input(name))
        const all = yield* Stream.runCollect(client.mergePolicies({ limit: 2 }))
        expect(Chunk.size(all)).toBe(4)
        expect(new Set(Chunk.toReadonlyArray(all).map((p) => p.id)).size).toBe(4)

        yield* client.deleteMergePolicy(created.id)
        const gone = yield* Effect.flip(client.getMergePolicy(created.id))
        expect(gone._tag).toBe("NotFound")
        expect(gone.requestId).toBeTypeOf("string")
      })
    )

    it.effect("invalid bodies are 400 with AEP's error body; nothing is created", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const before = (yield* client.listMergePolicies()).children.length
        const error = yield* Effect.flip(
          client.createMergePolicy(input("x", { attributeMerge: { type: "dataSetPrecedence" } }))
        )
        expect(error._tag).toBe("BadRequest")
        expect(error.body).toMatchObject({ status: 400, detail: expect.stringMatching(/attributeMerge.order/) })
        const wrongEnum = yield* raw("POST", "/data/core/ups/config/mergePolicies", json(input("x", { identityGraph: { type: "sometimes" } })))
        expect(wrongEnum.status).toBe(400)
        expect(wrongEnum.body.detail).toMatch(/identityGraph/)
        expect((yield* client.listMergePolicies()).children.length).toBe(before)
      })
    )
  })
})
