/**
 * `npm run keys -w @rtcp/dashboard`: writes the key list generated from the
 * keymap into README.md, between `<!-- keys:start -->` and `<!-- keys:end -->`.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { markdown } from "../src/keymap.js"

const file = new URL("../README.md", import.meta.url)
const readme = readFileSync(file, "utf8")
const [head, rest] = readme.split("<!-- keys:start -->")
const tail = rest?.split("<!-- keys:end -->")[1]
if (head === undefined || tail === undefined) throw new Error("README.md has no <!-- keys:start --> … <!-- keys:end --> block")
writeFileSync(file, `${head}<!-- keys:start -->\n\n${markdown()}\n\n<!-- keys:end -->${tail}`)
