/**
 * What a user asked the upstream to do, as data. Views and forms produce
 * intents; the reducer decides whether one needs a confirmation or is
 * refused (`--read-only`); the runner in `operations.ts` runs it. Keeping
 * them as data is what lets the confirmation and read-only rules be tested
 * without rendering or a network.
 *
 * Everything about one kind of intent lives in one row of `intentTable`:
 * its sentence, whether it asks first, whether it writes, the core call and
 * what its success says, and which detail route it removes.
 */
import { type ComputedAttribute, type EdgeProjection, type ExportJob, Identity, type MergePolicy, ProfileClient, type ProfileError, SystemJob } from "@rtcp/core"
import { Effect } from "effect"

export type Intent =
  | { readonly kind: "lookupProfile"; readonly namespace: string; readonly id: string }
  | { readonly kind: "createPolicy"; readonly input: MergePolicy.MergePolicyInput }
  | { readonly kind: "replacePolicy"; readonly id: string; readonly input: MergePolicy.MergePolicyInput }
  | { readonly kind: "setDefaultPolicy"; readonly id: string; readonly name: string }
  | { readonly kind: "deletePolicy"; readonly id: string; readonly name: string }
  | { readonly kind: "createDeleteJob"; readonly datasetId: string; readonly datasetName?: string | undefined; readonly batchId?: string | undefined }
  | { readonly kind: "deleteSystemJob"; readonly id: string }
  | { readonly kind: "createExportJob"; readonly request: ExportJob.ExportJobRequest; readonly datasetName?: string | undefined }
  | { readonly kind: "cancelExportJob"; readonly id: number }
  | { readonly kind: "deleteProfile"; readonly namespace: string; readonly id: string }
  | { readonly kind: "createAttribute"; readonly input: ComputedAttribute.ComputedAttributeInput }
  | { readonly kind: "deleteAttribute"; readonly id: string; readonly name: string }
  | { readonly kind: "createDestination"; readonly input: EdgeProjection.DestinationInput }
  | { readonly kind: "deleteDestination"; readonly id: string }
  | { readonly kind: "createProjection"; readonly schemaName: string; readonly input: EdgeProjection.ProjectionInput }
  | { readonly kind: "deleteProjection"; readonly id: string; readonly name: string }

export type IntentKind = Intent["kind"]

export interface IntentSpec<I extends Intent> {
  /** One line for the confirmation and the status line. */
  readonly describe: (intent: I) => string
  /** Waits for a confirmation. */
  readonly destructive: boolean
  /** Changes the upstream: `--read-only` refuses it. */
  readonly write: boolean
  /** The core call; it answers the sentence the status line shows on success. */
  readonly run: (intent: I, client: ProfileClient.ProfileClient["Type"]) => Effect.Effect<string, ProfileError.ProfileError>
  /** The detail route (`route.detail.id`) a success removes: the app leaves it. */
  readonly removes?: ((intent: I) => string) | undefined
}

export const intentTable: { readonly [K in IntentKind]: IntentSpec<Extract<Intent, { readonly kind: K }>> } = {
  lookupProfile: {
    describe: (i) => `Look up ${i.namespace}:${i.id}`,
    destructive: false,
    write: false,
    run: (i) => Effect.succeed(`looked up ${i.namespace}:${i.id}`)
  },
  createPolicy: {
    describe: (i) => `Create merge policy "${i.input.name}"`,
    destructive: false,
    write: true,
    run: (i, client) => Effect.map(client.createMergePolicy(i.input), (policy) => `created merge policy "${policy.name ?? policy.id}" (${policy.id})`)
  },
  replacePolicy: {
    describe: (i) => `Update merge policy "${i.input.name}"`,
    destructive: false,
    write: true,
    run: (i, client) =>
      Effect.map(client.replaceMergePolicy(i.id, i.input), (policy) => `updated merge policy "${policy.name ?? policy.id}" to version ${policy.version}`)
  },
  setDefaultPolicy: {
    describe: (i) => `Make "${i.name}" the default merge policy (it merges every lookup that names none)`,
    destructive: true,
    write: true,
    run: (i, client) => Effect.as(client.patchMergePolicy(i.id, { op: "add", path: "/default", value: true }), `"${i.name}" is now the default merge policy`)
  },
  deletePolicy: {
    describe: (i) => `Delete merge policy "${i.name}" (${i.id})`,
    destructive: true,
    write: true,
    run: (i, client) => Effect.as(client.deleteMergePolicy(i.id), `deleted merge policy "${i.name}"`),
    removes: (i) => i.id
  },
  createDeleteJob: {
    describe: (i) =>
      i.batchId
        ? `Delete batch ${i.batchId} of dataset ${i.datasetName ?? i.datasetId} from the profile store`
        : `Delete dataset ${i.datasetName ?? i.datasetId} from the profile store`,
    destructive: true,
    write: true,
    run: (i, client) =>
      Effect.map(
        i.batchId ? client.deleteBatchFromProfile(i.datasetId, i.batchId) : client.deleteDatasetFromProfile(i.datasetId),
        (job) => `delete job ${SystemJob.jobId(job)} created (${job.status})`
      )
  },
  deleteSystemJob: {
    describe: (i) => `Delete system job ${i.id} (a job that has not started is cancelled)`,
    destructive: true,
    write: true,
    run: (i, client) => Effect.as(client.deleteSystemJob(i.id), `deleted system job ${i.id}`),
    removes: (i) => `system:${i.id}`
  },
  createExportJob: {
    describe: (i) => `Export merged profiles to dataset ${i.datasetName ?? i.request.destination.datasetId ?? ""}`,
    destructive: false,
    write: true,
    run: (i, client) => Effect.map(client.createExportJob(i.request), (job) => `export job ${job.id} created (${job.status})`)
  },
  cancelExportJob: {
    describe: (i) => `Cancel export job ${i.id}`,
    destructive: true,
    write: true,
    run: (i, client) => Effect.as(client.cancelExportJob(i.id), `export job ${i.id} cancelled`)
  },
  deleteProfile: {
    describe: (i) => `Delete the profile ${i.namespace}:${i.id} (every fragment of this identity)`,
    destructive: true,
    write: true,
    run: (i, client) => Effect.as(client.deleteEntity(Identity.make(i.namespace, i.id)), `deleted the profile ${i.namespace}:${i.id}`),
    removes: (i) => `${i.namespace}:${i.id}`
  },
  createAttribute: {
    describe: (i) => `Create computed attribute "${i.input.name}"`,
    destructive: false,
    write: true,
    run: (i, client) => Effect.map(client.createComputedAttribute(i.input), (attribute) => `created computed attribute "${attribute.name}" (${attribute.status})`)
  },
  deleteAttribute: {
    describe: (i) => `Delete computed attribute "${i.name}" (${i.id})`,
    destructive: true,
    write: true,
    run: (i, client) => Effect.as(client.deleteComputedAttribute(i.id), `deleted computed attribute "${i.name}"`),
    removes: (i) => i.id
  },
  createDestination: {
    describe: (i) => `Create edge destination (${i.input.dataCenters.join(", ")})`,
    destructive: false,
    write: true,
    run: (i, client) => Effect.map(client.createDestination(i.input), (destination) => `created edge destination ${destination.id}`)
  },
  deleteDestination: {
    describe: (i) => `Delete edge destination ${i.id}`,
    destructive: true,
    write: true,
    run: (i, client) => Effect.as(client.deleteDestination(i.id), `deleted edge destination ${i.id}`),
    removes: (i) => `destination:${i.id}`
  },
  createProjection: {
    describe: (i) => `Create edge projection "${i.input.name}"`,
    destructive: false,
    write: true,
    run: (i, client) => Effect.map(client.createProjection(i.schemaName, i.input), (projection) => `created edge projection "${projection.name}"`)
  },
  deleteProjection: {
    describe: (i) => `Delete edge projection "${i.name}" (${i.id})`,
    destructive: true,
    write: true,
    run: (i, client) => Effect.as(client.deleteProjection(i.id), `deleted edge projection "${i.name}"`),
    removes: (i) => `projection:${i.id}`
  }
}

/** The row of an intent's kind (the cast is what TypeScript cannot see: the row matches the kind). */
export const specOf = <I extends Intent>(intent: I): IntentSpec<I> => intentTable[intent.kind] as unknown as IntentSpec<I>

export const isDestructive = (intent: Intent): boolean => specOf(intent).destructive

export const isWrite = (intent: Intent): boolean => specOf(intent).write

export const describe = (intent: Intent): string => specOf(intent).describe(intent)

/** The detail route a successful intent removes, if any. */
export const removes = (intent: Intent): string | undefined => specOf(intent).removes?.(intent)
