/**
 * A fake Profile API good enough for in-process tests: batched profile
 * lookups, one event page, merge policies, with fields no schema names (to
 * check they survive the proxy).
 */
import { json, type Recorded, type Reply } from "./fake.js"

export const xidOf = (id: string) => `xid-${id}`

export const profileOf = (namespace: string, id: string) => ({
  entityId: xidOf(id),
  sources: ["dataset-1"],
  entity: {
    identities: [{ id, namespace: { code: namespace } }],
    person: { name: { firstName: "Jane" } },
    _tenant: { loyalty: { tier: "gold", unknownNested: { a: [1, 2, 3] } } }
  },
  lastModifiedAt: "2024-01-01T00:00:00Z",
  someFieldAdobeAddsLater: { x: 1 }
})

export const placeholder = (id: string) => ({ entityId: xidOf(id), sources: [""], entity: {}, lastModifiedAt: "1970-01-01T00:00:00Z" })

export const mergePolicies = {
  _page: { totalCount: 1, pageSize: 1 },
  children: [{ id: "mp-1", name: "default", schema: { name: "_xdm.context.profile" }, identityGraph: { type: "pdg" }, attributeMerge: { type: "timestampOrdered" }, futureField: "kept" }],
  _links: { next: { href: "" } }
}

export const eventPage = {
  _page: { orderby: "timestamp", start: "e1", count: 1, next: "cursor-2" },
  children: [{ relatedEntityId: "xid-1", entityId: "e1", timestamp: 1700000000000, entity: { eventType: "web.webpagedetails.pageViews", extra: { deep: true } } }],
  _links: { next: { href: "/entities?start=cursor-2" } }
}

/** Answers lookups (ids starting "missing" are placeholders), events, merge policies; 200 `{}` otherwise. */
export const profileApi = (request: Recorded): Reply => {
  if (request.path === "/data/core/ups/access/entities" && request.method === "POST") {
    const body = JSON.parse(request.body ?? "{}") as { identities: Array<{ entityId: string; entityIdNS?: { code: string } }> }
    const answer: Record<string, unknown> = {}
    for (const identity of body.identities) {
      answer[xidOf(identity.entityId)] = identity.entityId.startsWith("missing")
        ? placeholder(identity.entityId)
        : profileOf(identity.entityIdNS?.code ?? "", identity.entityId)
    }
    return json(200, answer)
  }
  if (request.path === "/data/core/ups/access/entities" && request.method === "GET") return json(200, eventPage)
  if (request.path === "/data/core/ups/config/mergePolicies" && request.method === "GET") {
    return json(200, mergePolicies, { "set-cookie": "upstream=1", "x-request-id": "up-123", etag: '"v1"' })
  }
  return json(200, {})
}
