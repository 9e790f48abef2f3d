/**
 * Where and as whom Platform is called: base URLs, org, API key and default
 * sandbox. The sandbox can be switched for a region of code with
 * `withSandbox`, which is how "overridable per call" works for every method.
 *
 * @since 0.1.0
 */
import { Context, Effect, FiberRef, Layer, Option } from "effect"
import { dual } from "effect/Function"

export interface PlatformSettings {
  /** e.g. `https://platform.adobe.io`, or a local profile service. */
  readonly platformUrl: string
  /** e.g. `https://ims-na1.adobelogin.com`. */
  readonly imsUrl: string
  /** `XXXX@AdobeOrg`. */
  readonly orgId: string
  /** The credential's client id (`x-api-key`). */
  readonly apiKey: string
  readonly sandbox: string
}

export class Platform extends Context.Tag("@rtcp/core/Platform")<Platform, PlatformSettings>() {
  static layer = (settings: PlatformSettings) => Layer.succeed(Platform, settings)
}

export const currentSandbox: FiberRef.FiberRef<Option.Option<string>> = FiberRef.unsafeMake(Option.none())

/** Runs `effect` against another sandbox (`x-sandbox-name`). */
export const withSandbox: {
  (sandbox: string): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, sandbox: string): Effect.Effect<A, E, R>
} = dual(2, <A, E, R>(effect: Effect.Effect<A, E, R>, sandbox: string) =>
  Effect.locally(effect, currentSandbox, Option.some(sandbox))
)

/** The sandbox a request made now would target. */
export const sandboxNow: Effect.Effect<string, never, Platform> = Effect.flatMap(Platform, (settings) =>
  Effect.map(FiberRef.get(currentSandbox), Option.getOrElse(() => settings.sandbox))
)

/** `Platform.layer(settings)`: where and as whom Platform is called. */
export const layer = (settings: PlatformSettings) => Layer.succeed(Platform, settings)
