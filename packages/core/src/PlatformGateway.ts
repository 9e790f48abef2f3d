/**
 * What every Platform request carries: the org, the sandbox, the API key and
 * a request id. The contract declares it as middleware so that a server built
 * from the contract (the local profile service) must check the headers, and
 * its handlers receive the resolved context instead of reading headers.
 *
 * @since 0.1.0
 */
import { HttpApiMiddleware } from "@effect/platform"
import { Context, Schema } from "effect"
import { BadRequestWire, ForbiddenWire, UnauthorizedWire } from "./ProfileError.js"

export class PlatformContext extends Context.Tag("@rtcp/core/PlatformContext")<
  PlatformContext,
  {
    readonly imsOrgId: string
    readonly sandboxName: string
    readonly apiKey: string
    readonly requestId: string
    /** Subject of the access token (the technical account or client id). */
    readonly subject: string
  }
>() {}

export class PlatformGateway extends HttpApiMiddleware.Tag<PlatformGateway>()("@rtcp/core/PlatformGateway", {
  failure: Schema.Union(BadRequestWire, UnauthorizedWire, ForbiddenWire),
  provides: PlatformContext
}) {}
