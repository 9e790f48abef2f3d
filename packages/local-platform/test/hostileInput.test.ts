/**
 * Requests a fuzzer found answering 500: each must be a 4xx in AEP's shape.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { layer } from "./support/harness.js"
import { raw } from "./support/raw.js"

const deepArray = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
const deepObject = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth)
const jsonHeaders = { "content-type": "application/json" }

const expectTooDeep = (answer: { status: number; body: any }) => {
  expect(answer.status).toBe(400)
  expect(answer.body).toMatchObject({ status: 400, title: "Request body nested too deeply" })
  expect(answer.body.detail).toContain("1000")
}

describe("hostile input never gets a 5xx", () => {
  it.layer(layer())((it) => {
    it.effect("JSON nested 20,000 deep on every body-reading Profile API call answers 400 naming the limit", () =>
      Effect.gen(function* () {
        const calls: ReadonlyArray<readonly ["POST" | "PUT" | "PATCH", string]> = [
          ["POST", "/data/core/ups/access/entities"],
          ["POST", "/data/core/ups/config/mergePolicies"],
          ["PUT", "/data/core/ups/config/mergePolicies/x"],
          ["PATCH", "/data/core/ups/config/mergePolicies/x"],
          ["POST", "/data/core/ups/config/mergePolicies/bulk-get"],
          ["POST", "/data/core/ups/system/jobs"],
          ["POST", "/data/core/ups/export/jobs"],
          ["POST", "/data/core/ca/attributes"],
          ["PATCH", "/data/core/ca/attributes/x"]
        ]
        for (const [method, path] of calls) {
          expectTooDeep(yield* raw(method, path, { body: deepArray(20_000), headers: jsonHeaders }))
          expectTooDeep(yield* raw(method, path, { body: deepObject(20_000), headers: jsonHeaders }))
        }
      }))

    it.effect("a streaming record with a 5,000-deep xdmEntity answers 400", () =>
      Effect.gen(function* () {
        const body = `{"header":{"datasetId":"d"},"body":{"xdmEntity":${deepObject(5_000)}}}`
        expectTooDeep(yield* raw("POST", "/collection/inlet", { body, headers: jsonHeaders }))
      }))

    it.effect("a percent-encoded path is checked as the path it routes to", () =>
      Effect.gen(function* () {
        const multipart = yield* raw("POST", "/data/%63ore/ups/export/jobs", {
          body: "--x\r\n",
          headers: { "content-type": "multipart/form-data; boundary=" }
        })
        expect(multipart.status).toBe(400)
        expect(multipart.body).toMatchObject({ status: 400, detail: "A valid content-type must be specified" })
        const big = yield* raw("POST", "/data/%63ore/ups/export/jobs", { body: " ".repeat(11 * 1024 * 1024), headers: jsonHeaders })
        expect(big.status).toBe(413)
        expect(big.body).toMatchObject({ status: 413, title: "Payload too large" })
      }))

    it.effect("a multipart body with no boundary on a non-Profile route answers 400", () =>
      Effect.gen(function* () {
        const answer = yield* raw("POST", "/ims/token/v3", { body: "--x\r\n", headers: { "content-type": "multipart/form-data; boundary=" }, auth: false })
        expect(answer.status).toBeLessThan(500)
        expect(answer.status).toBeGreaterThanOrEqual(400)
      }))
  })
})
