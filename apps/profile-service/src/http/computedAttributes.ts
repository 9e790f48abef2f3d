import { HttpApiBuilder } from "@effect/platform"
import { ProfileApi } from "@rtcp/core"
import { Effect } from "effect"
import { pending } from "./pending.js"

export const ComputedAttributesLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "computedAttributes", (handlers) =>
  handlers
    .handle("list", () => Effect.fail(pending("computedAttributes")))
    .handle("create", () => Effect.fail(pending("computedAttributes")))
    .handle("get", () => Effect.fail(pending("computedAttributes")))
    .handle("patch", () => Effect.fail(pending("computedAttributes")))
    .handle("delete", () => Effect.fail(pending("computedAttributes")))
)
