/**
 * kill -9 while a batch is processing, then restart on the same data folder:
 * the batch must end (success, or failed with a reason), with all of its
 * records or none.
 */
import { describe, expect, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { platform, startService } from "./support/process.js"

const RECORDS = 60_000

const record = (i: number) =>
  JSON.stringify({
    _id: `r${i}`,
    identityMap: { CRMID: [{ id: `crm-${i}`, primary: true }], Email: [{ id: `p${i}@example.com` }] },
    person: { name: { firstName: `First${i}`, lastName: "Doe" } }
  })

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

describe("a batch killed while processing", () => {
  it("is finished after a restart, with all of its records or none", { timeout: 180_000 }, async () => {
    const directory = mkdtempSync(join(tmpdir(), "rtcp-crash-"))
    try {
      const first = await startService(["--data", directory])
      const call = await platform(first.baseUrl)
      const created = await call("POST", "/data/foundation/catalog/dataSets", {
        name: "CRM",
        schemaRef: { id: "https://ns.adobe.com/xdm/context/profile", contentType: "application/vnd.adobe.xed+json;version=1" },
        tags: { unifiedProfile: ["enabled:true"] }
      })
      const datasetId = String(created.body[0]).replace("@/dataSets/", "")
      const batch = await call("POST", "/data/foundation/import/batches", { datasetId, inputFormat: { format: "json" } })
      const batchId = batch.body.id as string
      const content = Array.from({ length: RECORDS }, (_, i) => record(i)).join("\n")
      const upload = await call("PUT", `/data/foundation/import/batches/${batchId}/datasets/${datasetId}/files/crm.json`, content, "application/octet-stream")
      expect(upload.status, first.output()).toBe(200)
      expect((await call("POST", `/data/foundation/import/batches/${batchId}?action=COMPLETE`)).status).toBe(200)
      // Processing holds the event loop (SQLite is synchronous), so nothing
      // can be asked mid-way: kill it a moment in (60,000 records take seconds).
      await sleep(800)
      first.child.kill("SIGKILL")
      await first.exited

      const second = await startService(["--data", directory])
      try {
        const again = await platform(second.baseUrl)
        let status = "processing"
        let answer: any
        for (let i = 0; i < 600 && status === "processing"; i++) {
          answer = (await again("GET", `/data/foundation/catalog/batches/${batchId}`)).body[batchId]
          status = answer.status
          if (status === "processing") await sleep(200)
        }
        // It was caught mid-processing (else this test proves nothing).
        expect(second.output()).toContain(`resuming batch ${batchId}`)
        expect(["success", "failed"]).toContain(status)
        const lookups = await again("POST", "/data/core/ups/access/entities", {
          schema: { name: "_xdm.context.profile" },
          identities: [0, RECORDS / 2, RECORDS - 1].map((i) => ({ entityId: `crm-${i}`, entityIdNS: { code: "CRMID" } }))
        })
        const found = Object.keys(lookups.body).length
        if (status === "success") {
          expect(answer.metrics.recordsWritten).toBe(RECORDS)
          expect(found).toBe(3)
        } else {
          expect(answer.errors.length).toBeGreaterThan(0)
          expect(found).toBe(0)
        }
      } finally {
        second.child.kill("SIGTERM")
        await second.exited
      }
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  })
})
