/**
 * `POST /ims/token/v3`, IMS-compatible, so an AEP client that fetches its
 * own token (OAuth server-to-server) works unchanged against the proxy:
 * `client_id` is the key's name and `client_secret` the key; the "token"
 * issued is the key itself, which the client then sends as
 * `Authorization: Bearer`. No Adobe token is involved or revealed.
 */
import { Hono } from "hono"
import type { ProxyEnv } from "../env.js"
import type { KeyStore } from "../keys.js"
import type { ProxyMetrics } from "../metrics.js"

export const TOKEN_PATH = "/ims/token/v3"

export interface TokenRoutesOptions {
  readonly keys: KeyStore
  readonly metrics?: ProxyMetrics | undefined
  /** `expires_in` of the answer, seconds (default 24 h, as IMS). */
  readonly expiresIn?: number
}

export const tokenRoutes = ({ expiresIn = 86_400, keys, metrics }: TokenRoutesOptions) => {
  const app = new Hono<ProxyEnv>()
  app.post(TOKEN_PATH, async (c) => {
    const refuse = (status: 400 | 401, error: string, description: string) =>
      c.json({ error, error_description: description }, status, { "cache-control": "no-store" })
    const type = c.req.header("content-type") ?? ""
    if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
      return refuse(400, "invalid_request", "send application/x-www-form-urlencoded")
    }
    const form = new URLSearchParams(await c.req.text())
    if (form.get("grant_type") !== "client_credentials") {
      return refuse(400, "unsupported_grant_type", "only client_credentials is supported")
    }
    const secret = form.get("client_secret") ?? ""
    const caller = secret === "" ? undefined : keys.authenticate(secret)
    if (caller === undefined || caller.name !== form.get("client_id")) {
      metrics?.authFailures.inc({ reason: secret === "" ? "missing" : "invalid" })
      return refuse(401, "invalid_client", "client_id must be the key's name and client_secret the key")
    }
    c.set("caller", caller)
    return c.json({ access_token: secret, token_type: "bearer", expires_in: expiresIn }, 200, { "cache-control": "no-store" })
  })
  return app
}
