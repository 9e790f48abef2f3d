/**
 * @rtcp/core runs in browsers and workers as well as Node: bundled for the
 * browser with esbuild, nothing in it (nor in what it imports) may reach for
 * a Node built-in. ESLint keeps the core's own sources clean; this also
 * catches a dependency that pulls one in.
 */
import { describe, expect, it } from "vitest"
import { build, type Plugin } from "esbuild"
import { builtinModules } from "node:module"
import { fileURLToPath } from "node:url"

const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url))
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))

/** Records every import of a Node built-in (with its importer) instead of letting esbuild guess. */
const nodeImports = (found: Array<string>): Plugin => ({
  name: "node-imports",
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.split("/")[0]!
      if (!builtins.has(args.path) && !builtins.has(bare) && !args.path.startsWith("node:")) return undefined
      found.push(`${args.path} (imported by ${args.importer})`)
      return { path: args.path, external: true }
    })
  }
})

describe("@rtcp/core is platform-neutral", () => {
  it("bundles for the browser without a single Node import", async () => {
    const found: Array<string> = []
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: "browser",
      format: "esm",
      // The core from its sources; its dependencies resolve as a browser bundler resolves them.
      conditions: ["@rtcp/source"],
      write: false,
      logLevel: "silent",
      plugins: [nodeImports(found)]
    })
    expect(result.errors).toEqual([])
    expect(found).toEqual([])
    expect(result.outputFiles[0]!.text).toContain("ProfileClient")
  })

  it("would name a Node import if one crept in", async () => {
    const found: Array<string> = []
    await build({
      stdin: { contents: 'import { readFileSync } from "node:fs"; export const read = readFileSync', resolveDir: process.cwd() },
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
      plugins: [nodeImports(found)]
    })
    expect(found).toEqual(["node:fs (imported by <stdin>)"])
  })
})
