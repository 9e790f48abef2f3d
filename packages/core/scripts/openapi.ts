// Prints the contract as an OpenAPI 3 document, or writes it with --out:
//   npm run openapi -- --out profile.openapi.json
//   npm run openapi > profile.openapi.json
//   npm run --silent openapi | jq .info
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync, writeFileSync } from "node:fs"
import { resolve } from "node:path"
import { parseArgs } from "node:util"
import { openApiDocument } from "../src/ProfileApi.js"

const { values } = parseArgs({ options: { out: { type: "string" } } })
const text = JSON.stringify(openApiDocument(), null, 2) + "\n"
if (values.out) {
  // npm runs workspace scripts in the package folder; INIT_CWD is where the user typed the command.
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), values.out)
  writeFileSync(out, text)
  process.stderr.write(`wrote ${out}\n`)
} else if (!replaceNpmBanner(text)) {
  process.stdout.write(text)
}

/**
 * `npm run openapi > f.json`: npm has already written its "> rtcp@0.1.0
 * openapi" banner to the file (only --silent stops it, and a script cannot
 * silence the npm that runs it). When stdout is a file holding nothing but
 * that banner, the document replaces it, so the file is JSON. Anything else
 * in the file (`>>` onto a log) is left alone and the document appended.
 */
function replaceNpmBanner(document: string): boolean {
  try {
    if (!fstatSync(1).isFile()) return false
    const fd = openSync("/dev/fd/1", "r")
    let before: string
    try {
      before = readFileSync(fd, "utf8")
    } finally {
      closeSync(fd)
    }
    if (before === "" || !before.split("\n").every((line) => line === "" || line.startsWith("> "))) return false
    ftruncateSync(1, 0)
    writeSync(1, document, 0)
    return true
  } catch {
    return false
  }
}
