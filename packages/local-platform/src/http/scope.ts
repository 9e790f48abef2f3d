import { PlatformGateway } from "@rtcp/core"
import { Sandboxes } from "@rtcp/profile-store"
import { Effect, Option } from "effect"

/** Who is asking: merge policy and computed attribute answers carry the org and the sandbox. */
export interface RequestScope {
  readonly sandbox: string
  readonly sandboxId: string
  readonly sandboxType: string
  readonly imsOrgId: string
}

/** The caller's org and sandbox, read once per request at the edge. */
export const requestScope: Effect.Effect<RequestScope, never, PlatformGateway.PlatformContext | Sandboxes.Sandboxes> =
  Effect.gen(function* () {
    const context = yield* PlatformGateway.PlatformContext
    const sandboxes = yield* Sandboxes.Sandboxes
    const sandbox = Option.getOrUndefined(yield* sandboxes.get(context.sandboxName))
    return {
      sandbox: context.sandboxName,
      sandboxId: sandbox?.id ?? "",
      sandboxType: sandbox?.type ?? "development",
      imsOrgId: context.imsOrgId
    }
  })
