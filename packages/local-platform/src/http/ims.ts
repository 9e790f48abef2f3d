/** `POST /ims/token/v3`: client credentials against the locally configured clients. */
import { HttpApiBuilder } from "@effect/platform"
import { ProfileApi, ProfileError } from "@rtcp/core"
import { Effect, Option, Redacted } from "effect"
import { timingSafeEqual } from "node:crypto"
import { ImsTokens } from "../ImsTokens.js"

const same = (a: string, b: string) => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export const ImsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "ims", (handlers) =>
  Effect.gen(function* () {
    const tokens = yield* ImsTokens
    return handlers.handle("token", ({ payload }) =>
      Effect.gen(function* () {
        if (payload.grant_type !== "client_credentials") {
          return yield* new ProfileError.BadRequest({
            status: 400,
            message: "unsupported_grant_type",
            body: { error: "unsupported_grant_type", error_description: "only grant_type=client_credentials is supported" }
          })
        }
        const client = tokens.client(payload.client_id)
        if (Option.isNone(client) || !same(Redacted.value(client.value.clientSecret), Redacted.value(payload.client_secret))) {
          return yield* new ProfileError.Unauthorized({
            status: 401,
            message: "invalid_client",
            body: { error: "invalid_client", error_description: "invalid client_id or client_secret" }
          })
        }
        const issued = yield* tokens.issue(client.value)
        return { access_token: Redacted.make(issued.token), token_type: "bearer", expires_in: issued.expiresIn }
      })
    )
  })
)
