/**
 * A reflecting upstream (a test double on a loopback port): its IMS issues
 * tokens, and every Platform call is answered with what it received
 * (headers and body) echoed back: in a response header, in the body,
 * gzip-compressed when asked, and in error bodies. An IMS that rejects the
 * client repeats the client secret in its `error_description`.
 */
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { gzipSync } from "node:zlib"

export interface ReflectingUpstream {
  readonly url: string
  /** Every token it issued. */
  readonly tokens: Array<string>
  /** Headers of every Platform request received. */
  readonly received: Array<Record<string, string | Array<string> | undefined>>
  imsRejects: boolean
  lookupStatus: number
  readonly close: () => Promise<void>
}

const readAll = async (request: IncomingMessage) => {
  const chunks: Array<Buffer> = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString("utf8")
}

export const startReflectingUpstream = async (clientSecret: string): Promise<ReflectingUpstream> => {
  const state = {
    tokens: [] as Array<string>,
    received: [] as Array<Record<string, string | Array<string> | undefined>>,
    imsRejects: false,
    lookupStatus: 422
  }
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readAll(request)
      const url = new URL(request.url ?? "/", "http://reflect")
      if (url.pathname === "/ims/token/v3") {
        if (state.imsRejects) {
          response.writeHead(400, { "content-type": "application/json" })
          response.end(JSON.stringify({ error: "invalid_client", error_description: `client_secret ${clientSecret} is not valid for this org` }))
          return
        }
        const token = `reflected-token-${state.tokens.length}-${Math.random().toString(36).slice(2)}-0123456789`
        state.tokens.push(token)
        response.writeHead(200, { "content-type": "application/json" })
        response.end(JSON.stringify({ access_token: token, token_type: "bearer", expires_in: 86_399 }))
        return
      }
      state.received.push({ ...request.headers })
      const echo = JSON.stringify({ youSent: { method: request.method, path: url.pathname, headers: request.headers, body } })
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-echo-authorization": String(request.headers.authorization ?? ""),
        "www-authenticate": `Bearer realm="reflect", token="${String(request.headers.authorization ?? "")}"`
      }
      if (url.pathname === "/data/core/ups/access/entities") {
        response.writeHead(state.lookupStatus, headers)
        response.end(echo)
        return
      }
      if (url.searchParams.get("gzip") === "1") {
        const zipped = gzipSync(Buffer.from(echo))
        if (url.searchParams.get("chunked") === "1") {
          // No content-length: the proxy streams it.
          response.writeHead(200, { ...headers, "content-encoding": "gzip", "transfer-encoding": "chunked" })
          response.write(zipped.subarray(0, 10))
          setTimeout(() => response.end(zipped.subarray(10)), 20)
          return
        }
        response.writeHead(200, { ...headers, "content-encoding": "gzip", "content-length": String(zipped.byteLength) })
        response.end(zipped)
        return
      }
      response.writeHead(url.searchParams.get("status") === null ? 200 : Number(url.searchParams.get("status")), headers)
      response.end(echo)
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }) as ReflectingUpstream
}
