/**
 * What a caller may do: which sandbox a request runs in, and whether it
 * writes. Both are decided here from the key's entry, never from anything
 * else the caller sends.
 */
import type { Context } from "hono"
import type { ProxyEnv } from "./env.js"
import { ProxyError } from "./errors.js"
import { allowsSandbox, type Caller } from "./keys.js"

const SANDBOX = /^[a-z0-9][a-z0-9-]{0,63}$/

/**
 * The sandbox of this request: `x-sandbox-name` if the caller's key allows
 * it, else (no header) the proxy's default when allowed, else the key's
 * first sandbox. A malformed value (several values, spaces, upper case,
 * control characters) is refused rather than guessed at; `x-sandbox-id`
 * is never forwarded, so it cannot pick another sandbox.
 */
export const resolveSandbox = (c: Context<ProxyEnv>, defaultSandbox: string): string => {
  const sandbox = sandboxOf(c.get("caller") as Caller, c.req.header("x-sandbox-name"), defaultSandbox)
  c.get("audit").sandbox = sandbox
  return sandbox
}

/** The same decision from the caller and its `x-sandbox-name` (undefined: none sent). */
export const sandboxOf = (caller: Caller, given: string | undefined, defaultSandbox: string): string => {
  let sandbox: string
  if (given === undefined) {
    sandbox = allowsSandbox(caller, defaultSandbox) ? defaultSandbox : caller.sandboxes[0]!
  } else if (!SANDBOX.test(given)) {
    throw new ProxyError(400, "bad-sandbox", "Invalid x-sandbox-name", "x-sandbox-name must be one lower-case sandbox name (letters, digits, \"-\")")
  } else {
    sandbox = given
  }
  if (!allowsSandbox(caller, sandbox)) {
    throw new ProxyError(403, "forbidden-sandbox", "Sandbox not allowed", `this key may not use sandbox "${sandbox}"`)
  }
  return sandbox
}

const READ_ONLY_POSTS = [
  /^\/data\/core\/ups\/access\/entities\/?$/,
  /^\/data\/core\/ups\/config\/mergePolicies\/bulk-get\/?$/,
  /^\/v1\/profiles:batchGet$/
]

/** Whether a request only reads: GET, HEAD, and the POSTs that only read. */
export const isRead = (method: string, path: string): boolean => {
  const m = method.toUpperCase()
  if (m === "GET" || m === "HEAD") return true
  return m === "POST" && READ_ONLY_POSTS.some((pattern) => pattern.test(path))
}

/** Refuses a write from a read-only key. */
export const requireAccess = (c: Context<ProxyEnv>, path: string): void => {
  const caller = c.get("caller") as Caller
  if (caller.access !== "write" && !isRead(c.req.method, path)) {
    throw new ProxyError(403, "read-only-key", "Read-only key", `this key may only read; ${c.req.method} needs a read-write key`)
  }
}
