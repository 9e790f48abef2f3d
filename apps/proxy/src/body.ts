/**
 * Reading a caller's request body: what the proxy refuses before anything
 * goes upstream, and a client that leaves mid-upload.
 *
 * - JSON nested deeper than `MAX_JSON_DEPTH` is a 400 (`json-too-deep`):
 *   parsing or decoding it would exhaust the stack (a 500 before), and
 *   Adobe would refuse it anyway, after retries.
 * - An upload the client abandons (the connection closes mid-body) is the
 *   client's doing: `RequestAborted`, recorded as 499, never a 5xx.
 */
import type { Context } from "hono"
import type { ProxyEnv } from "./env.js"
import { isClientAbort, ProxyError, RequestAborted } from "./errors.js"

/** Deeper than any Profile API payload (XDM profiles nest a few levels; merge policies fewer). */
export const MAX_JSON_DEPTH = 64

const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** The deepest nesting of arrays and objects in JSON text (strings skipped); stops counting past `limit`. */
export const jsonDepth = (bytes: Uint8Array, limit = Infinity): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!
    if (inString) {
      if (byte === BACKSLASH) i++
      else if (byte === QUOTE) inString = false
      continue
    }
    if (byte === QUOTE) inString = true
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth++
      if (depth > deepest) {
        deepest = depth
        if (deepest > limit) return deepest
      }
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--
  }
  return deepest
}

export const tooDeep = () =>
  new ProxyError(
    400,
    "json-too-deep",
    "JSON nested too deeply",
    `the body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep; no Profile API request needs that many`
  )

/** The body's bytes; refuses JSON nested too deeply (whatever the content type says: Adobe would parse it). */
export const readBody = async (c: Context<ProxyEnv>): Promise<Uint8Array> => {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await c.req.arrayBuffer())
  } catch (error) {
    if (error instanceof ProxyError) throw error
    if (error instanceof Error && error.name === "BodyLimitError") throw error
    if (isClientAbort(error) || c.get("signal")?.aborted === true) throw new RequestAborted()
    throw new ProxyError(400, "bad-request", "Unreadable body", "the request body could not be read")
  }
  if (jsonDepth(bytes, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw tooDeep()
  return bytes
}

/** The body as JSON, or a 400. */
export const readJson = async (c: Context<ProxyEnv>, what: string): Promise<unknown> => {
  const bytes = await readBody(c)
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown
  } catch {
    throw new ProxyError(400, "bad-request", "Invalid JSON body", `the body must be a JSON ${what}`)
  }
}
