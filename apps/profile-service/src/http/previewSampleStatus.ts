import { HttpApiBuilder } from "@effect/platform"
import { ProfileApi } from "@rtcp/core"
import { Effect } from "effect"
import { pending } from "./pending.js"

export const PreviewSampleStatusLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "previewSampleStatus", (handlers) =>
  handlers
    .handle("status", () => Effect.fail(pending("previewSampleStatus")))
    .handle("datasetReport", () => Effect.fail(pending("previewSampleStatus")))
    .handle("namespaceReport", () => Effect.fail(pending("previewSampleStatus")))
    .handle("datasetOverlapReport", () => Effect.fail(pending("previewSampleStatus")))
    .handle("namespaceOverlapReport", () => Effect.fail(pending("previewSampleStatus")))
    .handle("unstitchedProfilesReport", () => Effect.fail(pending("previewSampleStatus")))
)
