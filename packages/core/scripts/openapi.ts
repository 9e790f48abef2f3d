// Prints the contract as an OpenAPI 3 document, or writes it with --out:
//   npm run openapi -- --out profile.openapi.json
//   npm run --silent openapi > profile.openapi.json
import { writeFileSync } from "node:fs"
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
} else {
  process.stdout.write(text)
}
