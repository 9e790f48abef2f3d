/**
 * Catalog's dataset bodies as the store reads them: a create body, and the
 * `tags` of a PATCH. Every message says what to fix; the store checks the
 * rest (a name, a schema whose class it knows, upsert that stays on).
 */
import type { Catalog } from "@rtcp/profile-store"

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const SCHEMA_REF_REQUIRED =
  'schemaRef.id is required, e.g. {"id":"https://ns.adobe.com/xdm/context/profile","contentType":"application/vnd.adobe.xed+json;version=1"}'

/** Tag name → array of strings, or what is wrong. */
export const tagsOf = (tags: unknown): Catalog.Tags | string => {
  if (!isObject(tags)) return "tags must be an object of tag name → array of strings"
  const out: Record<string, ReadonlyArray<string>> = {}
  for (const [name, values] of Object.entries(tags)) {
    if (!Array.isArray(values) || !values.every((v) => typeof v === "string")) {
      return `tags.${name} must be an array of strings such as ["enabled:true"]`
    }
    out[name] = values
  }
  return out
}

/** A dataset create body (already known to be an object), or what is wrong with it. */
export const datasetInputOf = (body: Record<string, unknown>): Catalog.DatasetInput | string => {
  if (typeof body.name !== "string") return "name is required"
  const schemaRef = body.schemaRef
  if (!isObject(schemaRef) || typeof schemaRef.id !== "string") return SCHEMA_REF_REQUIRED
  if (body.xdmClass !== undefined && typeof body.xdmClass !== "string") return "xdmClass must be a class id string"
  const tags = body.tags === undefined ? undefined : tagsOf(body.tags)
  if (typeof tags === "string") return tags
  return {
    name: body.name,
    description: typeof body.description === "string" ? body.description : undefined,
    schemaRef: { id: schemaRef.id, contentType: typeof schemaRef.contentType === "string" ? schemaRef.contentType : undefined },
    tags,
    xdmClass: body.xdmClass
  }
}
