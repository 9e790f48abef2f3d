#!/usr/bin/env node
/**
 * `npm start`, `npm run service`, `npm run proxy`: build the app with Nx (a
 * cache hit when nothing changed, so only a fresh clone or an edit compiles),
 * then run its compiled entry point in this process with plain Node.
 *
 * Usage: node tools/scripts/run-built.mjs <nx project> <entry .js> [app arguments…]
 *
 * Nx's own output is kept out of the way (the app's stdout stays the app's,
 * so `npm run --silent service -- --help > help.txt` holds only the help)
 * and printed on stderr only when the build fails.
 */
import { spawn } from "node:child_process"
import { dirname, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const [project, entry, ...args] = process.argv.slice(2)
if (project === undefined || entry === undefined) {
  process.stderr.write("usage: node tools/scripts/run-built.mjs <nx project> <entry .js> [arguments…]\n")
  process.exit(2)
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..")
const status = process.stderr.isTTY === true
if (status) process.stderr.write(`\u001b[90mbuilding ${project} (cached by Nx after the first time)…\u001b[0m`)

const output = []
const code = await new Promise((done) => {
  const nx = spawn(process.execPath, [resolve(root, "node_modules/nx/dist/bin/nx.js"), "run", `${project}:build`, "--outputStyle=static"], {
    cwd: root,
    env: { ...process.env, NX_DAEMON: "false", NX_TUI: "false", NX_NO_CLOUD: "true" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  nx.stdout.on("data", (chunk) => output.push(chunk))
  nx.stderr.on("data", (chunk) => output.push(chunk))
  nx.on("error", (error) => {
    output.push(Buffer.from(String(error)))
    done(1)
  })
  nx.on("close", (exit) => done(exit ?? 1))
})
if (status) process.stderr.write("\r\u001b[2K")
if (code !== 0) {
  process.stderr.write(Buffer.concat(output))
  process.stderr.write(`\nrun-built: building ${project} failed (exit ${code})\n`)
  process.exit(code)
}

// The app reads its flags from process.argv as if started as `node <entry> …`.
const main = resolve(root, entry)
process.argv = [process.execPath, main, ...args]
await import(pathToFileURL(main).href)
