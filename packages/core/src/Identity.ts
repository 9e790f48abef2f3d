/**
 * Identities: a value in a namespace (`Email`, `ECID`, `CRMID`…), and the
 * XID that addresses a merged entity.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { open } from "./Xdm.js"

/** Namespace codes are case-insensitive in AEP (`ECID` and `ecid` are one namespace). */
export const NamespaceRef = open({ code: Schema.String }, "NamespaceRef")

/** One identity of an entity as lookups list it. */
export const EntityIdentity = open(
  {
    id: Schema.String,
    namespace: NamespaceRef,
    primary: Schema.optional(Schema.Union(Schema.Boolean, Schema.String))
  },
  "EntityIdentity"
)
export type EntityIdentity = typeof EntityIdentity.Type

/** An identity to look up: a value with its namespace, or an XID alone. */
export interface Identity {
  readonly id: string
  /** Omit for an XID. */
  readonly namespace?: string | undefined
}

export const make = (namespace: string, id: string): Identity => ({ namespace, id })
export const xid = (id: string): Identity => ({ id })

/** Canonical key of an identity, for de-duplication and matching. */
export const key = (identity: Identity): string =>
  identity.namespace === undefined ? `xid:${identity.id}` : `${identity.namespace.toLowerCase()}:${identity.id}`
