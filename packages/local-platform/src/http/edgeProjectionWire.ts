/**
 * Edge projection bodies as AEP's API reads them: a destination or a
 * projection configuration, parsed from its vendor JSON (`readVendorJson`),
 * turned into the store's draft. Every message says what to fix. The store
 * checks what depends on stored state (versions, references, names).
 */
import { EdgeProjections } from "@rtcp/profile-store"
import { Either } from "effect"

const { DATA_CENTERS, REPLICATION_POLICIES, Selector, TTL_DEFAULT, TTL_MAX, TTL_MIN } = EdgeProjections

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const quote = (u: unknown) => (typeof u === "string" ? `"${u}"` : JSON.stringify(u) ?? String(u))

const currentVersionOf = (input: Record<string, unknown>): number | undefined | string => {
  const v = input.currentVersion
  if (v === undefined || v === null) return undefined
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v
  return typeof n === "number" && Number.isInteger(n) && n >= 0
    ? n
    : `currentVersion must be the integer version you last read, got ${quote(v)}`
}

/** A destination body; `ttl` and `replicationPolicy` left out stay undefined (the store keeps or defaults them). */
export const destinationDraftOf = (input: unknown): EdgeProjections.DestinationDraft | string => {
  if (!isObject(input)) return 'the body must be a destination object, e.g. {"type":"EDGE","dataCenters":["OR1"],"ttl":3600}'
  if (input.type === undefined) return 'type is required: "EDGE"'
  if (input.type !== "EDGE") return `type ${quote(input.type)} is not supported: the only destination type is "EDGE"`
  const centers = input.dataCenters
  if (centers === undefined) return `dataCenters is required: one or more of ${DATA_CENTERS.join(", ")}`
  if (!Array.isArray(centers) || centers.length === 0) {
    return `dataCenters must be a non-empty array of ${DATA_CENTERS.join(", ")} (OR1 US West, VA5 US East, NLD1 EMEA)`
  }
  const dataCenters: Array<EdgeProjections.DataCenter> = []
  for (const center of centers) {
    const known = DATA_CENTERS.find((code) => code === center)
    if (known === undefined) {
      return `data center ${quote(center)} is unknown: use ${DATA_CENTERS.join(", ")} (OR1 US West, VA5 US East, NLD1 EMEA)`
    }
    dataCenters.push(known)
  }
  if (new Set(dataCenters).size !== dataCenters.length) return "dataCenters lists a data center twice"
  let ttl: number | undefined
  if (input.ttl !== undefined && input.ttl !== null) {
    if (typeof input.ttl !== "number" || !Number.isInteger(input.ttl)) return `ttl must be a whole number of seconds, got ${quote(input.ttl)}`
    if (input.ttl < TTL_MIN || input.ttl > TTL_MAX) {
      return `ttl ${input.ttl} is out of range: use ${TTL_MIN} to ${TTL_MAX} seconds (10 minutes to 7 days; default ${TTL_DEFAULT})`
    }
    ttl = input.ttl
  }
  let replicationPolicy: EdgeProjections.ReplicationPolicy | undefined
  if (input.replicationPolicy !== undefined && input.replicationPolicy !== null) {
    replicationPolicy = REPLICATION_POLICIES.find((policy) => policy === input.replicationPolicy)
    if (replicationPolicy === undefined) {
      return `replicationPolicy ${quote(input.replicationPolicy)} is unknown: use PROACTIVE or REACTIVE (the default)`
    }
  }
  const currentVersion = currentVersionOf(input)
  if (typeof currentVersion === "string") return currentVersion
  return { type: "EDGE", dataCenters, ttl, replicationPolicy, currentVersion }
}

const MAX_NAME = 256

/** A projection body (create and PUT), with the `schemaName` a PUT's body may carry. */
export const projectionDraftOf = (
  input: unknown
): (EdgeProjections.ProjectionDraft & { readonly schemaName: string | undefined }) | string => {
  if (!isObject(input)) {
    return 'the body must be a projection object, e.g. {"name":"my_projection","selector":"emails,person(name)","destinationId":"…"}'
  }
  if (input.name === undefined) return "name is required"
  if (typeof input.name !== "string" || input.name.trim() === "") return "name must be a non-empty string"
  if (input.name !== input.name.trim()) return "name must not start or end with spaces"
  if (input.name.length > MAX_NAME) return `name is longer than ${MAX_NAME} characters`
  if (input.selector === undefined) return 'selector is required, e.g. "emails,person(name.firstName)"'
  if (typeof input.selector !== "string") return "selector must be a string of comma-separated paths"
  const selector = Selector.parse(input.selector)
  if (Either.isLeft(selector)) return `selector: ${selector.left.message}`
  if (input.destinationId === undefined) return "destinationId is required: the id of a destination from /config/destinations"
  if (typeof input.destinationId !== "string" || input.destinationId === "") return "destinationId must be a destination id"
  const mergePolicyId = input.mergePolicyId
  if (mergePolicyId !== undefined && mergePolicyId !== null && (typeof mergePolicyId !== "string" || mergePolicyId === "")) {
    return "mergePolicyId must be a merge policy id (or left out for the default policy)"
  }
  const currentVersion = currentVersionOf(input)
  if (typeof currentVersion === "string") return currentVersion
  return {
    name: input.name,
    selector: input.selector,
    destinationId: input.destinationId,
    mergePolicyId: typeof mergePolicyId === "string" ? mergePolicyId : undefined,
    currentVersion,
    schemaName: typeof input.schemaName === "string" && input.schemaName !== "" ? input.schemaName : undefined
  }
}
