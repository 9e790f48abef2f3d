/**
 * Computed attributes as AEP's Computed Attributes API reads and writes
 * them: the answer's shape, and the create and PATCH bodies (already decoded
 * by the core's schemas) turned into the store's `Definition` and `Changes`.
 * What is AEP's wording stays here: the expression's `type`/`format`
 * envelope, the profile schema, which answer fields are read-only, statuses
 * in any case. The store checks the rest (names, lookbacks, PQL, lifecycle).
 */
import type { ComputedAttribute as Wire } from "@rtcp/core"
import { ComputedAttributes } from "@rtcp/profile-store"
import type { RequestScope } from "./scope.js"

const { PROFILE_SCHEMA, STATUSES } = ComputedAttributes

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The PQL text of an `expression` object, or what is wrong with its envelope. */
const expressionText = (expression: Wire.ComputedAttributeInput["expression"]): { readonly text: string } | string => {
  if (!isObject(expression)) {
    return 'expression is required: {"type": "PQL", "format": "pql/text", "value": "xEvent[...].sum(...)"}'
  }
  if (typeof expression.type !== "string" || expression.type.toUpperCase() !== "PQL") {
    return `expression.type must be "PQL"${expression.type === undefined ? "" : `, not ${JSON.stringify(expression.type)}`}`
  }
  if (typeof expression.format !== "string" || expression.format.toLowerCase() !== "pql/text") {
    return `expression.format must be "pql/text"${expression.format === undefined ? "" : `, not ${JSON.stringify(expression.format)}`}`
  }
  if (typeof expression.value !== "string") return "expression.value must hold the PQL text"
  return { text: expression.value }
}

/** A create body as the store's definition, or what is wrong with it. */
export const definitionOf = (input: Wire.ComputedAttributeInput): ComputedAttributes.Definition | string => {
  const expression = expressionText(input.expression)
  if (typeof expression === "string") return expression
  const schema: unknown = (input as Record<string, unknown>).schema
  if (schema !== undefined && !(isObject(schema) && schema.name === PROFILE_SCHEMA)) {
    return `schema.name must be ${PROFILE_SCHEMA}: computed attributes are profile attributes`
  }
  return {
    name: input.name,
    displayName: input.displayName,
    description: input.description,
    expression: expression.text,
    duration: input.duration,
    keepCurrent: input.keepCurrent === true,
    status: input.status ?? "DRAFT"
  }
}

/** Fields a PATCH may name; the rest of an answer is read-only. */
export const EDITABLE_FIELDS = ["name", "displayName", "description", "expression", "duration", "keepCurrent", "status"] as const
export const SYSTEM_FIELDS = [
  "id",
  "type",
  "imsOrgId",
  "sandbox",
  "path",
  "positionPath",
  "mergeFunction",
  "schema",
  "returnSchema",
  "definedOn",
  "lastEvaluationTs",
  "createEpoch",
  "updateEpoch",
  "createdBy"
] as const

/** A PATCH body as the store's changes, or what is wrong with it. */
export const changesOf = (body: Wire.ComputedAttributePatch): ComputedAttributes.Changes | string => {
  if (!isObject(body)) return "the body must be a JSON object with the fields to change"
  const keys = Object.keys(body)
  if (keys.length === 0) return `the patch is empty: send the fields to change (${EDITABLE_FIELDS.join(", ")})`
  for (const key of keys) {
    if ((SYSTEM_FIELDS as ReadonlyArray<string>).includes(key)) return `${key} is a system field and cannot be changed`
    if (!(EDITABLE_FIELDS as ReadonlyArray<string>).includes(key)) {
      return `${key} is not a field of a computed attribute; a patch may change ${EDITABLE_FIELDS.join(", ")}`
    }
  }
  let expression: string | undefined
  if (body.expression !== undefined) {
    const read = expressionText(body.expression)
    if (typeof read === "string") return read
    expression = read.text
  }
  let status: ComputedAttributes.Status | undefined
  if (body.status !== undefined) {
    const upper = body.status.toUpperCase() as ComputedAttributes.Status
    if (!STATUSES.includes(upper)) return `status must be one of ${STATUSES.join(", ")}`
    status = upper
  }
  return {
    name: body.name,
    displayName: body.displayName,
    description: body.description,
    expression,
    duration: body.duration,
    keepCurrent: body.keepCurrent,
    status
  }
}

/** `2023-08-27T00:14:55.028`: Adobe's format (UTC, no zone). */
const evaluationTs = (ms: number | undefined) => (ms === undefined ? "" : new Date(ms).toISOString().replace(/Z$/, ""))

/** The attribute as AEP answers it. */
export const toWire = (attribute: ComputedAttributes.Attribute, scope: RequestScope): Wire.ComputedAttribute => ({
  id: attribute.id,
  type: "ComputedAttribute",
  name: attribute.name,
  displayName: attribute.displayName,
  description: attribute.description,
  imsOrgId: attribute.imsOrgId,
  // Adobe's create/get answers say `isDefault`, its list answers `default`: both.
  sandbox: {
    sandboxId: scope.sandboxId,
    sandboxName: scope.sandbox,
    type: scope.sandboxType,
    isDefault: scope.sandbox === "prod",
    default: scope.sandbox === "prod"
  },
  path: `${attribute.tenant}/ComputedAttributes`,
  positionPath: [attribute.tenant, "ComputedAttributes"],
  keepCurrent: attribute.keepCurrent,
  expression: { type: "PQL", format: "pql/text", value: attribute.expression },
  mergeFunction: { value: attribute.mergeFunction },
  status: attribute.status,
  schema: { name: PROFILE_SCHEMA },
  duration: { count: attribute.duration.count, unit: attribute.duration.unit },
  returnSchema: { "meta:xdmType": attribute.returnType },
  definedOn: [
    { "meta:resourceType": "unions", "meta:containerId": "tenant", $ref: "https://ns.adobe.com/xdm/context/profile__union" }
  ],
  lastEvaluationTs: evaluationTs(attribute.lastEvaluationTs),
  createEpoch: attribute.createEpoch,
  updateEpoch: attribute.updateEpoch,
  createdBy: attribute.createdBy
})
