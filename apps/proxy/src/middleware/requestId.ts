/**
 * Request id: the caller's `x-request-id` when it is a plain token, else a
 * fresh UUID; echoed on the answer and written on the audit line.
 */
import { randomUUID } from "node:crypto"
import type { MiddlewareHandler } from "hono"
import type { ProxyEnv } from "../env.js"

export interface RequestIdOptions {
  readonly headerName?: string
  readonly limitLength?: number
  readonly generator?: () => string
}

export const requestId = ({
  headerName = "x-request-id",
  limitLength = 128,
  generator = randomUUID
}: RequestIdOptions = {}): MiddlewareHandler<ProxyEnv> =>
  async function requestId(c, next) {
    const given = c.req.header(headerName)
    // Only letters, digits, "_" and "-": nothing that could split a log line or a header.
    const id = given !== undefined && given.length <= limitLength && /^[\w-]+$/.test(given) ? given : generator()
    c.set("requestId", id)
    c.header(headerName, id)
    await next()
  }
