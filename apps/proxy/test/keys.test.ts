import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { allowsSandbox, generateKey, hashKey, KeyFileError, openKeyStore, parseKeyFile, staticKeyStore } from "../src/keys.js"
import { parseBytes, parseDuration, parseRateLimit } from "../src/options.js"

const entry = (name: string, key: string, extra: Record<string, unknown> = {}) => ({
  name,
  sha256: hashKey(key),
  sandboxes: ["prod"],
  access: "read",
  ...extra
})

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const eventually = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 500; i++) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe("key file", () => {
  it("hashes keys with SHA-256 and makes random ones", () => {
    expect(hashKey("test")).toBe("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    const a = generateKey()
    expect(a).toMatch(/^rtcp_[A-Za-z0-9_-]{32}$/)
    expect(generateKey()).not.toBe(a)
  })

  it("says what is wrong with a bad file", () => {
    expect(() => parseKeyFile("{")).toThrow(KeyFileError)
    expect(() => parseKeyFile(JSON.stringify({ keys: [{ ...entry("a", "k"), access: "admin" }] }))).toThrow(/access/)
    expect(() => parseKeyFile(JSON.stringify({ keys: [{ ...entry("a", "k"), sha256: "abc" }] }))).toThrow(/sha256/)
    expect(() => parseKeyFile(JSON.stringify({ keys: [{ ...entry("a", "k"), sandboxes: ["Prod"] }] }))).toThrow(/sandbox/)
    expect(() => parseKeyFile(JSON.stringify({ keys: [{ ...entry("a", "k"), secret: "plain" }] }))).toThrow(/secret/)
    expect(() => parseKeyFile(JSON.stringify({ keys: [entry("a", "k"), entry("b", "k")] }))).toThrow(/twice/)
  })

  it("authenticates by hash, honours disabled keys and applies the default rate limit", () => {
    const store = staticKeyStore(
      { keys: [entry("svc", "key-1"), entry("old", "key-2", { disabled: true }), entry("star", "key-3", { sandboxes: ["*", "dev"], access: "write", rateLimit: { points: 5, duration: 2 } })] } as any,
      { defaultRateLimit: { points: 7, duration: 1 } }
    )
    expect(store.authenticate("key-1")).toEqual({ name: "svc", sandboxes: ["prod"], access: "read", rateLimit: { points: 7, duration: 1 } })
    expect(store.authenticate("key-2")).toBeUndefined()
    expect(store.authenticate("")).toBeUndefined()
    expect(store.authenticate("x".repeat(10_000))).toBeUndefined()
    const star = store.authenticate("key-3")!
    expect(star.sandboxes).toEqual(["*"])
    expect(allowsSandbox(star, "anything")).toBe(true)
    expect(allowsSandbox(store.authenticate("key-1")!, "dev")).toBe(false)
  })

  it("reloads the file when it changes (also when replaced by rename), and keeps the old keys when the new file is broken", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rtcp-keys-"))
    dirs.push(dir)
    const path = join(dir, "keys.json")
    writeFileSync(path, JSON.stringify({ keys: [entry("one", "key-1")] }))
    const errors: Array<string> = []
    const store = await openKeyStore({ path, pollIntervalMs: 20, onError: (error) => errors.push(error.message) })
    try {
      expect(store.authenticate("key-1")?.name).toBe("one")
      // Rotation: the new key next to the old one, then the old one removed.
      writeFileSync(path, JSON.stringify({ keys: [entry("one", "key-1"), entry("one", "key-1b")] }))
      await eventually(() => store.authenticate("key-1b") !== undefined, "the new key")
      writeFileSync(`${path}.tmp`, JSON.stringify({ keys: [entry("one", "key-1b")] }))
      renameSync(`${path}.tmp`, path)
      await eventually(() => store.authenticate("key-1") === undefined, "the old key to go")
      expect(store.authenticate("key-1b")?.name).toBe("one")
      writeFileSync(path, "{ broken")
      await eventually(() => errors.length > 0, "the parse error")
      expect(store.authenticate("key-1b")?.name).toBe("one")
      await expect(store.reload()).rejects.toThrow(KeyFileError)
    } finally {
      store.close()
    }
  })
})

describe("flag values", () => {
  it("parses durations, sizes and rate limits", () => {
    expect(parseDuration("250")).toBe(250)
    expect(parseDuration("2s")).toBe(2000)
    expect(parseDuration("1.5m")).toBe(90_000)
    expect(() => parseDuration("soon")).toThrow()
    expect(parseBytes("1mb")).toBe(1_048_576)
    expect(parseBytes("512kb")).toBe(524_288)
    expect(parseBytes("100")).toBe(100)
    expect(parseRateLimit("100/1s")).toEqual({ points: 100, duration: 1 })
    expect(parseRateLimit("600/1m")).toEqual({ points: 600, duration: 60 })
    expect(parseRateLimit("10/5")).toEqual({ points: 10, duration: 5 })
    expect(() => parseRateLimit("lots")).toThrow()
  })
})
