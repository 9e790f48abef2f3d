import { describe, expect, it } from "@effect/vitest"
import { AepConfig, Identity, ProfileClient, ProfileError } from "@rtcp/core"
import { ConfigProvider, Effect, Layer } from "effect"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import { LocalProfileApi } from "../src/index.js"

const token = async (api: LocalProfileApi.RunningLocalProfileApi) => {
  const answer = await fetch(`${api.baseUrl}/ims/token/v3`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: api.credentials.clientId, client_secret: api.credentials.clientSecret })
  })
  return ((await answer.json()) as { access_token: string }).access_token
}

const lookup = async (api: LocalProfileApi.RunningLocalProfileApi, email: string) =>
  fetch(`${api.baseUrl}/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=${encodeURIComponent(email)}&entityIdNS=Email`, {
    headers: {
      authorization: `Bearer ${await token(api)}`,
      "x-api-key": api.credentials.apiKey,
      "x-gw-ims-org-id": api.credentials.orgId,
      "x-sandbox-name": api.credentials.sandbox
    }
  })

/** Whether something accepts connections on the port (a fresh listener fails with EADDRINUSE). */
const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = createServer()
    probe.once("error", () => resolve(false))
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)))
  })

describe("LocalProfileApi.layerClient", () => {
  it.layer(LocalProfileApi.layerClient({ seed: "demo" }), { timeout: 60_000 })((it) => {
    it.effect("gives a ProfileClient wired to a fresh emulator with the demo data", () =>
      Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        const jane = yield* client.getProfile(Identity.make("Email", "jane.doe@example.com"))
        // The README's example: the loyalty app's newer "Janie" wins under the default merge policy.
        expect((jane.entity as any).person.name).toEqual({ firstName: "Janie", lastName: "Doe" })
        const api = yield* LocalProfileApi.LocalProfileApi
        expect(api.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      })
    )
  })
})

describe("LocalProfileApi.start", () => {
  it("starts on a free port, hands back what a client needs, and frees the port on stop", async () => {
    const api = await LocalProfileApi.start({ seed: "demo" })
    try {
      expect(api.port).toBeGreaterThan(0)
      expect(await portIsFree(api.port)).toBe(false)
      expect(api.env).toEqual({
        AEP_PLATFORM_URL: api.baseUrl,
        AEP_IMS_URL: api.baseUrl,
        AEP_CLIENT_ID: "rtcp-local",
        AEP_CLIENT_SECRET: "rtcp-local-secret",
        AEP_ORG_ID: "RTCPLOCAL@AdobeOrg",
        AEP_API_KEY: "rtcp-local",
        AEP_SANDBOX: "prod"
      })
      const answer = await lookup(api, "jane.doe@example.com")
      expect(answer.status).toBe(200)
      expect(JSON.stringify(await answer.json())).toContain("Doe")
    } finally {
      await api.stop()
      await api.stop()
    }
    expect(await portIsFree(api.port)).toBe(true)
    await expect(fetch(`${api.baseUrl}/ims/token/v3`, { method: "POST" })).rejects.toThrow()
  })

  it("its env is what ProfileClient.layerConfig reads", async () => {
    const api = await LocalProfileApi.start({ seed: { profiles: 20 } })
    try {
      const jane = await Effect.gen(function* () {
        const client = yield* ProfileClient.ProfileClient
        return yield* client.getProfile(Identity.make("Email", "jane.doe@example.com"))
      }).pipe(
        Effect.provide(ProfileClient.layerConfig),
        Effect.provide(NodeHttpClient.layerUndici),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(api.env)))),
        Effect.runPromise
      )
      expect((jane.entity as any).person.name.lastName).toBe("Doe")
      expect(Effect.runSync(Effect.withConfigProvider(AepConfig.isConfigured, ConfigProvider.fromMap(new Map(Object.entries(api.env)))))).toBe(true)
    } finally {
      await api.stop()
    }
  })

  it("keeps two emulators side by side apart", async () => {
    const [seeded, empty] = await Promise.all([LocalProfileApi.start({ seed: "demo" }), LocalProfileApi.start()])
    try {
      expect(seeded.port).not.toBe(empty.port)
      expect((await lookup(seeded, "jane.doe@example.com")).status).toBe(200)
      expect((await lookup(empty, "jane.doe@example.com")).status).toBe(404)
      // A token of one is worthless at the other only if their secrets differ; in memory each has its own.
      const foreign = await token(seeded)
      const answer = await fetch(`${empty.baseUrl}/data/core/ups/config/mergePolicies`, {
        headers: { authorization: `Bearer ${foreign}`, "x-api-key": "rtcp-local", "x-gw-ims-org-id": "RTCPLOCAL@AdobeOrg", "x-sandbox-name": "prod" }
      })
      expect(answer.status).toBe(401)
    } finally {
      await Promise.all([seeded.stop(), empty.stop()])
    }
  })

  it("keeps a data folder across starts, and deletes a :temp: one on stop", async () => {
    const folder = mkdtempSync(join(tmpdir(), "rtcp-lpa-test-"))
    try {
      const first = await LocalProfileApi.start({ data: folder, seed: { profiles: 10 } })
      await first.stop()
      const second = await LocalProfileApi.start({ data: folder })
      expect((await lookup(second, "jane.doe@example.com")).status).toBe(200)
      await second.stop()

      const temp = await LocalProfileApi.start({ data: ":temp:" })
      expect(temp.data).not.toBe(":temp:")
      expect(existsSync(join(temp.data, "profile.db"))).toBe(true)
      await temp.stop()
      expect(existsSync(temp.data)).toBe(false)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })

  it("injects faults", async () => {
    const api = await LocalProfileApi.start({ seed: { profiles: 10 }, faults: { rules: ["GET /data/core/ups/access/entities 503 times=1"] } })
    try {
      expect((await lookup(api, "jane.doe@example.com")).status).toBe(503)
      expect((await lookup(api, "jane.doe@example.com")).status).toBe(200)
    } finally {
      await api.stop()
    }
  })

  it("says what is wrong when it cannot start", async () => {
    const busy = await LocalProfileApi.start()
    const folder = mkdtempSync(join(tmpdir(), "rtcp-lpa-test-"))
    const file = join(folder, "a-file")
    writeFileSync(file, "not a folder")
    try {
      await expect(LocalProfileApi.start({ port: busy.port })).rejects.toMatchObject({
        _tag: "StartError",
        reason: "PortInUse",
        message: expect.stringContaining(`port ${busy.port} is already in use`)
      })
      await expect(LocalProfileApi.start({ port: 99_999 })).rejects.toMatchObject({ reason: "InvalidPort" })
      await expect(LocalProfileApi.start({ data: file })).rejects.toMatchObject({
        reason: "DataNotAFolder",
        message: expect.stringContaining(`${file} is a file`)
      })
    } finally {
      await busy.stop()
      rmSync(folder, { recursive: true, force: true })
    }
  })
})

describe("LocalProfileApi.layer", () => {
  it.effect("fails with a StartError, not a defect", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Layer.build(LocalProfileApi.layer({ port: -1 })).pipe(Effect.scoped))
      expect(error).toBeInstanceOf(LocalProfileApi.StartError)
      expect(error.reason).toBe("InvalidPort")
    })
  )
  it.effect("an unknown customer is NotFound through the client", () =>
    Effect.gen(function* () {
      const client = yield* ProfileClient.ProfileClient
      const error = yield* Effect.flip(client.getProfile(Identity.make("Email", "nobody@example.com")))
      expect(error).toBeInstanceOf(ProfileError.NotFound)
    }).pipe(Effect.provide(LocalProfileApi.layerClient()))
  )
})
