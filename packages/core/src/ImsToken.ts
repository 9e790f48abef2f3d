/**
 * The IMS token endpoint (`POST /ims/token/v3`, OAuth server-to-server client
 * credentials). It lives on its own host, so it is a group of its own without
 * the Platform headers.
 *
 * @since 0.1.0
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import * as E from "./ProfileError.js"
import { open } from "./Xdm.js"

export const TokenRequest = HttpApiSchema.withEncoding(
  Schema.Struct({
    grant_type: Schema.String,
    client_id: Schema.String,
    client_secret: Schema.Redacted(Schema.String),
    /** Comma-separated, no spaces, as copied from the Developer Console credential. */
    scope: Schema.optional(Schema.String)
  }).annotations({ identifier: "ImsTokenRequest" }),
  { kind: "UrlParams" }
)
export type TokenRequest = typeof TokenRequest.Type

export const TokenResponse = open(
  {
    access_token: Schema.Redacted(Schema.String),
    token_type: Schema.String,
    /** Seconds. */
    expires_in: Schema.Number
  },
  "ImsTokenResponse"
)
export type TokenResponse = typeof TokenResponse.Type

export class ImsGroup extends HttpApiGroup.make("ims").add(
  HttpApiEndpoint.post("token", "/ims/token/v3")
    .setPayload(TokenRequest)
    .addSuccess(TokenResponse)
    .addError(E.BadRequestWire)
    .addError(E.UnauthorizedWire)
    .addError(E.ServerErrorWire)
) {}
