import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..")

describe("npm run openapi", () => {
  it("> f.json gives a file that is only the document (npm's banner is replaced); >> keeps what was there", () => {
    const folder = mkdtempSync(join(tmpdir(), "rtcp-openapi-"))
    try {
      const file = join(folder, "f.json")
      execFileSync("sh", ["-c", `npm run openapi > "${file}"`], { cwd: root, timeout: 120_000 })
      const document = JSON.parse(readFileSync(file, "utf8"))
      expect(document.openapi).toMatch(/^3\./)

      const log = join(folder, "log.txt")
      writeFileSync(log, "kept\n")
      execFileSync("sh", ["-c", `npm run openapi >> "${log}"`], { cwd: root, timeout: 120_000 })
      expect(readFileSync(log, "utf8").startsWith("kept\n")).toBe(true)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  }, 120_000)
})
