import { HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Identity, ProfileClient } from "@rtcp/core"
import { ComputedAttributes } from "@rtcp/profile-store"
import { Chunk, Duration, Effect, Layer, Stream, TestClock } from "effect"
import { readFileSync } from "node:fs"
import { authHeaders, ingest, layer, orgId } from "./support/harness.js"

/** A service of its own per block: blocks built from the same layer would share one store. */
const fresh = () => Layer.fresh(layer())

const HOUR = 3_600_000
const DAY = 24 * HOUR
const NOW = Date.UTC(2025, 5, 18, 12, 0, 0)
const TENANT = "rtcplocal"

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../packages/core/test/fixtures/computed-attributes/${name}`, import.meta.url), "utf8"))

const SUM_7D =
  "xEvent[(commerce.checkouts.value > 0.0 or commerce.purchases.value > 1.0 or commerce.order.priceTotal >= 10.0) and (timestamp occurs <= 7 days before now)].sum(commerce.order.priceTotal)"

const input = (name: string, value: string, extra: Record<string, unknown> = {}) => ({
  name,
  displayName: `${name} display`,
  description: `${name} description`,
  expression: { type: "PQL", format: "pql/text", value },
  duration: { count: 7, unit: "DAYS" as const },
  ...extra
})

/** A raw call, for what the core client refuses to send. */
const send = (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, body?: unknown) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(url).pipe(HttpClientRequest.setHeaders(yield* authHeaders()))
    if (body !== undefined) {
      request = HttpClientRequest.bodyText(request, typeof body === "string" ? body : JSON.stringify(body), "application/json")
    }
    const response = yield* client.execute(request)
    return { status: response.status, contentType: response.headers["content-type"] ?? "", body: (yield* response.json) as any }
  }).pipe(Effect.scoped, Effect.orDie)

describe("computed attributes through the core client", () => {
  it.layer(fresh())((it) => {
    it.effect("create, get, patch and delete with AEP's shapes and lifecycle", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        const client = yield* ProfileClient.ProfileClient
        // Adobe's create request, with the expression of its get example (the request's own is cut short).
        const request = { ...fixture("create-request.json"), expression: fixture("get.json").expression }
        const created = yield* client.createComputedAttribute(request)
        expect(created).toMatchObject({
          type: "ComputedAttribute",
          name: "testing",
          displayName: "Sample Display Name",
          description: "Sample Description",
          imsOrgId: orgId,
          sandbox: { sandboxName: "prod", type: "production", isDefault: true, default: true },
          path: `${TENANT}/ComputedAttributes`,
          positionPath: [TENANT, "ComputedAttributes"],
          keepCurrent: false,
          expression: { type: "PQL", format: "pql/text", value: SUM_7D },
          mergeFunction: { value: "SUM" },
          status: "DRAFT",
          schema: { name: "_xdm.context.profile" },
          duration: { count: 4, unit: "DAYS" },
          returnSchema: { "meta:xdmType": "number" },
          definedOn: [{ "meta:resourceType": "unions", "meta:containerId": "tenant", $ref: "https://ns.adobe.com/xdm/context/profile__union" }],
          lastEvaluationTs: "",
          createEpoch: NOW,
          updateEpoch: NOW
        })
        expect(created.id).toMatch(/^[0-9a-f-]{36}$/)
        expect(typeof (created.sandbox as any).sandboxId).toBe("string")
        expect(created.createdBy).toBeTruthy()
        expect(yield* client.getComputedAttribute(created.id)).toEqual(created)

        // Adobe's patch example publishes the draft.
        yield* TestClock.adjust(Duration.seconds(2))
        const published = yield* client.patchComputedAttribute(created.id, fixture("patch-request.json"))
        expect(published).toMatchObject({ status: "NEW", mergeFunction: { value: "SUM" }, updateEpoch: NOW + 2_000, createEpoch: NOW })

        // Published: not deletable, only disabled (display name and description still editable while NEW).
        const notDeleted = yield* Effect.flip(client.deleteComputedAttribute(created.id))
        expect(notDeleted._tag).toBe("Unprocessable")
        expect(notDeleted.status).toBe(422)
        expect(notDeleted.message).toMatch(/only DRAFT computed attributes can be deleted/)
        const renamed = yield* client.patchComputedAttribute(created.id, { displayName: "Spend" })
        expect(renamed.displayName).toBe("Spend")
        const forbidden = yield* Effect.flip(client.patchComputedAttribute(created.id, { name: "testing123" }))
        expect(forbidden._tag).toBe("BadRequest")
        expect(forbidden.message).toMatch(/name can only be changed while the computed attribute is a DRAFT/)

        // The evaluation job (debounced after publishing) runs once its delay passes.
        yield* TestClock.adjust(ComputedAttributes.DEBOUNCE)
        const store = yield* ComputedAttributes.ComputedAttributes
        yield* store.evaluateNow("prod")
        const processed = yield* client.getComputedAttribute(created.id)
        expect(processed.status).toBe("PROCESSED")
        expect(processed.lastEvaluationTs).toMatch(/^2025-06-18T12:00:0\d\.\d{3}$/)

        const disabled = yield* client.patchComputedAttribute(created.id, { status: "DISABLED" })
        expect(disabled.status).toBe("DISABLED")

        // A draft is deleted with 202 and answered.
        const draft = yield* client.createComputedAttribute(input("toDelete", "xEvent.count()"))
        const deleted = yield* client.deleteComputedAttribute(draft.id)
        expect(deleted).toEqual(draft)
        expect((yield* Effect.flip(client.getComputedAttribute(draft.id)))._tag).toBe("NotFound")
      })
    )
  })

  it.layer(fresh())((it) => {
    it.effect("list: property filters, sort and paging", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        const client = yield* ProfileClient.ProfileClient
        const store = yield* ComputedAttributes.ComputedAttributes
        const specs: ReadonlyArray<[string, string]> = [
          ["totalSpend", "xEvent.sum(commerce.order.priceTotal)"],
          ["orderCount", 'xEvent[eventType = "commerce.purchases"].count()'],
          ["lastProduct", 'xEvent.topN(timestamp, 1).map({"timestamp": timestamp, "value": productListItems.SKU}).head()'],
          ["maxOrder", "xEvent.max(commerce.order.priceTotal)"],
          ["minOrder", "xEvent.min(commerce.order.priceTotal)"],
          ["spendLastDay", "xEvent[timestamp occurs <= 1 days before now].sum(commerce.order.priceTotal)"]
        ]
        const ids: Record<string, string> = {}
        for (const [name, value] of specs) {
          ids[name] = (yield* client.createComputedAttribute(input(name, value))).id
          yield* TestClock.adjust(Duration.seconds(1))
        }
        // created at NOW+0…5 s; then published and evaluated, one disabled
        for (const name of ["orderCount", "lastProduct", "maxOrder"]) {
          yield* client.patchComputedAttribute(ids[name]!, { status: "NEW" })
          yield* TestClock.adjust(Duration.seconds(1))
        }
        yield* store.evaluateNow("prod")
        yield* client.patchComputedAttribute(ids.maxOrder!, { status: "DISABLED" })
        yield* store.evaluateNow("prod")
        // updateEpoch: totalSpend 0, minOrder 4, spendLastDay 5, orderCount 6, lastProduct 7, maxOrder 9 (s after NOW)

        const names = (query: Parameters<typeof client.listComputedAttributes>[0]) =>
          Effect.map(client.listComputedAttributes(query), (page) => page.computedAttributes.map((a) => a.name))

        expect(yield* names({})).toEqual(["maxOrder", "lastProduct", "orderCount", "spendLastDay", "minOrder", "totalSpend"])
        expect(yield* names({ sortBy: "name" })).toEqual(["lastProduct", "maxOrder", "minOrder", "orderCount", "spendLastDay", "totalSpend"])
        expect(yield* names({ sortBy: "-name" })).toEqual(["totalSpend", "spendLastDay", "orderCount", "minOrder", "maxOrder", "lastProduct"])
        expect(yield* names({ sortBy: "createEpoch" })).toEqual(specs.map(([name]) => name))
        expect(yield* names({ sortBy: "status", property: "status!=DRAFT" })).toEqual(["maxOrder", "lastProduct", "orderCount"].sort((a, b) =>
          // DISABLED < PROCESSED, then by id
          a === "maxOrder" ? -1 : b === "maxOrder" ? 1 : ids[a]! < ids[b]! ? -1 : 1
        ))
        expect(yield* names({ sortBy: "name", property: "name=TOTALSPEND" })).toEqual(["totalSpend"])
        expect(yield* names({ sortBy: "name", property: "name=contains(spend,order)" })).toEqual([
          "maxOrder",
          "minOrder",
          "orderCount",
          "spendLastDay",
          "totalSpend"
        ])
        expect(yield* names({ sortBy: "name", property: "name=!contains(spend,order)" })).toEqual(["lastProduct"])
        expect(yield* names({ sortBy: "name", property: "status=contains(processed,disabled)" })).toEqual(["lastProduct", "maxOrder", "orderCount"])
        expect(yield* names({ sortBy: "name", property: ["mergeFunction.value=SUM", "name!=totalSpend"] })).toEqual(["spendLastDay"])
        expect(yield* names({ sortBy: "name", property: "mergePolicy.value=most_recent" })).toEqual(["lastProduct"])
        expect(yield* names({ sortBy: "name", property: `updateEpoch>=${NOW + 6_000}` })).toEqual(["lastProduct", "maxOrder", "orderCount"])
        expect(yield* names({ sortBy: "name", property: [`createEpoch>=${NOW + 1_000}`, `createdEpoch<=${NOW + 2_000}`] })).toEqual([
          "lastProduct",
          "orderCount"
        ])
        // the older documented filters
        expect(yield* names({ sortBy: "name", status: "draft" })).toEqual(["minOrder", "spendLastDay", "totalSpend"])
        expect(yield* names({ sortBy: "name", state: "published" })).toEqual(["lastProduct", "maxOrder", "orderCount"])

        // paging
        const first = yield* client.listComputedAttributes({ limit: 2 })
        expect(first._page).toEqual({ offset: 0, limit: 2, count: 2, totalCount: 6 })
        expect(first._links).toEqual({
          self: { href: "/attributes?offset=0&limit=2" },
          next: { href: "/attributes?offset=2&limit=2" },
          last: { href: "/attributes?offset=4&limit=2" }
        })
        const last = yield* client.listComputedAttributes({ limit: 2, offset: 4, sortBy: "name" })
        expect(last.computedAttributes.map((a) => a.name)).toEqual(["spendLastDay", "totalSpend"])
        expect(last._page).toEqual({ offset: 4, limit: 2, count: 2, totalCount: 6 })
        expect(last._links?.next).toBeUndefined()
        expect(last._links?.prev).toEqual({ href: "/attributes?offset=2&limit=2&sortBy=name" })
        expect((yield* client.listComputedAttributes({ offset: 6 })).computedAttributes).toEqual([])
        expect((yield* client.listComputedAttributes({}))._page).toEqual({ offset: 0, limit: 20, count: 6, totalCount: 6 })
        // the OpenAPI document's list key is there too
        const raw = yield* send("GET", "/data/core/ca/attributes?limit=1")
        expect(raw.body.children).toEqual(raw.body.computedAttributes)

        // the core's stream follows the pages
        const streamed = yield* Stream.runCollect(client.computedAttributes({ limit: 4, sortBy: "name" }))
        expect(Chunk.toReadonlyArray(streamed).map((a) => a.name)).toEqual(["lastProduct", "maxOrder", "minOrder", "orderCount", "spendLastDay", "totalSpend"])
      })
    )
  })

  it.layer(fresh())((it) => {
    it.effect("bad input to every endpoint: 4xx with AEP's body, and nothing changes", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        const client = yield* ProfileClient.ProfileClient
        const store = yield* ComputedAttributes.ComputedAttributes
        const draft = yield* client.createComputedAttribute(input("spend", "xEvent.sum(commerce.order.priceTotal)"))
        const live = yield* client.createComputedAttribute(input("orders", "xEvent.count()", { status: "NEW" }))
        yield* store.evaluateNow("prod")
        const snapshot = send("GET", "/data/core/ca/attributes?limit=40")
        const before = (yield* snapshot).body

        const base = "/data/core/ca/attributes"
        const cases: ReadonlyArray<[string, "GET" | "POST" | "PATCH" | "DELETE", string, unknown, number, RegExp]> = [
          ["list limit too small", "GET", `${base}?limit=0`, undefined, 400, /limit must be a whole number from 1 to 40/],
          ["list limit too large", "GET", `${base}?limit=41`, undefined, 400, /limit must be a whole number from 1 to 40/],
          ["list limit not a number", "GET", `${base}?limit=many`, undefined, 400, /limit/],
          ["list negative offset", "GET", `${base}?offset=-1`, undefined, 400, /offset must be a whole number/],
          ["list unknown sort", "GET", `${base}?sortBy=colour`, undefined, 400, /sortBy "colour" is not supported/],
          ["list unknown property", "GET", `${base}?property=colour%3Dred`, undefined, 400, /cannot filter on colour/],
          ["list bad epoch", "GET", `${base}?property=updateEpoch%3E%3Dsoon`, undefined, 400, /needs an epoch in milliseconds/],
          ["list unknown status", "GET", `${base}?status=archived`, undefined, 400, /status "archived" is not one of/],
          ["list unknown state", "GET", `${base}?state=live`, undefined, 400, /state must be published or draft/],
          ["create with a bad name", "POST", base, input("total spend", "xEvent.count()"), 400, /may contain only letters and digits/],
          ["create a duplicate name", "POST", base, input("SPEND", "xEvent.count()"), 400, /^Function with the same name already exists/],
          [
            "create with Adobe's truncated example expression",
            "POST",
            base,
            fixture("create-request.json"),
            400,
            /not a supported computed attribute expression: expected "\]" to close the event filter, found the end of the expression/
          ],
          [
            "create with an unsupported function",
            "POST",
            base,
            input("p90", "xEvent.percentile(commerce.order.priceTotal, 90)"),
            400,
            /function percentile is not supported; use sum, count, min, max or most recent/
          ],
          ["create with a long lookback", "POST", base, input("x", "xEvent.count()", { duration: { count: 8, unit: "DAYS" } }), 400, /from 1 to 7 for DAYS/],
          ["create with an unknown unit", "POST", base, input("x", "xEvent.count()", { duration: { count: 1, unit: "YEARS" } }), 400, /unit/],
          ["create without displayName", "POST", base, { ...input("x", "xEvent.count()"), displayName: undefined }, 400, /displayName/],
          ["create with a wrong expression type", "POST", base, input("x", "xEvent.count()", { expression: { type: "SQL", format: "pql/text", value: "xEvent.count()" } }), 400, /expression.type must be "PQL"/],
          ["create as processed", "POST", base, input("x", "xEvent.count()", { status: "PROCESSED" }), 400, /status/],
          ["create with broken JSON", "POST", base, "{", 400, /./],
          ["get an unknown id", "GET", `${base}/nope`, undefined, 404, /Computed attribute "nope" does not exist in sandbox "prod"/],
          ["patch an unknown id", "PATCH", `${base}/nope`, { status: "NEW" }, 404, /does not exist/],
          ["patch a system field", "PATCH", `${base}/${draft.id}`, { mergeFunction: { value: "MAX" } }, 400, /mergeFunction is a system field and cannot be changed/],
          ["patch nothing", "PATCH", `${base}/${draft.id}`, {}, 400, /the patch is empty/],
          ["patch a draft to processed", "PATCH", `${base}/${draft.id}`, { status: "PROCESSED" }, 400, /can only be published \(status NEW\)/],
          ["patch a bad expression", "PATCH", `${base}/${draft.id}`, { expression: { type: "PQL", format: "pql/text", value: "xEvent.avg(a)" } }, 400, /function avg is not supported/],
          ["patch a published definition", "PATCH", `${base}/${live.id}`, { expression: { type: "PQL", format: "pql/text", value: "xEvent.max(a)" } }, 400, /expression can only be changed while the computed attribute is a DRAFT; it is PROCESSED/],
          ["patch a published status back", "PATCH", `${base}/${live.id}`, { status: "DRAFT" }, 400, /can only be disabled/],
          ["delete an unknown id", "DELETE", `${base}/nope`, undefined, 404, /does not exist/],
          ["delete a published attribute", "DELETE", `${base}/${live.id}`, undefined, 422, /"orders" is PROCESSED: only DRAFT computed attributes can be deleted/]
        ]
        for (const [what, method, url, body, status, detail] of cases) {
          const answer = yield* send(method, url, body)
          expect({ what, status: answer.status }).toEqual({ what, status })
          expect(answer.contentType, what).toMatch(/^application\/problem\+json/)
          expect(answer.body.status, what).toBe(status)
          expect(answer.body.type, what).toMatch(/^https:\/\/ns\.adobe\.com\/aep\/errors\//)
          expect(typeof answer.body.title, what).toBe("string")
          expect(answer.body.detail, what).toMatch(detail)
          expect(typeof answer.body.requestId, what).toBe("string")
        }
        expect((yield* snapshot).body).toEqual(before)
        expect(before.computedAttributes).toHaveLength(2)
      })
    )
  })

  it.layer(fresh())((it) => {
    it.effect("lookups with withCA show the values under _<tenant>.SystemComputedAttributes", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        yield* ingest({ name: "CRM", xdmClass: "profile" }, [
          { _id: "p1", identityMap: { CRMID: [{ id: "c1", primary: true }], Email: [{ id: "one@example.com" }] }, person: { name: { firstName: "Ann" } } }
        ])
        const orders = [
          { ago: 1 * HOUR, price: 30, sku: "SKU-3", identity: ["Email", "one@example.com"] },
          { ago: 2 * DAY, price: 12.5, sku: "SKU-2", identity: ["CRMID", "c1"] },
          { ago: 6 * DAY, price: 20, sku: "SKU-1", identity: ["CRMID", "c1"] },
          { ago: 9 * DAY, price: 500, sku: "SKU-0", identity: ["CRMID", "c1"] } // outside the 7-day lookback
        ] as const
        yield* ingest(
          { name: "Orders", xdmClass: "experienceevent" },
          orders.map((o, i) => ({
            _id: `o${i}`,
            timestamp: new Date(NOW - o.ago).toISOString(),
            eventType: "commerce.purchases",
            identityMap: { [o.identity[0]]: [{ id: o.identity[1], primary: true }] },
            commerce: { order: { priceTotal: o.price } },
            productListItems: [{ SKU: o.sku }]
          }))
        )
        const client = yield* ProfileClient.ProfileClient
        const spend = yield* client.createComputedAttribute(input("spend7d", SUM_7D, { status: "NEW" }))
        yield* client.createComputedAttribute(
          input("lastSku", 'xEvent[eventType.equals("commerce.purchases", false)].topN(timestamp, 1).map({"timestamp": timestamp, "value": productListItems.SKU}).head()', {
            status: "NEW"
          })
        )
        yield* client.createComputedAttribute(input("orders24h", "xEvent.count()", { status: "NEW", duration: { count: 24, unit: "HOURS" } }))
        yield* client.createComputedAttribute(input("draftOnly", "xEvent.count()"))
        const store = yield* ComputedAttributes.ComputedAttributes
        yield* store.evaluateNow("prod")

        // computed here from the events above
        const inWeek = orders.filter((o) => o.ago <= 7 * DAY)
        const expected = {
          spend7d: { value: inWeek.reduce((sum, o) => sum + o.price, 0) },
          // SKU paths cross the productListItems array: the value is the array of SKUs
          lastSku: { value: ["SKU-3"], timestamp: new Date(NOW - HOUR).toISOString() },
          orders24h: { value: 1 }
        }
        const profile = yield* client.getProfile(Identity.make("CRMID", "c1"), { withCA: true })
        expect((profile.entity as any)[`_${TENANT}`]).toEqual({ SystemComputedAttributes: expected })
        expect((profile.entity as any).person.name.firstName).toBe("Ann")
        const plain = yield* client.getProfile(Identity.make("CRMID", "c1"))
        expect((plain.entity as any)[`_${TENANT}`]).toBeUndefined()
        const byEmail = yield* client.getProfile(Identity.make("Email", "one@example.com"), { withCA: true })
        expect((byEmail.entity as any)[`_${TENANT}`].SystemComputedAttributes).toEqual(expected)
        const many = yield* client.getProfiles([Identity.make("Email", "one@example.com")], { withCA: true })
        expect((Object.values(many)[0]!.entity as any)[`_${TENANT}`].SystemComputedAttributes).toEqual(expected)
        const projected = yield* client.getProfile(Identity.make("Email", "one@example.com"), {
          withCA: true,
          fields: [`_${TENANT}.SystemComputedAttributes.spend7d`]
        })
        expect(projected.entity).toEqual({ [`_${TENANT}`]: { SystemComputedAttributes: { spend7d: expected.spend7d } } })

        // disabled attributes are no longer shown
        yield* client.patchComputedAttribute(spend.id, { status: "DISABLED" })
        const after = yield* client.getProfile(Identity.make("CRMID", "c1"), { withCA: true })
        expect(Object.keys((after.entity as any)[`_${TENANT}`].SystemComputedAttributes).sort()).toEqual(["lastSku", "orders24h"])
      })
    )
  })
})
