/**
 * Configuration from the `AEP_*` variables (through Effect's `Config`, so any
 * ConfigProvider works: env, a file, a test map).
 *
 * | variable | meaning |
 * |---|---|
 * | AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_SCOPES | OAuth server-to-server credential |
 * | AEP_ACCESS_TOKEN | a static token instead of the OAuth credential |
 * | AEP_ORG_ID | `XXXX@AdobeOrg` |
 * | AEP_API_KEY | `x-api-key`; defaults to AEP_CLIENT_ID |
 * | AEP_SANDBOX | default `prod` |
 * | AEP_PLATFORM_URL | default `https://platform.adobe.io` |
 * | AEP_IMS_URL | default `https://ims-na1.adobelogin.com` |
 *
 * @since 0.1.0
 */
import { Config, ConfigError, Either, Option, Redacted } from "effect"
import type { PlatformSettings } from "./Platform.js"

export type Credentials =
  | { readonly _tag: "Static"; readonly token: Redacted.Redacted<string> }
  | {
      readonly _tag: "OAuth"
      readonly clientId: string
      readonly clientSecret: Redacted.Redacted<string>
      readonly scopes: string | undefined
    }

export interface AepConfig {
  readonly settings: PlatformSettings
  readonly credentials: Credentials
}

const optionalString = (name: string) => Config.option(Config.nonEmptyString(name))

const url = (name: string, fallback: string) =>
  Config.nonEmptyString(name).pipe(
    Config.withDefault(fallback),
    Config.mapOrFail((value) => {
      try {
        const parsed = new URL(value)
        return parsed.protocol === "http:" || parsed.protocol === "https:"
          ? Either.right(value.replace(/\/+$/, ""))
          : Either.left(ConfigError.InvalidData([name], `${name} must be an http(s) URL, got ${parsed.protocol}`))
      } catch {
        return Either.left(ConfigError.InvalidData([name], `${name} must be a URL, got "${value}"`))
      }
    })
  )

const missing = (name: string, why: string) => ConfigError.MissingData([name], `${name} is not set: ${why}`)

export const config: Config.Config<AepConfig> = Config.all({
  clientId: optionalString("AEP_CLIENT_ID"),
  clientSecret: Config.option(Config.redacted("AEP_CLIENT_SECRET")),
  scopes: optionalString("AEP_SCOPES"),
  accessToken: Config.option(Config.redacted("AEP_ACCESS_TOKEN")),
  orgId: optionalString("AEP_ORG_ID"),
  apiKey: optionalString("AEP_API_KEY"),
  sandbox: Config.nonEmptyString("AEP_SANDBOX").pipe(Config.withDefault("prod")),
  platformUrl: url("AEP_PLATFORM_URL", "https://platform.adobe.io"),
  imsUrl: url("AEP_IMS_URL", "https://ims-na1.adobelogin.com")
}).pipe(
  Config.mapOrFail((c): Either.Either<AepConfig, ConfigError.ConfigError> => {
    const orgId = Option.getOrUndefined(c.orgId)
    if (orgId === undefined) return Either.left(missing("AEP_ORG_ID", "every Platform call names the org (XXXX@AdobeOrg)"))
    const clientId = Option.getOrUndefined(c.clientId)
    const apiKey = Option.getOrUndefined(c.apiKey) ?? clientId
    if (apiKey === undefined) {
      return Either.left(missing("AEP_API_KEY", "set AEP_API_KEY or AEP_CLIENT_ID (the credential's client id)"))
    }
    if (!/^[a-z0-9-]+$/.test(c.sandbox)) {
      return Either.left(ConfigError.InvalidData(["AEP_SANDBOX"], `AEP_SANDBOX must be a lower-case sandbox name, got "${c.sandbox}"`))
    }
    const settings: PlatformSettings = { platformUrl: c.platformUrl, imsUrl: c.imsUrl, orgId, apiKey, sandbox: c.sandbox }
    if (Option.isSome(c.accessToken)) {
      if (Option.isSome(c.clientSecret)) {
        return Either.left(
          ConfigError.InvalidData(
            ["AEP_ACCESS_TOKEN"],
            "AEP_ACCESS_TOKEN and AEP_CLIENT_SECRET are both set: use a static token or the OAuth credential, not both"
          )
        )
      }
      return Either.right({ settings, credentials: { _tag: "Static", token: c.accessToken.value } })
    }
    if (clientId === undefined) {
      return Either.left(missing("AEP_CLIENT_ID", "set AEP_CLIENT_ID and AEP_CLIENT_SECRET, or AEP_ACCESS_TOKEN"))
    }
    if (Option.isNone(c.clientSecret)) {
      return Either.left(missing("AEP_CLIENT_SECRET", "the OAuth server-to-server credential needs its secret"))
    }
    return Either.right({
      settings,
      credentials: {
        _tag: "OAuth",
        clientId,
        clientSecret: c.clientSecret.value,
        scopes: Option.getOrUndefined(c.scopes)
      }
    })
  })
)

/** True when any AEP credential variable is present (apps then talk to Adobe instead of the local service). */
export const isConfigured: Config.Config<boolean> = Config.all([
  optionalString("AEP_CLIENT_ID"),
  Config.option(Config.redacted("AEP_ACCESS_TOKEN"))
]).pipe(Config.map(([id, token]) => Option.isSome(id) || Option.isSome(token)))
