import { describe, expect, layer } from "@effect/vitest"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect } from "effect"
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
