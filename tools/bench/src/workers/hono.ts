/** The HTTP ceiling: a Hono hello-world route on @hono/node-server, on a loopback port. */
import { serve } from "@hono/node-server"
import { Hono } from "hono"
import { freePort, serveUntilStopped, workerMain } from "../lib/worker.js"

const app = new Hono()
app.get("/", (c) => c.text("Hello Hono!"))

workerMain<Record<string, never>, void>(async () => {
  const port = await freePort()
  await new Promise<void>((resolve) => serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => resolve()))
  await serveUntilStopped({ url: `http://127.0.0.1:${port}` })
  return new Promise<void>(() => {})
})
