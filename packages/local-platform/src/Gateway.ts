/**
 * The Platform gateway's header checks, answered as AEP answers them: the
 * legacy `{error_code, message}` body for token, API key and org errors, and
 * problem+json for a missing or unknown sandbox.
 *
 * @since 0.1.0
 */
import { HttpServerRequest } from "@effect/platform"
import { PlatformGateway, ProfileError } from "@rtcp/core"
import { Sandboxes } from "@rtcp/profile-store"
import { Effect, Layer, Option } from "effect"
import { randomUUID } from "node:crypto"
import { ImsTokens } from "./ImsTokens.js"

const gateway = (status: 400 | 401 | 403, code: string, message: string) => {
  const props = { status, message, body: { error_code: code, message } }
  return status === 400
    ? new ProfileError.BadRequest(props)
    : status === 401
      ? new ProfileError.Unauthorized(props)
      : new ProfileError.Forbidden(props)
}

/** Checks the headers of a Platform request and resolves who and where it is. */
export const check = (headers: Readonly<Record<string, string | undefined>>, options: { readonly sandbox?: boolean } = {}) =>
  Effect.gen(function* () {
    const tokens = yield* ImsTokens
    const sandboxes = yield* Sandboxes.Sandboxes
    const authorization = headers["authorization"]
    if (authorization === undefined || authorization.trim() === "") return yield* gateway(401, "403010", "Oauth token is missing.")
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization.trim())?.[1]
    const claims = bearer === undefined ? Option.none() : yield* tokens.verify(bearer)
    if (Option.isNone(claims)) return yield* gateway(401, "401013", "Oauth token is not valid")
    const apiKey = headers["x-api-key"]
    if (apiKey === undefined || apiKey === "") return yield* gateway(403, "403000", "Api Key is required")
    if (Option.isNone(tokens.client(apiKey))) return yield* gateway(403, "403003", "Api Key is invalid")
    const org = headers["x-gw-ims-org-id"]
    if (org === undefined || org === "") return yield* gateway(400, "400003", "Missing header")
    if (org !== claims.value.org) return yield* gateway(403, "403025", "Profile is not valid")
    const sandboxName = headers["x-sandbox-name"] ?? ""
    const requestId = headers["x-request-id"] || randomUUID()
    if (options.sandbox === false) return { imsOrgId: org, sandboxName, apiKey, requestId, subject: claims.value.sub }
    if (sandboxName === "") {
      return yield* new ProfileError.BadRequest({
        status: 400,
        message: "x-sandbox-name is required",
        body: { type: "https://ns.adobe.com/aep/errors/RTCP-400", title: "Missing sandbox", status: 400, detail: "The x-sandbox-name header is required (e.g. prod)", requestId }
      })
    }
    if (Option.isNone(yield* sandboxes.get(sandboxName))) {
      return yield* new ProfileError.Forbidden({
        status: 403,
        message: `sandbox ${sandboxName} does not exist`,
        body: {
          type: "https://ns.adobe.com/aep/errors/RTCP-403",
          title: "Unknown sandbox",
          status: 403,
          detail: `Sandbox "${sandboxName}" does not exist or is not accessible to this org`,
          requestId
        }
      })
    }
    return { imsOrgId: org, sandboxName, apiKey, requestId, subject: claims.value.sub }
  })

export const layer = Layer.effect(
  PlatformGateway.PlatformGateway,
  Effect.gen(function* () {
    const tokens = yield* ImsTokens
    const sandboxes = yield* Sandboxes.Sandboxes
    return Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      return yield* check(request.headers).pipe(
        Effect.provideService(ImsTokens, tokens),
        Effect.provideService(Sandboxes.Sandboxes, sandboxes)
      )
    })
  })
)
