/** Adobe's documented example bodies (see test/fixtures/README.md). */
import { readFileSync } from "node:fs"

const cache = new Map<string, unknown>()

/** A fixture parsed from JSON, e.g. `fixture("entities/get-profile.json")`. A fresh copy each call. */
export const fixture = <A = any>(path: string): A => {
  if (!cache.has(path)) {
    cache.set(path, JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), "utf8")))
  }
  return structuredClone(cache.get(path)) as A
}
