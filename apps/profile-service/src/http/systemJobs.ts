import { HttpApiBuilder } from "@effect/platform"
import { ProfileApi } from "@rtcp/core"
import { Effect } from "effect"
import { pending } from "./pending.js"

export const SystemJobsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "systemJobs", (handlers) =>
  handlers
    .handle("list", () => Effect.fail(pending("systemJobs")))
    .handle("create", () => Effect.fail(pending("systemJobs")))
    .handle("get", () => Effect.fail(pending("systemJobs")))
    .handle("delete", () => Effect.fail(pending("systemJobs")))
)
