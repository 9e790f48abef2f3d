import { describe, expect, it, layer } from "@effect/vitest"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, Effect, Option } from "effect"
import { ImsTokens } from "../src/index.js"
import { service } from "./support/harness.js"

const form = (body: Record<string, string>) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.post("/ims/token/v3").pipe(HttpClientRequest.bodyUrlParams(body))
    )
    return { status: response.status, body: (yield* response.json) as any }
  }).pipe(Effect.scoped)

const platformWith = (token: string) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.get("/data/core/ups/config/mergePolicies").pipe(
        HttpClientRequest.setHeaders({
          authorization: `Bearer ${token}`,
          "x-api-key": "rtcp-local",
          "x-gw-ims-org-id": "RTCPLOCAL@AdobeOrg",
          "x-sandbox-name": "prod"
        })
      )
    )
    return { status: response.status, body: (yield* response.json) as any }
  }).pipe(Effect.scoped)

const credential = { grant_type: "client_credentials", client_id: "rtcp-local", client_secret: "rtcp-local-secret" }

describe("the local IMS", () => {
  layer(service())((it) => {
    it.effect("issues tokens for the demo client and refuses wrong credentials", () =>
      Effect.gen(function* () {
        const ok = yield* form({ ...credential, scope: "openid,AdobeID" })
        expect(ok.status).toBe(200)
        expect(ok.body).toMatchObject({ token_type: "bearer", expires_in: 86_400 })
        expect((yield* platformWith(ok.body.access_token)).status).toBe(200)
        const wrongSecret = yield* form({ ...credential, client_secret: "guess" })
        expect(wrongSecret).toMatchObject({ status: 401, body: { error: "invalid_client" } })
        const wrongGrant = yield* form({ ...credential, grant_type: "password" })
        expect(wrongGrant).toMatchObject({ status: 400, body: { error: "unsupported_grant_type" } })
        // A token altered by one character is a forgery.
        const forged = ok.body.access_token.slice(0, -1) + (ok.body.access_token.endsWith("A") ? "B" : "A")
        expect(yield* platformWith(forged)).toMatchObject({ status: 401, body: { error_code: "401013" } })
      })
    )
  })

  layer(service({ tokenTtlSeconds: 0 }))((it) => {
    it.effect("an expired token gets 401", () =>
      Effect.gen(function* () {
        const issued = yield* form(credential)
        expect(issued.body.expires_in).toBe(0)
        expect(yield* platformWith(issued.body.access_token)).toMatchObject({ status: 401, body: { error_code: "401013" } })
      })
    )
  })
})

describe("IMS tokens checked again", () => {
  const tokens = ImsTokens.layer({ clients: [ImsTokens.demoClient], tokenTtlSeconds: 60, secretFile: undefined })

  // A token's signature is checked once and kept: what was kept must not
  // outlive the token's expiry or a rotated secret, nor let a forgery in.
  it.effect("a token verified once still expires, dies with a rotated secret, and a forgery of it is refused", () =>
    Effect.gen(function* () {
      const ims = yield* ImsTokens.ImsTokens
      const { token } = yield* ims.issue(ImsTokens.demoClient)
      // it.effect's clock is the TestClock, which issued the token.
      const now = yield* Clock.currentTimeMillis
      const claims = Option.getOrThrow(ims.verifyAt(token, now))
      expect(claims.sub).toBe(ImsTokens.demoClient.clientId)
      expect(Option.isSome(ims.verifyAt(token, now + 1_000))).toBe(true)
      expect(Option.isNone(ims.verifyAt(token, claims.exp))).toBe(true)
      expect(Option.isNone(ims.verifyAt(token, claims.exp + 1))).toBe(true)

      const [payload, signature] = token.split(".")
      const later = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 3_600_000 })).toString("base64url")
      expect(Option.isNone(ims.verifyAt(`${later}.${signature}`, now))).toBe(true)
      expect(Option.isNone(ims.verifyAt(`${payload}.${signature}x`, now))).toBe(true)

      yield* ims.rotate
      expect(Option.isNone(ims.verifyAt(token, now))).toBe(true)
      const fresh = yield* ims.issue(ImsTokens.demoClient)
      expect(Option.isSome(ims.verifyAt(fresh.token, now))).toBe(true)
    }).pipe(Effect.provide(tokens))
  )
})
