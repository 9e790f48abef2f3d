import { PlatformGateway } from "@rtcp/core"
import { type MergePolicies, Sandboxes } from "@rtcp/profile-store"
import { Effect, Option } from "effect"

/** The caller's org and sandbox as merge policy answers show them. */
export const requestScope: Effect.Effect<MergePolicies.RequestScope, never, PlatformGateway.PlatformContext | Sandboxes.Sandboxes> =
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
