/**
 * What a user asked the upstream to do, as data. Views and forms produce
 * intents; the reducer decides whether one needs a confirmation or is
 * refused (`--read-only`); `operations.ts` turns it into a core effect.
 * Keeping them as data is what lets the confirmation and read-only rules be
 * tested without rendering or a network.
 */
import type { ComputedAttribute, EdgeProjection, MergePolicy } from "@rtcp/core"

export type Intent =
  | { readonly kind: "lookupProfile"; readonly namespace: string; readonly id: string }
  | { readonly kind: "createPolicy"; readonly input: MergePolicy.MergePolicyInput }
  | { readonly kind: "replacePolicy"; readonly id: string; readonly input: MergePolicy.MergePolicyInput }
  | { readonly kind: "setDefaultPolicy"; readonly id: string; readonly name: string }
  | { readonly kind: "deletePolicy"; readonly id: string; readonly name: string }
  | { readonly kind: "createDeleteJob"; readonly datasetId: string; readonly datasetName?: string | undefined; readonly batchId?: string | undefined }
  | { readonly kind: "deleteSystemJob"; readonly id: string }
  | { readonly kind: "cancelExportJob"; readonly id: number }
  | { readonly kind: "createAttribute"; readonly input: ComputedAttribute.ComputedAttributeInput }
  | { readonly kind: "deleteAttribute"; readonly id: string; readonly name: string }
  | { readonly kind: "createDestination"; readonly input: EdgeProjection.DestinationInput }
  | { readonly kind: "deleteDestination"; readonly id: string }
  | { readonly kind: "createProjection"; readonly schemaName: string; readonly input: EdgeProjection.ProjectionInput }
  | { readonly kind: "deleteProjection"; readonly id: string; readonly name: string }

export type IntentKind = Intent["kind"]

/** Destructive intents wait for a confirmation. */
export const isDestructive = (intent: Intent): boolean => {
  switch (intent.kind) {
    case "deletePolicy":
    case "setDefaultPolicy":
    case "createDeleteJob":
    case "deleteSystemJob":
    case "cancelExportJob":
    case "deleteAttribute":
    case "deleteDestination":
    case "deleteProjection":
      return true
    default:
      return false
  }
}

/** Intents that change the upstream; `--read-only` refuses them all. */
export const isWrite = (intent: Intent): boolean => intent.kind !== "lookupProfile"

/** One line for the confirmation and the status line. */
export const describe = (intent: Intent): string => {
  switch (intent.kind) {
    case "lookupProfile":
      return `Look up ${intent.namespace}:${intent.id}`
    case "createPolicy":
      return `Create merge policy "${intent.input.name}"`
    case "replacePolicy":
      return `Update merge policy "${intent.input.name}"`
    case "setDefaultPolicy":
      return `Make "${intent.name}" the default merge policy (it merges every lookup that names none)`
    case "deletePolicy":
      return `Delete merge policy "${intent.name}" (${intent.id})`
    case "createDeleteJob":
      return intent.batchId
        ? `Delete batch ${intent.batchId} of dataset ${intent.datasetName ?? intent.datasetId} from the profile store`
        : `Delete dataset ${intent.datasetName ?? intent.datasetId} from the profile store`
    case "deleteSystemJob":
      return `Delete system job ${intent.id} (a job that has not started is cancelled)`
    case "cancelExportJob":
      return `Cancel export job ${intent.id}`
    case "createAttribute":
      return `Create computed attribute "${intent.input.name}"`
    case "deleteAttribute":
      return `Delete computed attribute "${intent.name}" (${intent.id})`
    case "createDestination":
      return `Create edge destination (${intent.input.dataCenters.join(", ")})`
    case "deleteDestination":
      return `Delete edge destination ${intent.id}`
    case "createProjection":
      return `Create edge projection "${intent.input.name}"`
    case "deleteProjection":
      return `Delete edge projection "${intent.name}" (${intent.id})`
  }
}
