/**
 * The local profile service (`@rtcp/local-platform`) in this process, on a
 * loopback port: the default upstream when none is given, with the demo
 * data seeded, so the proxy works on a fresh machine.
 */
import { HttpApiBuilder, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { type Faults, ImsTokens, seedDemo, Server } from "@rtcp/local-platform"
import { Effect, Layer, ManagedRuntime } from "effect"
import { createServer } from "node:http"
import * as Log from "./log.js"

export interface LocalPlatformOptions {
  /** Demo customers to seed in sandbox prod; 0 seeds nothing (default 1000). */
  readonly profiles?: number | undefined
  readonly port?: number | undefined
  readonly host?: string | undefined
  readonly directory?: string | undefined
  readonly tokenTtlSeconds?: number | undefined
  readonly faults?: Faults.FaultOptions | undefined
  readonly admin?: boolean | undefined
}

export const demoClient = ImsTokens.demoClient

export const layer = (options: LocalPlatformOptions = {}) => {
  const profiles = options.profiles ?? 1000
  const service = Server.layer({
    directory: options.directory ?? ":memory:",
    tokenTtlSeconds: options.tokenTtlSeconds,
    faults: options.faults,
    admin: options.admin
  })
  return HttpApiBuilder.serve().pipe(
    Layer.provide(
      Layer.effectDiscard(profiles > 0 ? seedDemo({ sandbox: "prod", profiles }).pipe(Effect.asVoid) : Effect.void).pipe(
        Layer.provideMerge(service)
      )
    ),
    Layer.provideMerge(service),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port ?? 0, host: options.host ?? "127.0.0.1" })),
    // Structured like the proxy's own lines.
    Layer.provide(Log.layer)
  )
}

export interface LocalPlatform {
  readonly url: string
  readonly runtime: ManagedRuntime.ManagedRuntime<Layer.Layer.Success<ReturnType<typeof layer>>, unknown>
  readonly close: () => Promise<void>
}

export const start = async (options: LocalPlatformOptions = {}): Promise<LocalPlatform> => {
  const runtime = ManagedRuntime.make(layer(options))
  const address = await runtime.runPromise(HttpServer.addressWith((address) => Effect.succeed(address)))
  const port = address._tag === "TcpAddress" ? address.port : 0
  return { url: `http://127.0.0.1:${port}`, runtime, close: () => runtime.dispose() }
}
