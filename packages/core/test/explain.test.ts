import { describe, expect, it } from "@effect/vitest"
import { ProfileApi, ProfileClient, Retry } from "@rtcp/core"
import { Effect } from "effect"
import { always, fakeTransport, json, staticLayer } from "./support/fakeTransport.js"

describe("explainProfile, an rtcp extension", () => {
  it.effect("asks GET /rtcp/explain/profile with the gateway headers; an upstream without it (Adobe) answers NotFound", () =>
    Effect.gen(function* () {
      // Adobe's gateway answers an unknown path 404.
      const transport = fakeTransport(always(json(404, { error_code: "404050", message: "Not Found" })))
      const error = yield* Effect.flatMap(ProfileClient.ProfileClient, (client) =>
        client.explainProfile({ entityId: "jane@x.com", entityIdNS: "Email", mergePolicyId: "p1" })
      ).pipe(Effect.provide(staticLayer(transport)), Effect.provideService(Retry.CurrentRetryPolicy, Retry.none), Effect.flip)
      expect(error._tag).toBe("NotFound")
      const sent = transport.requests.at(-1)!
      expect(sent.method).toBe("GET")
      expect(sent.path).toBe("/rtcp/explain/profile")
      expect(sent.url).toContain("entityId=jane%40x.com")
      expect(sent.url).toContain("entityIdNS=Email")
      expect(sent.url).toContain("mergePolicyId=p1")
      expect(sent.headers["x-api-key"]).toBeDefined()
      expect(sent.headers["x-sandbox-name"]).toBeDefined()
    })
  )

  it("is not in the OpenAPI document, which describes Adobe's API", () => {
    expect(Object.keys(ProfileApi.openApiDocument().paths).filter((path) => path.startsWith("/rtcp"))).toEqual([])
  })
})
