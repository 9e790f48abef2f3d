/**
 * The AEP-compatible surface: `/data/core/ups/...` and `/data/core/ca/...`
 * with Adobe's paths, parameters, bodies and statuses, so an AEP client
 * only changes its base URL.
 *
 * A request goes upstream through the core's auth and retry layers:
 * - the caller's credentials (`Authorization`, `x-api-key`), org header,
 *   cookies, hop-by-hop and every other header not on the allow list stay
 *   here; the proxy sets the token, API key, org, sandbox and request id;
 * - the sandbox is the caller's `x-sandbox-name` when its key allows it;
 * - bodies go both ways byte for byte (unknown fields survive);
 * - a single-profile GET by namespace goes through the batching lookup and
 *   its cache instead (same answer shape);
 * - a write (anything but a read) invalidates the lookup cache when it
 *   has been answered.
 */
import type { Headers } from "@effect/platform"
import type { Entity } from "@rtcp/core"
import { Hono } from "hono"
import type { ProxyEnv } from "../env.js"
import { signalOf } from "../env.js"
import { readBody } from "../body.js"
import { cacheStatus } from "../cache.js"
import { ProxyError } from "../errors.js"
import { scrubber } from "../scrub.js"
import { isRead, requireAccess, resolveSandbox } from "../scope.js"
import { endpointOf, type Upstream, type UpstreamTrace } from "../upstream.js"

/** Caller headers that go upstream; everything else is dropped. */
const FORWARDED_HEADERS = [
  "accept",
  "accept-language",
  "content-type",
  "if-match",
  "if-none-match",
  "prefer",
  "x-profile-instance-id",
  "x-model-name"
] as const

/** Upstream headers that stay here: hop-by-hop, framing, cookies, auth, and the upstream's request id (sent as x-upstream-request-id). */
const DROPPED_RESPONSE_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "set-cookie",
  "authorization",
  "www-authenticate",
  "x-request-id",
  "date",
  "server"
])

/** Characters a path segment may carry (RFC 3986 pchar), percent-escapes included. */
const SAFE_PATH = /^\/data\/core\/(?:ups|ca)(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*$/

/**
 * The path to send upstream, or a 400. The URL parser has already removed
 * `.`/`..` segments (`%2e` included); what is left that could change the
 * path upstream (an escaped `/`, `\`, `.` or NUL) is refused.
 */
export const upstreamPath = (url: URL): string => {
  const path = url.pathname
  if (!SAFE_PATH.test(path) || /%(?:2f|5c|2e|00)/i.test(path) || path.split("/").some((s) => s === "." || s === "..")) {
    throw new ProxyError(400, "bad-path", "Invalid path", "the path contains characters or segments the proxy does not forward")
  }
  return path
}

const PROFILE_PARAMS = new Set(["schema.name", "entityid", "entityidns", "fields", "mergepolicyid", "withca"])

/** A GET of one profile by namespace, in a form the batching lookup answers identically; else undefined. */
export const singleProfileLookup = (method: string, path: string, params: URLSearchParams) => {
  if (method !== "GET" || !/^\/data\/core\/ups\/access\/entities\/?$/.test(path)) return undefined
  const seen = new Map<string, string>()
  for (const [name, value] of params) {
    const key = name.toLowerCase()
    if (!PROFILE_PARAMS.has(key) || seen.has(key)) return undefined
    seen.set(key, value)
  }
  const entityId = seen.get("entityid")
  const namespace = seen.get("entityidns")
  const withCA = seen.get("withca")
  if (seen.get("schema.name") !== "_xdm.context.profile" || !entityId || !namespace) return undefined
  if (withCA !== undefined && withCA !== "true" && withCA !== "false") return undefined
  const fields = seen.get("fields")?.split(",").filter((f) => f !== "")
  const mergePolicyId = seen.get("mergepolicyid")
  return {
    identity: { id: entityId, namespace },
    ...(fields && fields.length > 0 ? { fields } : {}),
    ...(mergePolicyId ? { mergePolicyId } : {}),
    ...(withCA === undefined ? {} : { withCA: withCA === "true" })
  }
}

const responseHeaders = (headers: Headers.Headers, upstreamRequestId: string | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (!DROPPED_RESPONSE_HEADERS.has(name.toLowerCase())) out[name] = value
  }
  if (upstreamRequestId !== undefined) out["x-upstream-request-id"] = upstreamRequestId
  return out
}

/**
 * A cached profile is the same object for every caller until it expires, so
 * its answer is serialised once: JSON.stringify was a twentieth of a cache
 * hit's CPU.
 */
const answers = new WeakMap<Entity.ProfileEntity, string>()
export const answerText = (profile: Entity.ProfileEntity): string => {
  let text = answers.get(profile)
  if (text === undefined) {
    text = scrubber.text(JSON.stringify({ [profile.entityId]: profile }))
    answers.set(profile, text)
  }
  return text
}

export interface AepRoutesOptions {
  readonly upstream: Upstream
}

export const aepRoutes = ({ upstream }: AepRoutesOptions) => {
  const app = new Hono<ProxyEnv>()

  const handler = async (c: import("hono").Context<ProxyEnv>) => {
    const url = new URL(c.req.url)
    const path = upstreamPath(url)
    requireAccess(c, path)
    const sandbox = resolveSandbox(c, upstream.defaultSandbox)
    c.set("route", `${c.req.method} ${endpointOf(path)}`)
    const trace: UpstreamTrace = { requestIds: [] }
    const context = { sandbox, signal: signalOf(c), trace, caller: c.get("caller")?.name, span: c.get("span") }
    const audit = c.get("audit")

    const lookup = singleProfileLookup(c.req.method, path, url.searchParams)
    if (lookup !== undefined) {
      const answer = await upstream.lookup(lookup, context)
      audit.cache = answer.result
      c.header("content-type", "application/json")
      return c.body(answerText(answer.profile), 200, { "cache-status": cacheStatus(answer) })
    }

    const method = c.req.method
    const headers: Record<string, string> = {}
    for (const name of FORWARDED_HEADERS) {
      const value = c.req.header(name)
      if (value !== undefined) headers[name] = value
    }
    const raw = method === "GET" || method === "HEAD" ? undefined : await readBody(c)
    try {
      const answer = await upstream.forward(
        { method, pathAndQuery: path + url.search, headers, body: raw === undefined || raw.byteLength === 0 ? undefined : raw },
        context
      )
      const upstreamRequestId = trace.requestIds.at(-1)
      if (upstreamRequestId !== undefined) audit.upstreamRequestId = upstreamRequestId
      const sent = scrubber.headers(responseHeaders(answer.headers, upstreamRequestId))
      if (answer.body === null) return c.body(null, answer.status as 204, sent)
      if (answer.body instanceof Uint8Array) {
        const whole = scrubber.bodyBytes(answer.body, sent["content-encoding"])
        if (whole.decoded) delete sent["content-encoding"]
        return c.body(whole.body as Uint8Array<ArrayBuffer>, answer.status as 200, sent)
      }
      let scrubbed: ReturnType<typeof scrubber.body>
      try {
        scrubbed = scrubber.body(answer.body, sent["content-encoding"])
      } catch (error) {
        void answer.body.cancel()
        throw error
      }
      if (scrubbed.decoded) delete sent["content-encoding"]
      return c.body(scrubbed.body, answer.status as 200, sent)
    } finally {
      // Before the answer goes back: a lookup on any replica after it sees the write.
      if (!isRead(method, path)) await upstream.invalidate()
      const upstreamRequestId = trace.requestIds.at(-1)
      if (upstreamRequestId !== undefined) audit.upstreamRequestId = upstreamRequestId
    }
  }

  app.all("/data/core/ups/*", handler)
  app.all("/data/core/ca/*", handler)
  return app
}
