/** A computed attribute as AEP's Computed Attributes API answers it. */
import type { ComputedAttribute as Wire } from "@rtcp/core"
import { ComputedAttributes } from "@rtcp/profile-store"
import type { RequestScope } from "./scope.js"

const { PROFILE_SCHEMA } = ComputedAttributes

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
