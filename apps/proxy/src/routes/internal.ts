/**
 * The internal convenience API (`/v1`), documented by `GET /v1/openapi.json`:
 * profile lookups that share calls and a cache across callers, an events
 * page with plain time range and cursor, and batch lookups.
 */
import { Either, ParseResult, Schema } from "effect"
import { type Context, Hono } from "hono"
import { type ProxyEnv, signalOf } from "../env.js"
import { readJson } from "../body.js"
import { cacheStatus } from "../cache.js"
import { ProxyError, render, RequestAborted } from "../errors.js"
import { scrubber } from "../scrub.js"
import { BatchGetRequest, EventsQuery, IdentityRef, openApiDocument, ProfileQuery } from "../openapi.js"
import { resolveSandbox } from "../scope.js"
import type { Upstream, UpstreamTrace } from "../upstream.js"

/** A decoder built once (building one per request costs more than the lookup it guards). */
const decoder = <A, I>(schema: Schema.Schema<A, I>, what: string) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "ignore" })
  return (input: unknown): A => {
    const result = decode(input)
    if (Either.isLeft(result)) {
      throw new ProxyError(400, "bad-request", `Invalid ${what}`, ParseResult.TreeFormatter.formatErrorSync(result.left))
    }
    return result.right
  }
}

export const decodeIdentity = decoder(IdentityRef, "identity")
export const decodeProfileQuery = decoder(ProfileQuery, "query")
const decodeEventsQuery = decoder(EventsQuery, "query")
const decodeBatch = decoder(BatchGetRequest, "batch request")

/** Epoch milliseconds, or an ISO 8601 date/time. */
const instant = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined
  if (/^\d{1,16}$/.test(value)) return Number(value)
  const parsed = Date.parse(value)
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(parsed)) return parsed
  throw new ProxyError(400, "bad-request", `Invalid ${name}`, `${name} must be epoch milliseconds or an ISO 8601 date, got "${value}"`)
}

const identityOf = (c: Context<ProxyEnv>) => decodeIdentity({ namespace: c.req.param("namespace"), id: c.req.param("id") })

const queryOf = (c: Context<ProxyEnv>) => {
  const record: Record<string, string | Array<string>> = {}
  for (const [name, values] of Object.entries(c.req.queries())) {
    record[name] = values.length === 1 ? values[0]! : values
  }
  return record
}

export const fieldsOf = (fields: string | undefined) => {
  const list = fields?.split(",").map((f) => f.trim()).filter((f) => f !== "")
  return list && list.length > 0 ? list : undefined
}

export interface InternalRoutesOptions {
  readonly upstream: Upstream
}

export const internalRoutes = ({ upstream }: InternalRoutesOptions) => {
  const app = new Hono<ProxyEnv>()
  const document = JSON.stringify(openApiDocument())

  const contextOf = (c: Context<ProxyEnv>) => {
    const sandbox = resolveSandbox(c, upstream.defaultSandbox)
    const trace: UpstreamTrace = { requestIds: [] }
    return { sandbox, signal: signalOf(c), trace, caller: c.get("caller")?.name, span: c.get("span") }
  }

  app.get("/v1/openapi.json", (c) => c.body(document, 200, { "content-type": "application/json" }))

  app.post("/v1/profiles:batchGet", async (c) => {
    const context = contextOf(c)
    const request = decodeBatch(await readJson(c, "BatchGetRequest"))
    const results = await Promise.all(
      request.identities.map(async (identity) => {
        try {
          const { profile } = await upstream.lookup(
            {
              identity: { namespace: identity.namespace, id: identity.id },
              fields: request.fields,
              mergePolicyId: request.mergePolicyId,
              withCA: request.withCA
            },
            context
          )
          return { namespace: identity.namespace, id: identity.id, status: 200 as const, profile }
        } catch (error) {
          if (error instanceof RequestAborted) throw error
          const rendered = render(error, c.req.path, c.get("requestId"))
          return { namespace: identity.namespace, id: identity.id, status: rendered.status, error: rendered.body }
        }
      })
    )
    // Error details come from upstream: scrubbed like everything else that leaves.
    return c.body(scrubber.text(JSON.stringify({ results })), 200, { "content-type": "application/json" })
  })

  app.get("/v1/profiles/:namespace/:id", async (c) => {
    const identity = identityOf(c)
    const query = decodeProfileQuery(queryOf(c))
    const context = contextOf(c)
    const answer = await upstream.lookup(
      {
        identity,
        fields: fieldsOf(query.fields),
        mergePolicyId: query.mergePolicyId,
        withCA: query.withCA
      },
      context
    )
    c.get("audit").cache = answer.result
    return c.body(scrubber.text(JSON.stringify(answer.profile)), 200, { "content-type": "application/json", "cache-status": cacheStatus(answer) })
  })

  app.get("/v1/profiles/:namespace/:id/events", async (c) => {
    const identity = identityOf(c)
    const query = decodeEventsQuery(queryOf(c))
    const limit = query.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ProxyError(400, "bad-request", "Invalid limit", "limit must be a whole number from 1 to 1000")
    }
    const property = query.property === undefined ? undefined : typeof query.property === "string" ? [query.property] : query.property
    if (property !== undefined && property.length > 3) {
      throw new ProxyError(400, "bad-request", "Too many property filters", "at most 3 property filters")
    }
    const context = contextOf(c)
    const page = await upstream.events(
      {
        identity,
        fields: fieldsOf(query.fields),
        mergePolicyId: query.mergePolicyId,
        startTime: instant(query.startTime, "startTime"),
        endTime: instant(query.endTime, "endTime"),
        limit,
        orderby: query.order === "desc" ? "-timestamp" : "+timestamp",
        property,
        start: query.cursor
      },
      context
    )
    const upstreamRequestId = context.trace.requestIds.at(-1)
    if (upstreamRequestId !== undefined) c.get("audit").upstreamRequestId = upstreamRequestId
    const next = page._page.next !== undefined && page._page.next !== "" ? page._page.next : null
    let href: string | null = null
    if (next !== null) {
      const url = new URL(c.req.url)
      url.searchParams.set("cursor", next)
      href = `${url.pathname}?${url.searchParams.toString()}`
    }
    return c.json({
      events: page.children,
      page: { count: page._page.count, next },
      _links: { next: href === null ? null : { href } }
    })
  })

  return app
}
