/**
 * Servers for load tests, each in its own process: the local profile service
 * over a seeded store, and the HTTP ceiling (Hono hello world). A proxy
 * benchmark starts its proxy the same way and reuses these.
 */
import type { Context } from "./benchmark.js"
import { type Running, startWorker } from "./child.js"
import type { ServeArgs, ServeInfo } from "../workers/serve.js"

export interface Resources {
  readonly maxRssMb: number
  readonly cpuMs: number
}

/** What every Profile API call to the local service carries. */
export const platformHeaders = (token: string, sandbox = "prod"): Record<string, string> => ({
  authorization: `Bearer ${token}`,
  "x-api-key": "rtcp-local",
  "x-gw-ims-org-id": "RTCPLOCAL@AdobeOrg",
  "x-sandbox-name": sandbox
})

export const startService = (context: Context, args: ServeArgs, nodeArgs: ReadonlyArray<string> = []) =>
  startWorker<ServeInfo, Resources>("serve", args, { timeoutMs: 120_000, log: context.log, nodeArgs })

export const startHono = (context: Context): Promise<Running<{ readonly url: string }, Resources>> =>
  startWorker("hono", {}, { timeoutMs: 60_000, log: context.log })

/** Runs `body` with a server, stopping it afterwards whatever happens. */
export const withServer = async <I, R, A>(start: Promise<Running<I, R>>, body: (info: I) => Promise<A>) => {
  const server = await start
  try {
    const value = await body(server.info)
    return { value, resources: await server.stop() }
  } catch (error) {
    await server.stop()
    throw error
  }
}

/** The lookup paths of the Profile API for an identity. */
export const profilePath = (identity: { readonly namespace: string; readonly id: string }) =>
  `/data/core/ups/access/entities?schema.name=_xdm.context.profile&entityId=${encodeURIComponent(identity.id)}&entityIdNS=${identity.namespace}`

export const eventsPath = (identity: { readonly namespace: string; readonly id: string }) =>
  `/data/core/ups/access/entities?schema.name=_xdm.context.experienceevent&relatedSchema.name=_xdm.context.profile` +
  `&relatedEntityId=${encodeURIComponent(identity.id)}&relatedEntityIdNS=${identity.namespace}`

/** Hello world on the service's own HTTP stack (@effect/platform HttpApi): the framework's share of the gap to Hono. */
export const startEffectHello = (context: Context): Promise<Running<{ readonly url: string }, Resources>> =>
  startWorker("effect-hello", {}, { timeoutMs: 60_000, log: context.log })
