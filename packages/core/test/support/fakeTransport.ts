/**
 * A scripted `HttpClient` for tests: it answers every request from a
 * `Responder` (a queue of replies, a routing table or any function) and
 * records what was sent (method, url, headers, body text).
 */
import { HttpClient, HttpClientError, type HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { AccessToken, Platform, ProfileClient } from "@rtcp/core"
import { Effect, Layer, Redacted } from "effect"

export interface RecordedRequest {
  readonly method: string
  /** The full URL, query included. */
  readonly url: string
  readonly host: string
  readonly path: string
  readonly query: URLSearchParams
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
  /** The body parsed as JSON, when it is JSON. */
  readonly json: unknown
  /** The request object itself (to check how it prints). */
  readonly request: HttpClientRequest.HttpClientRequest
}

export type Reply =
  | {
      readonly _tag: "Response"
      readonly status: number
      readonly body?: string | undefined
      readonly headers?: Readonly<Record<string, string>> | undefined
    }
  | { readonly _tag: "TransportFailure"; readonly message: string }

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  _tag: "Response",
  status,
  body: JSON.stringify(body),
  headers: { "content-type": "application/json", ...headers }
})

export const text = (status: number, body: string, headers: Record<string, string> = {}): Reply => ({
  _tag: "Response",
  status,
  body,
  headers: { "content-type": "text/plain", ...headers }
})

export const empty = (status: number, headers: Record<string, string> = {}): Reply => ({
  _tag: "Response",
  status,
  headers
})

/** No answer at all (connection refused, reset…). */
export const transportFailure = (message = "connect ECONNREFUSED 127.0.0.1:443"): Reply => ({
  _tag: "TransportFailure",
  message
})

/** `index` counts the requests this responder has seen, from 0. */
export type Responder = (request: RecordedRequest, index: number) => Reply | Effect.Effect<Reply>

export interface FakeTransport {
  readonly client: HttpClient.HttpClient
  readonly layer: Layer.Layer<HttpClient.HttpClient>
  /** Every request, in order (a live array). */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** Requests to the Platform host only. */
  readonly platformRequests: () => ReadonlyArray<RecordedRequest>
  /** Requests to the IMS host only. */
  readonly imsRequests: () => ReadonlyArray<RecordedRequest>
}

const decoder = new TextDecoder()

const bodyText = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
  const body = request.body
  switch (body._tag) {
    case "Uint8Array":
      return decoder.decode(body.body)
    case "Raw":
      return typeof body.body === "string" ? body.body : String(body.body)
    default:
      return undefined
  }
}

const parseJson = (text: string | undefined): unknown => {
  if (text === undefined || text === "") return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

export const fakeTransport = (respond: Responder): FakeTransport => {
  const requests: Array<RecordedRequest> = []
  const client = HttpClient.make((request, url) =>
    Effect.gen(function* () {
      const body = bodyText(request)
      const recorded: RecordedRequest = {
        method: request.method,
        url: url.toString(),
        host: url.host,
        path: url.pathname,
        query: new URLSearchParams(url.search),
        headers: { ...request.headers },
        body,
        json: parseJson(body),
        request
      }
      const index = requests.length
      requests.push(recorded)
      const answer = respond(recorded, index)
      const reply = Effect.isEffect(answer) ? yield* answer : answer
      if (reply._tag === "TransportFailure") {
        return yield* Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error(reply.message) })
        )
      }
      const nullBody = reply.status === 204 || reply.status === 205 || reply.status === 304
      return HttpClientResponse.fromWeb(
        request,
        new Response(nullBody ? null : (reply.body ?? null), { status: reply.status, headers: reply.headers ?? {} })
      )
    })
  )
  return {
    client,
    layer: Layer.succeed(HttpClient.HttpClient, client),
    requests,
    platformRequests: () => requests.filter((request) => request.host === "aep.test"),
    imsRequests: () => requests.filter((request) => request.host === "ims.test")
  }
}

/** The n-th request gets the n-th reply; one request too many is a defect (the test is wrong). */
export const queue =
  (...replies: ReadonlyArray<Reply>): Responder =>
  (request, index) =>
    index < replies.length
      ? replies[index]!
      : Effect.dieMessage(`fake transport: no reply scripted for request #${index + 1} ${request.method} ${request.url}`)

/** The same reply, forever. */
export const always =
  (reply: Reply): Responder =>
  () =>
    reply

/** IMS and Platform requests answered by separate responders, each with its own count. */
export const byHost = (routes: { readonly ims?: Responder; readonly platform: Responder }): Responder => {
  let ims = 0
  let platform = 0
  return (request) => {
    if (request.host === "ims.test") {
      if (routes.ims === undefined) return Effect.dieMessage(`fake transport: unexpected IMS request ${request.url}`)
      return routes.ims(request, ims++)
    }
    return routes.platform(request, platform++)
  }
}

// ---------------------------------------------------------------------------
// ProfileClient over a fake transport
// ---------------------------------------------------------------------------

export const settings: Platform.PlatformSettings = {
  platformUrl: "http://aep.test",
  imsUrl: "http://ims.test",
  orgId: "ORG@AdobeOrg",
  apiKey: "key",
  sandbox: "prod"
}

export const clientSecret = "s3cr3t-client-value"

export const oauthOptions: AccessToken.OAuthOptions = {
  clientId: "client-id-123",
  clientSecret: Redacted.make(clientSecret),
  scopes: "openid,AdobeID,read_organizations",
  imsUrl: settings.imsUrl
}

/** A ProfileClient with a static token (`tok` unless told). */
export const staticLayer = (transport: FakeTransport, token = "tok") =>
  ProfileClient.layer.pipe(
    Layer.provideMerge(Layer.merge(Platform.layer(settings), AccessToken.layerStatic(Redacted.make(token)))),
    Layer.provideMerge(transport.layer)
  )

/** A ProfileClient with OAuth server-to-server against the fake IMS host. */
export const oauthLayer = (transport: FakeTransport, options: Partial<AccessToken.OAuthOptions> = {}) =>
  ProfileClient.layer.pipe(
    Layer.provideMerge(
      Layer.merge(Platform.layer(settings), AccessToken.layerOAuth({ ...oauthOptions, ...options }))
    ),
    Layer.provideMerge(transport.layer)
  )

/** Runs `f` with a static-token ProfileClient over `transport`. */
export const withClient = <A, E>(
  transport: FakeTransport,
  f: (client: ProfileClient.ProfileClientService) => Effect.Effect<A, E>
): Effect.Effect<A, E> => Effect.flatMap(ProfileClient.ProfileClient, f).pipe(Effect.provide(staticLayer(transport)))

/** An IMS token answer. */
export const imsToken = (token: string, expiresIn = 86399): Reply =>
  json(200, { access_token: token, token_type: "bearer", expires_in: expiresIn })
