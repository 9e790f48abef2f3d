import { it, expect } from "@effect/vitest"
import { Effect } from "effect"
import { ProfileApi } from "@rtcp/core"

it.effect("the contract builds an OpenAPI document", () =>
  Effect.sync(() => {
    const doc = ProfileApi.openApiDocument()
    expect(Object.keys(doc.paths).length).toBeGreaterThan(20)
  })
)
