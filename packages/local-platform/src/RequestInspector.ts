/**
 * The request inspector: the last requests the service answered, so that a
 * developer sees what their client really sent and what came back. Served at
 * `GET /rtcp/admin/requests` with `--admin` only.
 *
 * Secrets never enter it: `Authorization` and cookies are replaced, the API
 * key keeps its first four characters, and `client_secret`, `access_token`,
 * `refresh_token` and `id_token` are replaced in form and JSON bodies before
 * the bodies are truncated (so a cut can never leave half a secret).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"
import { ImsTokens } from "./ImsTokens.js"

export interface InspectedMessage {
  readonly headers: Readonly<Record<string, string>>
  /** The body as text, redacted and truncated; null when there was none or it is not text. */
  readonly body: string | null
}

export interface InspectedRequest {
  /** Increases by one per request; `since` in a query returns only later ones. */
  readonly seq: number
  /** When the request arrived (epoch milliseconds). */
  readonly at: number
  readonly method: string
  readonly path: string
  /** The query string without `?` ("" when none). */
  readonly query: string
  readonly status: number
  readonly latencyMs: number
  readonly requestId: string
  readonly sandbox: string | null
  /** The OAuth client id from the bearer token, else the `x-api-key`; null for anonymous calls. */
  readonly caller: string | null
  readonly request: InspectedMessage
  readonly response: InspectedMessage
}

export interface InspectorOptions {
  /** How many requests are kept (the oldest go first). */
  readonly size?: number | undefined
  /** Characters of a body kept. */
  readonly maxBodyChars?: number | undefined
}

export const DEFAULT_SIZE = 500
export const DEFAULT_MAX_BODY_CHARS = 4096

export class RequestInspector extends Context.Tag("@rtcp/local-platform/RequestInspector")<
  RequestInspector,
  {
    readonly record: (entry: Omit<InspectedRequest, "seq" | "caller" | "request" | "response"> & {
      readonly request: { readonly headers: Readonly<Record<string, string>>; readonly body: string | null }
      readonly response: { readonly headers: Readonly<Record<string, string>>; readonly body: string | null }
    }) => Effect.Effect<void>
    /** Newest first; at most `limit`; only `seq > since` when given. */
    readonly list: (query: { readonly limit?: number | undefined; readonly since?: number | undefined }) => Effect.Effect<ReadonlyArray<InspectedRequest>>
    readonly clear: Effect.Effect<void>
  }
>() {}

const SECRET_HEADERS = new Set(["authorization", "cookie", "set-cookie", "proxy-authorization"])
const SECRET_FIELDS = "client_secret|access_token|refresh_token|id_token|password"
const FORM_SECRET = new RegExp(`(^|&)(${SECRET_FIELDS})=[^&]*`, "gi")
const JSON_SECRET = new RegExp(`("(?:${SECRET_FIELDS})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, "gi")
export const REDACTED = "[redacted]"

/** An API key shows its first four characters, enough to tell two callers apart. */
export const redactApiKey = (key: string) => (key.length <= 4 ? REDACTED : `${key.slice(0, 4)}…${REDACTED}`)

export const redactHeaders = (headers: Readonly<Record<string, string | undefined>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    if (SECRET_HEADERS.has(lower)) {
      const scheme = /^(\w+)\s+\S/.exec(value)?.[1]
      out[lower] = scheme === undefined ? REDACTED : `${scheme} ${REDACTED}`
    } else if (lower === "x-api-key") {
      out[lower] = redactApiKey(value)
    } else {
      out[lower] = value
    }
  }
  return out
}

/** Replaces secrets in a form or JSON body (whatever its declared type: clients mislabel bodies). */
export const redactBody = (body: string): string =>
  body.replace(FORM_SECRET, (_, lead: string, name: string) => `${lead}${name}=${REDACTED}`).replace(JSON_SECRET, `$1"${REDACTED}"`)

const truncate = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max)}…[truncated: ${text.length} characters in all]`

export const layer = (options: InspectorOptions = {}) =>
  Layer.effect(
    RequestInspector,
    Effect.gen(function* () {
      const tokens = yield* ImsTokens
      const size = Math.max(1, options.size ?? DEFAULT_SIZE)
      const maxBody = Math.max(0, options.maxBodyChars ?? DEFAULT_MAX_BODY_CHARS)
      // A ring of the last `size` entries; `seq` never repeats.
      const ring: Array<InspectedRequest> = []
      let seq = 0

      const callerOf = (headers: Readonly<Record<string, string>>) =>
        Effect.gen(function* () {
          const bearer = /^Bearer\s+(\S+)$/i.exec((headers["authorization"] ?? "").trim())?.[1]
          if (bearer !== undefined) {
            const claims = yield* tokens.verify(bearer)
            if (Option.isSome(claims)) return claims.value.sub
          }
          return headers["x-api-key"] || null
        })

      const message = (headers: Readonly<Record<string, string>>, body: string | null): InspectedMessage => ({
        headers: redactHeaders(headers),
        body: body === null ? null : truncate(redactBody(body), maxBody)
      })

      return RequestInspector.of({
        record: (entry) =>
          Effect.gen(function* () {
            const caller = yield* callerOf(entry.request.headers)
            seq++
            ring.push({
              ...entry,
              seq,
              caller,
              request: message(entry.request.headers, entry.request.body),
              response: message(entry.response.headers, entry.response.body)
            })
            if (ring.length > size) ring.splice(0, ring.length - size)
          }),
        list: (query) =>
          Effect.sync(() => {
            const since = query.since ?? 0
            const limit = Math.max(0, Math.min(query.limit ?? size, size))
            const out: Array<InspectedRequest> = []
            for (let i = ring.length - 1; i >= 0 && out.length < limit; i--) {
              if (ring[i]!.seq > since) out.push(ring[i]!)
            }
            return out
          }),
        clear: Effect.sync(() => void ring.splice(0))
      })
    })
  )
