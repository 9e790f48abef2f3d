/**
 * Tracing: with an OTLP endpoint, spans for the caller's request, the
 * cache, the batch and the upstream calls reach the collector (a test
 * double on a loopback port); our trace context never reaches the upstream.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { AccessToken } from "@rtcp/core"
import { Redacted } from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createApp } from "../src/app.js"
import { staticKeyStore } from "../src/keys.js"
import { makeMetrics } from "../src/metrics.js"
import * as Tracing from "../src/tracing.js"
import * as Upstream from "../src/upstream.js"
import { ADOBE_TOKEN, callers, fakeHttpClient, fastRetries, keyFile, settings } from "./support/fake.js"
import { profileApi } from "./support/profiles.js"

describe("OpenTelemetry export", () => {
  let collector: Server
  let url: string
  const exports: Array<unknown> = []
  beforeAll(async () => {
    collector = createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        exports.push(JSON.parse(Buffer.concat(chunks).toString("utf8")))
        response.writeHead(200, { "content-type": "application/json" })
        response.end("{}")
      })
    })
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve))
    url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`
  })
  afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())))

  it("reads the standard variables", () => {
    expect(Tracing.optionsFromEnv({})).toBeUndefined()
    expect(Tracing.optionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/", OTEL_EXPORTER_OTLP_HEADERS: "a=b,c=d%20e" })).toEqual({
      url: "http://c:4318/v1/traces",
      serviceName: undefined,
      headers: { a: "b", c: "d e" }
    })
  })

  it("exports spans for the request, the cache, the batch and the upstream call; no trace header goes upstream", async () => {
    const fake = fakeHttpClient(profileApi)
    const metrics = makeMetrics()
    const upstream = Upstream.make({
      credentials: { settings, token: AccessToken.layerStatic(Redacted.make(ADOBE_TOKEN)), kind: "aep" },
      httpClient: fake.layer,
      metrics,
      retryPolicy: fastRetries,
      batchWindow: "1 millis",
      tracing: Tracing.layer({ url, exportInterval: "50 millis" }, NodeHttpClient.layerUndici)
    })
    const app = createApp({ upstream, keys: staticKeyStore(keyFile), metrics, auditSink: () => undefined })
    const headers = { "x-api-key": callers.writer.key, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", b3: "80f198ee56343ba8-e457b5a2e4d86bd1-1" }
    expect((await app.request("/v1/profiles/email/jane@example.com", { headers })).status).toBe(200)
    expect((await app.request("/data/core/ups/config/mergePolicies", { headers })).status).toBe(200)
    await upstream.dispose()
    const names = new Set<string>()
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect)
      else if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>
        if (typeof record.name === "string" && "spanId" in record) names.add(record.name)
        Object.values(record).forEach(collect)
      }
    }
    collect(exports)
    for (const name of ["proxy.request", "lookup.cache", "lookup.batch", "ProfileClient.getProfiles", "upstream.forward"]) {
      expect([...names], name).toContain(name)
    }
    expect(fake.requests.length).toBeGreaterThan(0)
    for (const request of fake.requests) {
      for (const header of ["traceparent", "b3", "tracestate"]) expect(request.headers[header], header).toBeUndefined()
    }
  })
})
