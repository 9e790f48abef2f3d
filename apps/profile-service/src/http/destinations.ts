import { HttpApiBuilder } from "@effect/platform"
import { ProfileApi } from "@rtcp/core"
import { Effect } from "effect"
import { pending } from "./pending.js"

export const DestinationsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "destinations", (handlers) =>
  handlers
    .handle("list", () => Effect.fail(pending("destinations")))
    .handle("create", () => Effect.fail(pending("destinations")))
    .handle("get", () => Effect.fail(pending("destinations")))
    .handle("replace", () => Effect.fail(pending("destinations")))
    .handle("delete", () => Effect.fail(pending("destinations")))
)
