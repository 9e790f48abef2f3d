/**
 * XDM data is open-ended: tenants add their own field groups, so an entity
 * body is any JSON object and no field may be dropped because a schema does
 * not name it.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** An XDM object (entity body, event body): any JSON object, kept whole. */
export const XdmObject = Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
  identifier: "XdmObject",
  description: "An XDM object; every field is kept"
})
export type XdmObject = typeof XdmObject.Type

/**
 * A typed structure that still keeps the fields it does not name, for config
 * objects (merge policies, jobs…) that Adobe may extend at any time.
 */
export const open = <Fields extends Schema.Struct.Fields>(fields: Fields, identifier?: string) =>
  Schema.Struct(fields).annotations({
    ...(identifier ? { identifier } : {}),
    parseOptions: { onExcessProperty: "preserve" }
  })

/** A boolean that AEP sometimes sends as the string "true"/"false". */
export const LooseBoolean = Schema.Union(
  Schema.Boolean,
  Schema.transform(Schema.Literal("true", "false"), Schema.Boolean, {
    strict: true,
    decode: (s) => s === "true",
    encode: (b) => (b ? "true" : "false")
  })
)

/** A `Schema.Union` of the literal values AEP documents, widened to any string so new values never fail a decode. */
export const OpenLiteral = <const L extends ReadonlyArray<string>>(...literals: L) =>
  Schema.Union(Schema.Literal(...literals), Schema.String) as unknown as Schema.Schema<L[number] | (string & {}), string>

/** Query parameter that may repeat (`property=a&property=b`). */
export const Repeated = Schema.Union(Schema.String, Schema.Array(Schema.String))
