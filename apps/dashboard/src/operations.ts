/**
 * Intents as core effects: the only place the dashboard writes upstream.
 * Each answers the sentence the status line shows when it succeeds.
 */
import { ProfileClient, type ProfileError, SystemJob } from "@rtcp/core"
import { Effect } from "effect"
import type { Intent } from "./state/intents.js"

export const run = (intent: Intent): Effect.Effect<string, ProfileError.ProfileError, ProfileClient.ProfileClient> =>
  Effect.flatMap(ProfileClient.ProfileClient, (client) => {
    switch (intent.kind) {
      case "lookupProfile":
        return Effect.succeed(`looked up ${intent.namespace}:${intent.id}`)
      case "createPolicy":
        return Effect.map(client.createMergePolicy(intent.input), (policy) => `created merge policy "${policy.name ?? policy.id}" (${policy.id})`)
      case "replacePolicy":
        return Effect.map(client.replaceMergePolicy(intent.id, intent.input), (policy) => `updated merge policy "${policy.name ?? policy.id}" to version ${policy.version}`)
      case "setDefaultPolicy":
        return Effect.as(
          client.patchMergePolicy(intent.id, { op: "add", path: "/default", value: true }),
          `"${intent.name}" is now the default merge policy`
        )
      case "deletePolicy":
        return Effect.as(client.deleteMergePolicy(intent.id), `deleted merge policy "${intent.name}"`)
      case "createDeleteJob":
        return Effect.map(
          intent.batchId ? client.deleteBatchFromProfile(intent.datasetId, intent.batchId) : client.deleteDatasetFromProfile(intent.datasetId),
          (job) => `delete job ${SystemJob.jobId(job)} created (${job.status})`
        )
      case "deleteSystemJob":
        return Effect.as(client.deleteSystemJob(intent.id), `deleted system job ${intent.id}`)
      case "cancelExportJob":
        return Effect.as(client.cancelExportJob(intent.id), `export job ${intent.id} cancelled`)
      case "createAttribute":
        return Effect.map(client.createComputedAttribute(intent.input), (attribute) => `created computed attribute "${attribute.name}" (${attribute.status})`)
      case "deleteAttribute":
        return Effect.as(client.deleteComputedAttribute(intent.id), `deleted computed attribute "${intent.name}"`)
      case "createDestination":
        return Effect.map(client.createDestination(intent.input), (destination) => `created edge destination ${destination.id}`)
      case "deleteDestination":
        return Effect.as(client.deleteDestination(intent.id), `deleted edge destination ${intent.id}`)
      case "createProjection":
        return Effect.map(client.createProjection(intent.schemaName, intent.input), (projection) => `created edge projection "${projection.name}"`)
      case "deleteProjection":
        return Effect.as(client.deleteProjection(intent.id), `deleted edge projection "${intent.name}"`)
    }
  })
