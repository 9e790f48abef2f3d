/**
 * Merge policies as AEP's API reads and writes them: the answer's shape
 * (with the caller's org and sandbox) and the request bodies (a whole policy
 * on create and PUT, JSON Patch operations on PATCH) turned into the store's
 * `PolicyDraft`. Every message says what to fix.
 */
import type { MergePolicy } from "@rtcp/core"
import type { Merge, MergePolicies } from "@rtcp/profile-store"
import type { RequestScope } from "./scope.js"

const GRAPH_TYPES = ["none", "pdg"] as const
const MERGE_TYPES = ["timestampOrdered", "dataSetPrecedence"] as const

export const toWire = (policy: MergePolicies.Policy, scope: RequestScope): MergePolicy.MergePolicy => ({
  id: policy.id,
  name: policy.name,
  imsOrgId: scope.imsOrgId,
  sandbox: { sandboxId: scope.sandboxId, sandboxName: scope.sandbox, type: scope.sandboxType, default: scope.sandbox === "prod" },
  schema: { name: policy.schemaName },
  version: policy.version,
  identityGraph: { type: policy.identityGraph },
  attributeMerge:
    policy.attributeMerge.type === "dataSetPrecedence"
      ? { type: "dataSetPrecedence", order: policy.attributeMerge.order }
      : { type: "timestampOrdered" },
  isActiveOnEdge: policy.activeOnEdge,
  default: policy.isDefault,
  updateEpoch: policy.updateEpoch
})

type Draft = { -readonly [K in keyof MergePolicies.PolicyDraft]: MergePolicies.PolicyDraft[K] }

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const asBoolean = (u: unknown): boolean | undefined =>
  typeof u === "boolean" ? u : u === "true" ? true : u === "false" ? false : undefined

/** Checks a whole policy body (create, PUT); every message says what to fix. */
export const validate = (input: unknown): Draft | string => {
  if (!isObject(input)) return "the body must be a merge policy object"
  if (typeof input.name !== "string" || input.name.trim() === "") return "name is required"
  const schema = input.schema
  if (!isObject(schema) || typeof schema.name !== "string" || schema.name === "") {
    return 'schema.name is required, e.g. {"name":"_xdm.context.profile"}'
  }
  const graph = isObject(input.identityGraph) ? input.identityGraph.type : undefined
  if (!GRAPH_TYPES.includes(graph as any)) return `identityGraph.type must be one of ${GRAPH_TYPES.join(", ")}`
  const merge = isObject(input.attributeMerge) ? input.attributeMerge : undefined
  if (!merge || !MERGE_TYPES.includes(merge.type as any)) return `attributeMerge.type must be one of ${MERGE_TYPES.join(", ")}`
  let attributeMerge: Merge.AttributeMerge = { type: "timestampOrdered" }
  if (merge.type === "dataSetPrecedence") {
    if (!Array.isArray(merge.order) || merge.order.length === 0 || !merge.order.every((id) => typeof id === "string" && id !== "")) {
      return "attributeMerge.order must list the dataset ids, highest priority first, when attributeMerge.type is dataSetPrecedence"
    }
    if (new Set(merge.order).size !== merge.order.length) return "attributeMerge.order lists a dataset twice"
    attributeMerge = { type: "dataSetPrecedence", order: merge.order as Array<string> }
  }
  const isDefault = input.default === undefined ? false : asBoolean(input.default)
  if (isDefault === undefined) return "default must be a boolean"
  const activeOnEdge = input.isActiveOnEdge === undefined ? false : asBoolean(input.isActiveOnEdge)
  if (activeOnEdge === undefined) return "isActiveOnEdge must be a boolean"
  return {
    name: input.name,
    schemaName: schema.name,
    identityGraph: graph as Draft["identityGraph"],
    attributeMerge,
    isDefault,
    activeOnEdge
  }
}

/** Applies JSON Patch `add`/`replace` operations to a policy (values may arrive as strings). */
export const applyPatch = (policy: MergePolicies.Policy, body: unknown): Draft | string => {
  const ops = Array.isArray(body) ? body : [body]
  if (ops.length === 0) return "the patch has no operation"
  const draft: Draft = {
    name: policy.name,
    schemaName: policy.schemaName,
    identityGraph: policy.identityGraph,
    attributeMerge: policy.attributeMerge,
    isDefault: policy.isDefault,
    activeOnEdge: policy.activeOnEdge
  }
  for (const op of ops) {
    if (!isObject(op) || typeof op.path !== "string") return 'each operation needs "op", "path" and "value"'
    if (op.op !== "add" && op.op !== "replace") return `op "${String(op.op)}" is not supported: use "add" (or "replace")`
    const path = op.path.replace(/^\//, "").replace(/\//g, ".")
    const value = op.value
    switch (path) {
      case "name":
        if (typeof value !== "string" || value.trim() === "") return "/name needs a non-empty string"
        draft.name = value
        break
      case "schema.name":
        if (typeof value !== "string" || value === "") return "/schema.name needs a class name"
        draft.schemaName = value
        break
      case "identityGraph.type":
        if (!GRAPH_TYPES.includes(value as any)) return `/identityGraph.type must be one of ${GRAPH_TYPES.join(", ")}`
        draft.identityGraph = value as Draft["identityGraph"]
        break
      case "attributeMerge.type":
        if (value === "timestampOrdered") draft.attributeMerge = { type: "timestampOrdered" }
        else if (value === "dataSetPrecedence") {
          if (draft.attributeMerge.type !== "dataSetPrecedence") {
            return "switching to dataSetPrecedence needs the dataset order: send /attributeMerge.order in the same patch first, or use PUT"
          }
        } else return `/attributeMerge.type must be one of ${MERGE_TYPES.join(", ")}`
        break
      case "attributeMerge.order":
        if (!Array.isArray(value) || value.length === 0 || !value.every((id) => typeof id === "string")) {
          return "/attributeMerge.order needs an array of dataset ids"
        }
        draft.attributeMerge = { type: "dataSetPrecedence", order: value as Array<string> }
        break
      case "default": {
        const b = asBoolean(value)
        if (b === undefined) return "/default needs true or false"
        draft.isDefault = b
        break
      }
      // The OpenAPI document misspells it /idActiveOnEdge.
      case "isActiveOnEdge":
      case "idActiveOnEdge": {
        const b = asBoolean(value)
        if (b === undefined) return "/isActiveOnEdge needs true or false"
        draft.activeOnEdge = b
        break
      }
      case "version":
        // Read-only; accepted and ignored as AEP does.
        break
      default:
        return `path "${op.path}" cannot be patched: use /name, /default, /isActiveOnEdge, /identityGraph.type, /attributeMerge.type, /attributeMerge.order or /schema.name`
    }
  }
  return draft
}
