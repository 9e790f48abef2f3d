/**
 * `/data/core/ups/config/destinations`: edge projection destinations, with
 * AEP's envelopes (list items carry `_links.self`, a single item a top-level
 * `self`) and its vendor media types.
 *
 * Request bodies: POST and PUT are served with `handleRaw` because the
 * framework only parses bodies whose Content-Type contains
 * `application/json`, and AEP's is
 * `application/vnd.adobe.platform.projectionDestination+json; version=1`.
 * `readVendorJson` checks the type and parses the body itself:
 *
 * - accepted: the endpoint's vendor type, with `; version=1` or without it
 *   (the guide's PUT example omits it), in any letter case; and plain
 *   `application/json` (clients that do not know the vendor type; AEP's
 *   documents never say it is refused, and our rule is to accept every
 *   plausible input);
 * - missing Content-Type: 400 with the gateway's documented body
 *   ("A valid content-type must be specified");
 * - anything else (another vendor type, `version=2`, `text/plain`, a list
 *   type…): 415 with a problem+json body naming the expected type.
 */
import { HttpApiBuilder, type HttpServerRequest } from "@effect/platform"
import { EdgeProjection, PlatformGateway, ProfileError, ProfileApi } from "@rtcp/core"
import { EdgeProjections, StoreError } from "@rtcp/profile-store"
import { Effect } from "effect"
import { destinationDraftOf } from "./edgeProjectionWire.js"
import { badRequest } from "./errors.js"
import { aep, aepService } from "./storeErrors.js"

export const CONFIG_BASE = "/data/core/ups/config"

const link = (href: string) => ({ href, templated: false })

export const destinationHref = (id: string) => `${CONFIG_BASE}/destinations/${id}`

const fields = (d: EdgeProjections.Destination) => ({
  id: d.id,
  type: d.type,
  ttl: d.ttl,
  dataCenters: d.dataCenters,
  replicationPolicy: d.replicationPolicy,
  version: d.version
})

/** A single destination: top-level `self`, as AEP answers POST, GET and PUT. */
export const destinationItem = (d: EdgeProjections.Destination): EdgeProjection.Destination => ({
  self: link(destinationHref(d.id)),
  ...fields(d)
})

/** A destination inside the list: `_links.self`. */
const destinationListItem = (d: EdgeProjections.Destination): EdgeProjection.Destination => ({
  _links: { self: link(destinationHref(d.id)) },
  ...fields(d)
})

const unsupported = (given: string, expected: string) => {
  const detail = `Content-Type "${given}" is not supported here: send ${expected} (or application/json)`
  return new ProfileError.BadRequest({
    status: 415,
    message: detail,
    body: { type: "https://ns.adobe.com/aep/errors/RTCP-415", title: "Unsupported media type", status: 415, detail }
  })
}

/** Why `contentType` is not acceptable for `expected` (a vendor type with `; version=1`), or undefined. */
export const checkContentType = (
  contentType: string | undefined,
  expected: string
): ProfileError.BadRequest | undefined => {
  if (contentType === undefined || contentType.trim() === "") {
    return new ProfileError.BadRequest({
      status: 400,
      message: "A valid content-type must be specified",
      body: { type: "/placeholder/type/uri", status: 400, title: "BadRequestError", detail: "A valid content-type must be specified" }
    })
  }
  const [type = "", ...params] = contentType.split(";").map((part) => part.trim())
  const mediaType = type.toLowerCase()
  if (mediaType === "application/json") return undefined
  const expectedType = expected.split(";")[0]!.trim().toLowerCase()
  if (mediaType !== expectedType) return unsupported(contentType, expected)
  for (const param of params) {
    const [key = "", value = ""] = param.split("=").map((s) => s.trim())
    if (key.toLowerCase() === "version" && value.replace(/^"|"$/g, "") !== "1") return unsupported(contentType, expected)
  }
  return undefined
}

/** The JSON body of a POST/PUT that must carry the vendor type `expected`. */
export const readVendorJson = (request: HttpServerRequest.HttpServerRequest, expected: string) =>
  Effect.gen(function* () {
    const problem = checkContentType(request.headers["content-type"], expected)
    if (problem !== undefined) return yield* problem
    const text = yield* Effect.orElseSucceed(request.text, () => "")
    if (text.trim() === "") return yield* badRequest("the request body is empty: send a JSON object")
    try {
      return JSON.parse(text) as unknown
    } catch (error) {
      return yield* badRequest(`the body is not valid JSON: ${(error as Error).message}`)
    }
  })

/** A body the store cannot take answers as the store's own invalid input does. */
export const readDraft = <A>(result: A | string, title: string) =>
  aep(typeof result === "string" ? Effect.fail(StoreError.invalid(result, title)) : Effect.succeed(result))

const sandboxName = Effect.map(PlatformGateway.PlatformContext, (context) => context.sandboxName)

export const DestinationsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "destinations", (handlers) =>
  Effect.gen(function* () {
    const store = aepService(yield* EdgeProjections.EdgeProjections)
    return handlers
      .handle("list", () =>
        Effect.gen(function* () {
          const destinations = yield* store.listDestinations(yield* sandboxName)
          return {
            _links: { self: link(`${CONFIG_BASE}/destinations`) },
            _embedded: { projectionDestinations: destinations.map(destinationListItem) }
          }
        })
      )
      .handleRaw("create", ({ request }) =>
        Effect.gen(function* () {
          const body = yield* readVendorJson(request, EdgeProjection.MediaType.destination)
          const draft = yield* readDraft(destinationDraftOf(body), "Invalid destination")
          return destinationItem(yield* store.createDestination(yield* sandboxName, draft))
        })
      )
      .handle("get", ({ path }) =>
        Effect.gen(function* () {
          return destinationItem(yield* store.getDestination(yield* sandboxName, path.destinationId))
        })
      )
      .handleRaw("replace", ({ path, request }) =>
        Effect.gen(function* () {
          const body = yield* readVendorJson(request, EdgeProjection.MediaType.destination)
          const sandbox = yield* sandboxName
          // An unknown destination answers 404 whatever the body says.
          const draft = yield* readDraft(destinationDraftOf(body), "Invalid destination").pipe(
            Effect.tapError(() => store.getDestination(sandbox, path.destinationId))
          )
          return destinationItem(yield* store.replaceDestination(sandbox, path.destinationId, draft))
        })
      )
      .handle("delete", ({ path }) =>
        Effect.gen(function* () {
          yield* store.removeDestination(yield* sandboxName, path.destinationId)
        })
      )
  })
)
