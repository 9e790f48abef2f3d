import { describe, expect, it } from "@effect/vitest"
import { AepConfig } from "@rtcp/core"
import { ConfigError, ConfigProvider, Effect, Redacted } from "effect"

const load = (variables: Record<string, string>) =>
  Effect.withConfigProvider(AepConfig.config, ConfigProvider.fromMap(new Map(Object.entries(variables))))

const loadError = (variables: Record<string, string>) => Effect.flip(load(variables))

const oauth = {
  AEP_CLIENT_ID: "client-id-123",
  AEP_CLIENT_SECRET: "s3cr3t-client-value",
  AEP_ORG_ID: "1BD6382559DF0C130A49422D@AdobeOrg"
}

describe("AepConfig.config", () => {
  it.effect("OAuth credentials, with every default", () =>
    Effect.gen(function* () {
      const config = yield* load({ ...oauth, AEP_SCOPES: "openid,AdobeID,read_organizations" })
      expect(config.settings).toEqual({
        platformUrl: "https://platform.adobe.io",
        imsUrl: "https://ims-na1.adobelogin.com",
        orgId: "1BD6382559DF0C130A49422D@AdobeOrg",
        apiKey: "client-id-123",
        sandbox: "prod"
      })
      expect(config.credentials._tag).toBe("OAuth")
      if (config.credentials._tag !== "OAuth") return
      expect(config.credentials.clientId).toBe("client-id-123")
      expect(Redacted.isRedacted(config.credentials.clientSecret)).toBe(true)
      expect(Redacted.value(config.credentials.clientSecret)).toBe("s3cr3t-client-value")
      expect(config.credentials.scopes).toBe("openid,AdobeID,read_organizations")
      expect(JSON.stringify(config)).not.toContain("s3cr3t-client-value")
    })
  )

  it.effect("scopes are optional", () =>
    Effect.gen(function* () {
      const config = yield* load(oauth)
      expect(config.credentials._tag === "OAuth" && config.credentials.scopes).toBeUndefined()
    })
  )

  it.effect("a static token", () =>
    Effect.gen(function* () {
      const config = yield* load({ AEP_ACCESS_TOKEN: "eyJ-token", AEP_ORG_ID: "ORG@AdobeOrg", AEP_API_KEY: "key" })
      expect(config.credentials._tag).toBe("Static")
      if (config.credentials._tag !== "Static") return
      expect(Redacted.value(config.credentials.token)).toBe("eyJ-token")
      expect(String(config.credentials.token)).toBe("<redacted>")
      expect(config.settings.apiKey).toBe("key")
    })
  )

  it.effect("a static token with AEP_CLIENT_ID (no secret) takes the client id as API key", () =>
    Effect.gen(function* () {
      const config = yield* load({ AEP_ACCESS_TOKEN: "eyJ-token", AEP_ORG_ID: "ORG@AdobeOrg", AEP_CLIENT_ID: "cid" })
      expect(config.credentials._tag).toBe("Static")
      expect(config.settings.apiKey).toBe("cid")
    })
  )

  it.effect("AEP_API_KEY defaults to AEP_CLIENT_ID and can be set apart", () =>
    Effect.gen(function* () {
      expect((yield* load(oauth)).settings.apiKey).toBe("client-id-123")
      expect((yield* load({ ...oauth, AEP_API_KEY: "other-key" })).settings.apiKey).toBe("other-key")
    })
  )

  it.effect("AEP_SANDBOX, AEP_PLATFORM_URL and AEP_IMS_URL override the defaults (trailing slashes dropped)", () =>
    Effect.gen(function* () {
      const config = yield* load({
        ...oauth,
        AEP_SANDBOX: "dev-1",
        AEP_PLATFORM_URL: "http://localhost:8080/",
        AEP_IMS_URL: "https://ims-na1-stg1.adobelogin.com//"
      })
      expect(config.settings.sandbox).toBe("dev-1")
      expect(config.settings.platformUrl).toBe("http://localhost:8080")
      expect(config.settings.imsUrl).toBe("https://ims-na1-stg1.adobelogin.com")
    })
  )

  describe("errors name the variable", () => {
    const expectNames = (error: ConfigError.ConfigError, name: string) => {
      expect(ConfigError.isConfigError(error)).toBe(true)
      expect(String(error)).toContain(name)
    }

    it.effect("missing AEP_ORG_ID", () =>
      Effect.gen(function* () {
        const { AEP_ORG_ID: _omitted, ...rest } = oauth
        const error = yield* loadError(rest)
        expectNames(error, "AEP_ORG_ID")
        expect(ConfigError.isMissingDataOnly(error)).toBe(true)
      })
    )

    it.effect("missing AEP_CLIENT_SECRET", () =>
      Effect.gen(function* () {
        const { AEP_CLIENT_SECRET: _omitted, ...rest } = oauth
        const error = yield* loadError(rest)
        expectNames(error, "AEP_CLIENT_SECRET")
      })
    )

    it.effect("no credential at all names AEP_CLIENT_ID (or the API key it stands for)", () =>
      Effect.gen(function* () {
        const error = yield* loadError({ AEP_ORG_ID: "ORG@AdobeOrg" })
        expect(String(error)).toMatch(/AEP_CLIENT_ID|AEP_API_KEY/)
        const withKey = yield* loadError({ AEP_ORG_ID: "ORG@AdobeOrg", AEP_API_KEY: "key" })
        expectNames(withKey, "AEP_CLIENT_ID")
        expect(String(withKey)).toContain("AEP_ACCESS_TOKEN")
      })
    )

    it.effect("both AEP_ACCESS_TOKEN and AEP_CLIENT_SECRET", () =>
      Effect.gen(function* () {
        const error = yield* loadError({ ...oauth, AEP_ACCESS_TOKEN: "eyJ-token" })
        expectNames(error, "AEP_ACCESS_TOKEN")
        expect(String(error)).toContain("AEP_CLIENT_SECRET")
        expect(String(error)).not.toContain("eyJ-token")
        expect(String(error)).not.toContain("s3cr3t-client-value")
      })
    )

    it.effect("an invalid URL", () =>
      Effect.gen(function* () {
        expectNames(yield* loadError({ ...oauth, AEP_PLATFORM_URL: "not a url" }), "AEP_PLATFORM_URL")
        expectNames(yield* loadError({ ...oauth, AEP_IMS_URL: "ftp://ims.example.com" }), "AEP_IMS_URL")
      })
    )

    it.effect("an invalid sandbox name", () =>
      Effect.gen(function* () {
        expectNames(yield* loadError({ ...oauth, AEP_SANDBOX: "My Sandbox" }), "AEP_SANDBOX")
      })
    )
  })
})

describe("AepConfig.isConfigured", () => {
  it.effect("true with a client id or a token, false with neither", () =>
    Effect.gen(function* () {
      const check = (variables: Record<string, string>) =>
        Effect.withConfigProvider(AepConfig.isConfigured, ConfigProvider.fromMap(new Map(Object.entries(variables))))
      expect(yield* check({ AEP_CLIENT_ID: "cid" })).toBe(true)
      expect(yield* check({ AEP_ACCESS_TOKEN: "tok" })).toBe(true)
      expect(yield* check({ AEP_ORG_ID: "ORG@AdobeOrg" })).toBe(false)
    })
  )
})
