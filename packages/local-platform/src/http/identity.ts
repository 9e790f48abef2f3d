/**
 * Identities on their way into the store. AEP's namespace codes are
 * case-insensitive and the store keeps them lower case, so the namespace a
 * client sends is lower-cased here, once; a profile that is not found still
 * names the namespace as the client wrote it.
 */
import type { Identity } from "@rtcp/core"
import { StoreError } from "@rtcp/profile-store"
import { Effect } from "effect"
import { aep } from "./storeErrors.js"

/** `id` in `namespace` as the store reads it; an XID when `namespace` is undefined. */
export const identityOf = (namespace: string | undefined, id: string): Identity.Identity =>
  namespace === undefined ? { id } : { namespace: namespace.toLowerCase(), id }

/**
 * Runs a store operation on the identity a client named, with the store's
 * errors turned into AEP's.
 */
export const withIdentity = <A, E, R>(
  namespace: string | undefined,
  id: string,
  f: (identity: Identity.Identity) => Effect.Effect<A, E, R>
) =>
  aep(
    Effect.mapError(f(identityOf(namespace, id)), (error) =>
      error instanceof StoreError.ProfileNotFound
        ? new StoreError.ProfileNotFound({ identity: namespace === undefined ? { id } : { namespace, id } })
        : error
    )
  )
