/**
 * A second reference point: a hello-world endpoint on the HTTP stack the
 * service is built on (@effect/platform `HttpApiBuilder` on Node's http
 * server), so the gap to Hono splits into framework and service work.
 */
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { createServer } from "node:http"
import { freePort, serveUntilStopped, workerMain } from "../lib/worker.js"

const Api = HttpApi.make("hello").add(HttpApiGroup.make("hello").add(HttpApiEndpoint.get("hello", "/").addSuccess(Schema.String)))
const HelloLive = HttpApiBuilder.group(Api, "hello", (handlers) => handlers.handle("hello", () => Effect.succeed("Hello Effect!")))

workerMain<Record<string, never>, void>(async () => {
  const port = await freePort()
  const server = HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.api(Api).pipe(Layer.provide(HelloLive))),
    Layer.provide(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" }))
  )
  Effect.runFork(Layer.launch(server))
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) break
    } catch {
      if (attempt > 600) throw new Error("the Effect hello world did not start")
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await serveUntilStopped({ url: `http://127.0.0.1:${port}` })
  return new Promise<void>(() => {})
})
