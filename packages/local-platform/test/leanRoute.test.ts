/**
 * The lean route (LeanRoute.ts) answers exactly as the HttpApi path does:
 * the same requests go to a service with the route and to one without it,
 * over the same data folder, and every answer (status, body, headers but
 * `date`) and every access-log line must be the same.
 */
import { HttpServer } from "@effect/platform"
import { Context, Effect, Exit, HashMap, Layer, Logger, Redacted, Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demoClient } from "../src/ImsTokens.js"
import { seedDemo } from "../src/Seed.js"
import * as LeanRoute from "../src/LeanRoute.js"
import * as Server from "../src/Server.js"
import { dialect } from "./support/harness.js"

interface Sent {
  readonly name: string
  readonly method: "GET" | "POST"
  readonly path: string
  readonly headers?: Record<string, string | undefined>
  readonly body?: string
  /** Leaves out the request id (the service makes one up). */
  readonly noRequestId?: boolean
}

interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

const PROFILE = "_xdm.context.profile"
const EVENT = "_xdm.context.experienceevent"
const jane = `schema.name=${PROFILE}&entityId=jane.doe%40example.com&entityIdNS=Email`
const janeEvents = `schema.name=${EVENT}&relatedSchema.name=${PROFILE}&relatedEntityId=jane.doe%40example.com&relatedEntityIdNS=Email`
const entities = "/data/core/ups/access/entities"
const post = (name: string, body: unknown, headers: Record<string, string | undefined> = {}): Sent => ({
  name,
  method: "POST",
  path: entities,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body)
})
const get = (name: string, query: string, headers: Record<string, string | undefined> = {}): Sent => ({
  name,
  method: "GET",
  path: `${entities}?${query}`,
  headers
})
const deep = (n: number) => "[".repeat(n) + "]".repeat(n)

const requests: ReadonlyArray<Sent> = [
  get("profile found", jane),
  get("profile with fields", `${jane}&fields=person.name,homeAddress`),
  get("profile with CA", `${jane}&withCA=true`),
  get("profile with an unknown parameter", `${jane}&colour=blue`),
  get("profile by XID-less value", `schema.name=${PROFILE}&entityId=jane.doe%40example.com`),
  { ...get("profile without a request id", jane), noRequestId: true },
  get("profile not found", `schema.name=${PROFILE}&entityId=nobody%40example.com&entityIdNS=Email`),
  get("profile without entityId", `schema.name=${PROFILE}`),
  get("no schema.name", "entityId=jane.doe%40example.com&entityIdNS=Email"),
  get("unknown merge policy", `${jane}&mergePolicyId=no-such-policy`),
  get("repeated entityId", `${jane}&entityId=x`),
  get("withCA not a boolean", `${jane}&withCA=yes`),
  get("token missing", jane, { authorization: undefined }),
  get("token not bearer", jane, { authorization: "Basic abc" }),
  get("token invalid", jane, { authorization: "Bearer not-a-token" }),
  get("api key missing", jane, { "x-api-key": undefined }),
  get("api key invalid", jane, { "x-api-key": "someone-else" }),
  get("org missing", jane, { "x-gw-ims-org-id": undefined }),
  get("org other", jane, { "x-gw-ims-org-id": "OTHER@AdobeOrg" }),
  get("sandbox missing", jane, { "x-sandbox-name": undefined }),
  get("sandbox unknown", jane, { "x-sandbox-name": "nowhere" }),
  get("events", janeEvents),
  get("events, first page of 2", `${janeEvents}&limit=2`),
  get("events, newest first", `${janeEvents}&limit=3&orderby=-timestamp`),
  get("events, bad orderby", `${janeEvents}&orderby=name`),
  get("events, time window", `${janeEvents}&startTime=0&endTime=4102444800000`),
  get("events, limit not a number", `${janeEvents}&limit=ten`),
  get("events, limit with exponent", `${janeEvents}&limit=1e1`),
  get("events, properties", `${janeEvents}&property=eventType%3D%3Dcommerce.purchases&property=eventType%3D%3Dweb.webpagedetails.pageViews`),
  get("events without relatedEntityId", `schema.name=${EVENT}`),
  get("events with wrong relatedSchema", `schema.name=${EVENT}&relatedSchema.name=x&relatedEntityId=a`),
  get("events unknown merge policy", `${janeEvents}&mergePolicyId=nope`),
  get("events not found", `schema.name=${EVENT}&relatedEntityId=nobody%40example.com&relatedEntityIdNS=Email`),
  { ...get("trailing slash", jane), path: `${entities}/?${jane}` },
  post("many profiles", {
    schema: { name: PROFILE },
    identities: [
      { entityId: "jane.doe@example.com", entityIdNS: { code: "Email" } },
      { entityId: "nobody@example.com", entityIdNS: { code: "Email" } }
    ],
    fields: ["person.name"],
    extra: { kept: true }
  }),
  post("many profiles, withCA as a string", {
    identities: [{ entityIdNS: { code: "Email", other: 1 }, entityId: "jane.doe@example.com" }],
    schema: { name: PROFILE },
    withCA: "true"
  }),
  post("many events, pages of 1", {
    schema: { name: EVENT },
    relatedSchema: { name: PROFILE },
    identities: [{ entityId: "jane.doe@example.com", entityIdNS: { code: "Email" } }],
    limit: 1,
    orderby: "-timestamp",
    timeFilter: { startTime: 0 },
    unknown: "kept in the next payload"
  }),
  post("many events, bad orderby", { schema: { name: EVENT }, identities: [{ relatedEntityId: "x" }], orderby: "up" }),
  post("many events, identity without id", { schema: { name: EVENT }, identities: [{ start: "x" }] }),
  post("many profiles, identity without entityId", { schema: { name: PROFILE }, identities: [{ entityIdNS: { code: "Email" } }] }),
  post("no identities", { schema: { name: PROFILE }, identities: [] }),
  post("too many identities", { schema: { name: PROFILE }, identities: Array.from({ length: 1001 }, (_, i) => ({ entityId: `x${i}`, entityIdNS: { code: "Email" } })) }),
  post("identities missing", { schema: { name: PROFILE } }),
  post("identities not an array", { schema: { name: PROFILE }, identities: "jane" }),
  post("entityId a number", { schema: { name: PROFILE }, identities: [{ entityId: 5 }] }),
  post("fields not strings", { schema: { name: PROFILE }, identities: [{ entityId: "a" }], fields: [1] }),
  post("limit a string", { schema: { name: EVENT }, identities: [{ relatedEntityId: "a" }], limit: "5" }),
  post("a null field", { schema: { name: PROFILE }, identities: [{ entityId: "a" }], mergePolicyId: null }),
  post("body an array", []),
  post("body not JSON", "{not json"),
  post("body empty", ""),
  post("body too deep", deep(1500)),
  post("body with __proto__", '{"__proto__":{"x":1},"schema":{"name":"_xdm.context.profile"},"identities":[{"entityId":"a"}]}'),
  post("content type text", { schema: { name: PROFILE }, identities: [{ entityId: "a" }] }, { "content-type": "text/plain" }),
  post("content type vendor json", { schema: { name: PROFILE }, identities: [{ entityId: "a" }] }, { "content-type": "application/vnd.adobe+json" }),
  post("unauthorized", { schema: { name: PROFILE }, identities: [{ entityId: "a" }] }, { authorization: "Bearer nope" }),
  post("unknown sandbox", { schema: { name: PROFILE }, identities: [{ entityId: "a" }] }, { "x-sandbox-name": "nowhere" }),
  post("unknown merge policy", { schema: { name: PROFILE }, identities: [{ entityId: "a" }], mergePolicyId: "nope" })
]

/** Starts the service on `folder`, sends every request, and stops it. */
const runAll = async (folder: string, leanRoute: boolean, token: () => Promise<string>) => {
  const lines: Array<string> = []
  const logger = Logger.make(({ annotations, message }) => {
    const fields = Object.fromEntries(HashMap.toEntries(annotations))
    if (String(fields["http.url"] ?? "").startsWith(entities)) lines.push(`${String(message)} ${JSON.stringify(fields)}`)
  })
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(
    Layer.buildWithScope(
      Server.serve({ directory: folder, port: 0, host: "127.0.0.1", leanRoute }, seedDemo({ sandbox: "prod", profiles: 20, anchor: new Date("2026-01-01T00:00:00Z") })).pipe(
        Layer.provide(Logger.replace(Logger.defaultLogger, logger))
      ),
      scope
    )
  )
  const address = Context.get(context, HttpServer.HttpServer).address
  const base = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
  try {
    const bearer = await token.call({ base })
    const answers: Array<Answer> = []
    for (const sent of requests) {
      const headers: Record<string, string> = {}
      const all = {
        authorization: `Bearer ${bearer}`,
        "x-api-key": demoClient.clientId,
        "x-gw-ims-org-id": demoClient.orgId,
        "x-sandbox-name": "prod",
        ...(sent.noRequestId === true ? {} : { "x-request-id": `req-${sent.name}` }),
        ...sent.headers
      }
      for (const [name, value] of Object.entries(all)) if (value !== undefined) headers[name] = value
      const response = await fetch(`${base}${sent.path}`, { method: sent.method, headers, body: sent.body ?? null })
      const body = await response.text()
      const kept: Record<string, string> = {}
      response.headers.forEach((value, name) => {
        if (name !== "date" && !(sent.noRequestId === true && name === "x-request-id")) kept[name] = value
      })
      answers.push({ status: response.status, headers: kept, body })
    }
    return { answers, lines }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

describe.skipIf(dialect === "postgres")("lean route", () => {
  let folder: string
  let token: string | undefined
  const issue = async function (this: { base: string }) {
    if (token === undefined) {
      const response = await fetch(`${this.base}/ims/token/v3`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: demoClient.clientId,
          client_secret: Redacted.value(demoClient.clientSecret),
          scope: "openid"
        })
      })
      token = ((await response.json()) as { access_token: string }).access_token
    }
    return token
  }
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), "rtcp-lean-route-"))
  })
  afterAll(() => rmSync(folder, { recursive: true, force: true }))

  it("answers every request byte for byte as the HttpApi path does, and logs the same lines", async () => {
    const lean = await runAll(folder, true, issue as any)
    const { answered, handedOver } = LeanRoute.stats
    // Most of them on the lean route itself, not handed over.
    expect(answered).toBeGreaterThan(requests.length * 0.6)
    expect(answered + handedOver).toBeLessThanOrEqual(requests.length)
    const httpApi = await runAll(folder, false, issue as any)
    expect(lean.answers.find((_, i) => requests[i]!.name === "profile found")!.status).toBe(200)
    for (let i = 0; i < requests.length; i++) {
      expect({ request: requests[i]!.name, ...lean.answers[i] }).toEqual({ request: requests[i]!.name, ...httpApi.answers[i] })
    }
    expect(lean.lines).toEqual(httpApi.lines)
    expect(lean.lines.length).toBe(requests.length)
  }, 60_000)
})
