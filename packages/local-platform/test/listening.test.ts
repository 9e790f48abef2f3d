/**
 * The service opens its port only once it can answer: a client that
 * connects the moment the port opens (a health check, a test suite started
 * beside it) gets its answer, instead of a connection nobody serves.
 */
import { ProfileStore } from "@rtcp/profile-store"
import { Effect, Exit, Layer, Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { demoClient } from "../src/ImsTokens.js"
import { seedDemo } from "../src/Seed.js"
import * as Server from "../src/Server.js"
import { dialect } from "./support/harness.js"

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const refused = (error: unknown) => {
  const cause = (error as { cause?: { code?: string } }).cause
  return cause?.code === "ECONNREFUSED"
}

const databaseUrl = process.env.RTCP_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

describe("starting", () => {
  it("answers the first connection its port accepts, while seeding took seconds", async () => {
    const folder = mkdtempSync(join(tmpdir(), "rtcp-listening-"))
    const scope = Effect.runSync(Scope.make())
    try {
      const port = await freePort()
      const database =
        dialect === "postgres"
          ? { database: databaseUrl, databaseSchema: await Effect.runPromise(Scope.extend(ProfileStore.scratchSchema(databaseUrl), scope)) }
          : {}
      const started = Effect.runPromise(
        Layer.buildWithScope(Server.serve({ directory: folder, port, host: "127.0.0.1", ...database }, seedDemo({ sandbox: "prod", profiles: 500 })), scope)
      )
      let status: number | undefined
      let knocks = 0
      while (status === undefined) {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/ims/token/v3`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ grant_type: "client_credentials", client_id: demoClient.clientId, client_secret: "rtcp-local-secret" }),
            // Far longer than the answer takes; a connection nobody serves never ends.
            signal: AbortSignal.timeout(30_000)
          })
          status = response.status
        } catch (error) {
          if (!refused(error)) throw error
          knocks++
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
      }
      expect(status).toBe(200)
      // The port was closed while the store was built and seeded.
      expect(knocks).toBeGreaterThan(0)
      await started
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      rmSync(folder, { recursive: true, force: true })
    }
  }, 90_000)
})
