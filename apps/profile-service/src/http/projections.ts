import { HttpApiBuilder } from "@effect/platform"
import { ProfileApi } from "@rtcp/core"
import { Effect } from "effect"
import { pending } from "./pending.js"

export const ProjectionsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "projections", (handlers) =>
  handlers
    .handle("list", () => Effect.fail(pending("projections")))
    .handle("create", () => Effect.fail(pending("projections")))
    .handle("get", () => Effect.fail(pending("projections")))
    .handle("replace", () => Effect.fail(pending("projections")))
    .handle("delete", () => Effect.fail(pending("projections")))
)
