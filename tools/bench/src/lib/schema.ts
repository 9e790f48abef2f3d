/** The store's schema in a folder, for writers that bypass the store. */
import { ProfileStore } from "@rtcp/profile-store"
import { Effect, Layer } from "effect"

/** Creates the store's schema (its migrations) in `dir`, then closes it. */
export const migrateStore = (dir: string) => Effect.runPromise(Effect.scoped(Layer.build(ProfileStore.layerSqlite({ directory: dir }))))
