/**
 * With the request inspector on (`--admin`), a body refused for its size
 * still gets its 413: the inspector notes the refusal instead of reading a
 * body that was drained unread (it used to wait for it forever, and the
 * answer with it).
 */
import { HttpServer } from "@effect/platform"
import { Context, Effect, Exit, Layer, Redacted, Scope } from "effect"
import { describe, expect, it } from "vitest"
import { demoClient } from "../src/ImsTokens.js"
import * as Server from "../src/Server.js"
import { dialect } from "./support/harness.js"

describe.skipIf(dialect === "postgres")("a body too large, with the request inspector on", () => {
  it("is answered 413 and shown in the inspector as refused, unread", async () => {
    const scope = Effect.runSync(Scope.make())
    try {
      const context = await Effect.runPromise(
        Layer.buildWithScope(Server.serve({ directory: ":memory:", port: 0, host: "127.0.0.1", admin: true }), scope)
      )
      const address = Context.get(context, HttpServer.HttpServer).address
      const base = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      const token = await fetch(`${base}/ims/token/v3`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: demoClient.clientId, client_secret: Redacted.value(demoClient.clientSecret) })
      })
      const headers = {
        authorization: `Bearer ${((await token.json()) as { access_token: string }).access_token}`,
        "x-api-key": demoClient.clientId,
        "x-gw-ims-org-id": demoClient.orgId,
        "x-sandbox-name": "prod"
      }
      const big = " ".repeat(11 * 1024 * 1024)
      for (const [method, path, type] of [
        ["POST", "/data/foundation/catalog/dataSets", "application/json"],
        ["PUT", "/data/core/ups/config/destinations/x", "application/x-www-form-urlencoded"],
        ["POST", "/nope", "text/plain"]
      ] as const) {
        const response = await fetch(`${base}${path}`, {
          method,
          headers: { ...headers, "content-type": type },
          body: big,
          signal: AbortSignal.timeout(20_000)
        })
        expect(response.status, `${method} ${path}`).toBe(413)
        await response.text()
      }
      const inspected = (await (await fetch(`${base}/rtcp/admin/requests`, { headers })).json()) as {
        readonly requests: ReadonlyArray<{ readonly status: number; readonly request: { readonly body: string | null } }>
      }
      const refused = inspected.requests.filter((entry) => entry.status === 413)
      expect(refused).toHaveLength(3)
      for (const entry of refused) expect(entry.request.body).toMatch(/refused for its size, not kept/)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }, 90_000)
})
