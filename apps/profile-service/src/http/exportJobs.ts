import { HttpApiBuilder } from "@effect/platform"
import { ProfileApi } from "@rtcp/core"
import { Effect } from "effect"
import { pending } from "./pending.js"

export const ExportJobsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "exportJobs", (handlers) =>
  handlers
    .handle("list", () => Effect.fail(pending("exportJobs")))
    .handle("create", () => Effect.fail(pending("exportJobs")))
    .handle("get", () => Effect.fail(pending("exportJobs")))
    .handle("cancel", () => Effect.fail(pending("exportJobs")))
)
