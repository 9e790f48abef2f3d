/**
 * Malformed and hostile requests for the local service, drawn from a seeded
 * PRNG so that a seed always gives the same requests. Every one of them must
 * get an answer below 500.
 *
 * Left out on purpose: the fault rules (`/rtcp/admin/faults`) and a reset of
 * everything, which would make 5xx or empty state on request, and snapshot
 * bodies naming a real folder (the fuzzer writes nothing on disk: every
 * snapshot body's `directory` is malformed).
 */

/** mulberry32: small, fast and good enough to pick test inputs. */
export const prng = (seed: number) => {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (max: number) => Math.floor(next() * max)
  const pick = <A>(items: ReadonlyArray<A>): A => items[int(items.length)]!
  const chance = (p: number) => next() < p
  return { next, int, pick, chance }
}
export type Prng = ReturnType<typeof prng>

export interface HostileRequest {
  readonly kind: string
  readonly method: string
  /** Path and query, as sent (already encoded where the case wants it). */
  readonly url: string
  readonly headers: Record<string, string>
  readonly body?: string | undefined
}

/** Ids and names the service knows (filled from the seeded service), so requests reach deep code. */
export interface Known {
  readonly datasetIds: ReadonlyArray<string>
  readonly policyIds: ReadonlyArray<string>
  readonly identities: ReadonlyArray<{ readonly ns: string; readonly id: string }>
}

const JSON_TYPE = "application/json"
/** encodeURIComponent, also for lone surrogates (sent as the bytes a careless client would send). */
const enc = (text: string) => {
  try {
    return encodeURIComponent(text)
  } catch {
    return "%ED%A0%80"
  }
}
const deepArray = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
const deepObject = (depth: number, key = "a") => `{"${key}":`.repeat(depth) + "1" + "}".repeat(depth)

const weirdStrings = [
  "",
  " ",
  "\u0000",
  "\ud800",
  "💥",
  "'; DROP TABLE fragments; --",
  "../../etc/passwd",
  "%00",
  "%zz",
  "a".repeat(5000),
  "__proto__",
  "constructor",
  "null",
  "-1",
  "1e309",
  "NaN",
  "0x10",
  "<script>",
  "${jndi:ldap://x}",
  "\r\nX-Injected: 1"
]
const weirdJsonValues = [
  "null",
  "true",
  "0",
  "-0",
  "1e400",
  "-1",
  "1.5",
  "9007199254740993",
  '""',
  '"\\ud800"',
  "[]",
  "{}",
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"x":1}}}',
  "[null,null]",
  '"' + "x".repeat(100_000) + '"'
]

const endpoints: ReadonlyArray<readonly [string, string]> = [
  ["GET", "/data/core/ups/access/entities"],
  ["POST", "/data/core/ups/access/entities"],
  ["DELETE", "/data/core/ups/access/entities"],
  ["GET", "/data/core/ups/config/mergePolicies"],
  ["POST", "/data/core/ups/config/mergePolicies"],
  ["POST", "/data/core/ups/config/mergePolicies/bulk-get"],
  ["GET", "/data/core/ups/config/mergePolicies/{policy}"],
  ["PUT", "/data/core/ups/config/mergePolicies/{policy}"],
  ["PATCH", "/data/core/ups/config/mergePolicies/{policy}"],
  ["DELETE", "/data/core/ups/config/mergePolicies/{id}"],
  ["GET", "/data/core/ca/attributes"],
  ["POST", "/data/core/ca/attributes"],
  ["GET", "/data/core/ca/attributes/{id}"],
  ["PATCH", "/data/core/ca/attributes/{id}"],
  ["DELETE", "/data/core/ca/attributes/{id}"],
  ["GET", "/data/core/ups/export/jobs"],
  ["POST", "/data/core/ups/export/jobs"],
  ["GET", "/data/core/ups/export/jobs/{num}"],
  ["DELETE", "/data/core/ups/export/jobs/{num}"],
  ["GET", "/data/core/ups/system/jobs"],
  ["POST", "/data/core/ups/system/jobs"],
  ["GET", "/data/core/ups/system/jobs/{id}"],
  ["DELETE", "/data/core/ups/system/jobs/{id}"],
  ["GET", "/data/core/ups/previewsamplestatus"],
  ["GET", "/data/core/ups/previewsamplestatus/report/dataset"],
  ["GET", "/data/core/ups/previewsamplestatus/report/namespace"],
  ["GET", "/data/core/ups/previewsamplestatus/report/dataset/overlap"],
  ["GET", "/data/core/ups/previewsamplestatus/report/namespace/overlap"],
  ["GET", "/data/core/ups/previewsamplestatus/report/unstitchedProfiles"],
  ["GET", "/data/core/ups/config/projections"],
  ["POST", "/data/core/ups/config/projections"],
  ["PUT", "/data/core/ups/config/projections/{id}"],
  ["GET", "/data/core/ups/config/destinations"],
  ["POST", "/data/core/ups/config/destinations"],
  ["PUT", "/data/core/ups/config/destinations/{id}"],
  ["DELETE", "/data/core/ups/config/destinations/{id}"],
  ["POST", "/ims/token/v3"],
  ["GET", "/data/foundation/sandbox-management/sandboxes"],
  ["POST", "/data/foundation/sandbox-management/sandboxes"],
  ["GET", "/data/foundation/catalog/dataSets"],
  ["POST", "/data/foundation/catalog/dataSets"],
  ["GET", "/data/foundation/catalog/dataSets/{dataset}"],
  ["PATCH", "/data/foundation/catalog/dataSets/{dataset}"],
  ["GET", "/data/foundation/catalog/batches"],
  ["GET", "/data/foundation/catalog/batches/{id}"],
  ["GET", "/data/foundation/export/batches/{id}/failed"],
  ["POST", "/data/foundation/import/batches"],
  ["PUT", "/data/foundation/import/batches/{id}/datasets/{dataset}/files/{file}"],
  ["POST", "/data/foundation/import/batches/{id}"],
  ["POST", "/collection/{id}"],
  ["GET", "/rtcp/admin/requests"],
  ["POST", "/rtcp/admin/reset"],
  ["POST", "/rtcp/admin/snapshots/import"],
  ["POST", "/rtcp/admin/snapshots/export"],
  ["GET", "/rtcp/explain/profile"],
  ["GET", "/nope"]
]

/** A plausible body for an endpoint, which the mutations below then break. */
const validBody = (r: Prng, method: string, path: string, known: Known): unknown => {
  const identity = r.pick(known.identities)
  const dataset = r.pick(known.datasetIds)
  const policy = r.pick(known.policyIds)
  if (path.endsWith("/access/entities")) {
    return r.chance(0.5)
      ? { schema: { name: "_xdm.context.profile" }, identities: [{ entityId: identity.id, entityIdNS: { code: identity.ns } }] }
      : {
          schema: { name: "_xdm.context.experienceevent" },
          relatedSchema: { name: "_xdm.context.profile" },
          identities: [{ entityId: identity.id, entityIdNS: { code: identity.ns } }],
          timeFilter: { startTime: 0, endTime: Date.now() },
          limit: r.int(50)
        }
  }
  if (path.endsWith("/bulk-get")) return { ids: [{ id: policy }, { id: "x" }] }
  if (path.includes("/mergePolicies")) {
    if (method === "PATCH") return r.pick([{ op: "add", path: "/name", value: "n" }, [{ op: "replace", path: "/default", value: "true" }], [{ op: "remove", path: "/x" }]])
    return {
      name: `fuzz-${r.int(1e6)}`,
      schema: { name: "_xdm.context.profile" },
      identityGraph: { type: r.pick(["none", "pdg", "x"]) },
      attributeMerge: { type: r.pick(["timestampOrdered", "dataSetPrecedence"]), order: [dataset] },
      default: false
    }
  }
  if (path.includes("/ca/attributes")) {
    return {
      name: `fuzz${r.int(1e6)}`,
      displayName: "Fuzz",
      path: "_tenant",
      expression: { type: "PQL", format: "pql/text", value: r.pick(["xEvent[type = \"a\"].count()", "((((((((((", "sum(", "xEvent.count() > 1", "\"" + "(".repeat(3000)]) },
      duration: { count: r.int(100) - 5, unit: r.pick(["DAYS", "WEEKS", "MONTHS", "YEARS"]) },
      status: r.pick(["DRAFT", "ACTIVE", "X"])
    }
  }
  if (path.includes("/export/jobs")) {
    return {
      fields: r.pick(["person.name", "a..b", "", "x".repeat(1000)]),
      mergePolicy: { id: policy, version: r.pick([1, 2, 0, -1, 1.5]) },
      destination: { datasetId: dataset, segmentPerBatch: r.chance(0.5) },
      schema: { name: "_xdm.context.profile" }
    }
  }
  if (path.includes("/system/jobs")) return { dataSetId: r.chance(0.5) ? dataset : "nope", batchId: r.chance(0.3) ? "x" : undefined }
  if (path.includes("/config/destinations")) return { type: "EDGE", dataCenters: [r.pick(["OR1", "VA5", "X"])], ttl: r.int(10_000) - 5 }
  if (path.includes("/config/projections")) return { selector: r.pick(["a,b", "a(b,c)", "((((", ""]), name: `p${r.int(1000)}`, destinationId: "x" }
  if (path.endsWith("/sandboxes")) return { name: r.pick(["dev", "Prod", "a".repeat(70), "x-" + r.int(100)]), title: "t", type: r.pick(["development", "production", "x"]) }
  if (path.endsWith("/dataSets")) return { name: "d", schemaRef: { id: r.pick(["https://ns.adobe.com/xdm/context/profile", "x"]) }, tags: { unifiedProfile: ["enabled:true"] } }
  if (path.includes("/dataSets/")) return { tags: { unifiedProfile: [r.pick(["enabled:true", "enabled:false", 1])] } }
  if (path.endsWith("/import/batches")) return { datasetId: dataset, inputFormat: { format: r.pick(["json", "parquet"]) } }
  if (path.startsWith("/collection/")) {
    return {
      header: { datasetId: dataset, schemaRef: { id: "x" } },
      body: { xdmEntity: { _id: `s${r.int(1e6)}`, identityMap: { [identity.ns]: [{ id: identity.id, primary: true }] }, person: { name: { firstName: "F" } } } }
    }
  }
  if (path.endsWith("/reset")) return { sandbox: r.pick(["nope", "", 1, null, "a".repeat(100)]) }
  if (path.includes("/snapshots/")) return { directory: r.pick(["", 1, null, ["x"], { a: 1 }]) }
  return {}
}

/** Breaks a JSON text in one of many ways. */
const mutateJson = (r: Prng, text: string): { kind: string; body: string } => {
  switch (r.int(14)) {
    case 0:
      return { kind: "deep-array", body: deepArray(r.pick([900, 1001, 5000, 20_000, 60_000])) }
    case 1:
      return { kind: "deep-object", body: deepObject(r.pick([900, 1001, 5000, 20_000])) }
    case 2: {
      const depth = r.pick([1001, 5000, 20_000])
      return { kind: "deep-inside", body: text.replace(/\{/, `{"deep":${deepArray(depth)},`) }
    }
    case 3:
      return { kind: "truncated", body: text.slice(0, r.int(text.length)) }
    case 4:
      return { kind: "json-value", body: r.pick(weirdJsonValues) }
    case 5:
      return { kind: "bom", body: "\ufeff" + text }
    case 6:
      return { kind: "type-swap", body: text.replace(/"[^"]*"(?=\s*[,}\]])/g, () => r.pick(weirdJsonValues)) }
    case 7:
      return { kind: "string-swap", body: text.replace(/"([^"]*)"(?=\s*[,}\]])/g, () => JSON.stringify(r.pick(weirdStrings))) }
    case 8:
      return { kind: "big-array", body: JSON.stringify({ identities: Array.from({ length: r.pick([1001, 20_000]) }, (_, i) => ({ entityId: String(i) })), ids: [] }) }
    case 9:
      return { kind: "duplicate-keys", body: text.replace(/^\{/, '{"name":1,"name":{"a":[1,2]},') }
    case 10:
      return { kind: "garbage", body: Array.from({ length: r.int(200) }, () => String.fromCharCode(r.int(0x3000))).join("") }
    case 11:
      return { kind: "unicode-escapes", body: text.replace(/"([a-z])/g, '"\\ud800$1') }
    case 12:
      return { kind: "empty", body: "" }
    default:
      return { kind: "valid", body: text }
  }
}

const CONTENT_TYPES = [
  JSON_TYPE,
  "application/json; charset=utf-16",
  "application/vnd.adobe.platform.projectionConfig+json; version=1",
  "application/vnd.adobe.platform.projectionDestination+json; version=1",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=",
  "multipart/form-data; boundary=abc",
  "multipart/form-data",
  "application/octet-stream",
  "application/json; boundary=",
  "",
  "application/",
  "*/*",
  "application/json\u0000"
]

const encodeSome = (r: Prng, path: string) =>
  path.replace(/[a-z]/g, (c) => (r.chance(0.15) ? `%${c.charCodeAt(0).toString(16)}` : c))

const mutatePath = (r: Prng, path: string): { kind: string; path: string } => {
  switch (r.int(10)) {
    case 0:
      return { kind: "percent-encoded", path: encodeSome(r, path) }
    case 1:
      return { kind: "trailing-slashes", path: path + "/".repeat(1 + r.int(3)) }
    case 2:
      return { kind: "double-slash", path: path.replace(/\//g, () => (r.chance(0.3) ? "//" : "/")) }
    case 3:
      return { kind: "dot-segments", path: path + "/../../" + r.pick(["etc/passwd", "data/core/ups/access/entities"]) }
    case 4:
      return { kind: "bad-escapes", path: path + r.pick(["%", "%z", "%zz", "%00", "%ff%fe", "%2F..%2F", "%25"]) }
    case 5:
      return { kind: "long-path", path: path + "/" + "a".repeat(r.pick([1000, 10_000])) }
    case 6:
      return { kind: "unicode", path: path + "/" + enc(r.pick(["💥", "é", "\u202e"])) }
    default:
      return { kind: "path", path }
  }
}

const queryFor = (r: Prng, path: string, known: Known): string => {
  const identity = r.pick(known.identities)
  const params: Array<[string, string]> = []
  if (path.endsWith("/access/entities") || path.endsWith("/explain/profile")) {
    const events = r.chance(0.4)
    params.push(["schema.name", events ? "_xdm.context.experienceevent" : r.pick(["_xdm.context.profile", "x", ""])])
    params.push([events ? "relatedEntityId" : "entityId", r.chance(0.8) ? identity.id : r.pick(weirdStrings)])
    params.push([events ? "relatedEntityIdNS" : "entityIdNS", r.chance(0.8) ? identity.ns : r.pick(weirdStrings)])
    if (events) params.push(["relatedSchema.name", "_xdm.context.profile"])
  }
  const extra = ["limit", "start", "offsets", "orderby", "orderBy", "fields", "startTime", "endTime", "mergePolicyId", "withCA", "property", "since", "status", "date", "default", "version", "page", "schemaName", "name"]
  for (let i = r.int(4); i > 0; i--) {
    params.push([r.pick(extra), r.pick([...weirdStrings, "10", "0", "-5", "999999999999", "1.5", "true", "person.name,,x", "-timestamp"])])
  }
  if (params.length === 0) return ""
  return "?" + params.map(([k, v]) => `${enc(k)}=${r.chance(0.1) ? v.replace(/[^\w]/g, "%") : enc(v)}`).join("&")
}

/**
 * A snapshot body whose `directory` is a non-empty string would export to (or
 * import from) a real folder: the fuzzer writes nothing on disk, so only
 * malformed directories are sent.
 */
const withoutDirectory = (body: string): string => {
  try {
    const parsed: unknown = JSON.parse(body)
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) && typeof (parsed as { directory?: unknown }).directory === "string") {
      return JSON.stringify({ ...parsed, directory: (parsed as { directory: string }).directory === "" ? "" : 0 })
    }
  } catch {
    // not JSON: the service answers 400 without touching the disk
  }
  return body
}

/** One hostile request. `auth` holds valid gateway headers, which most requests carry so that handlers run. */
export const hostileRequest = (r: Prng, auth: Record<string, string>, known: Known): HostileRequest => {
  const [method0, template] = r.pick(endpoints)
  const method = r.chance(0.05) ? r.pick(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]) : method0
  const path0 = template
    .replace("{policy}", r.chance(0.8) ? r.pick(known.policyIds) : r.pick(weirdStrings.map(enc)))
    .replace("{dataset}", r.chance(0.8) ? r.pick(known.datasetIds) : enc(r.pick(weirdStrings)))
    .replace("{num}", r.pick(["1", "0", "-1", "abc", "99999999999999999999"]))
    .replace(/\{(id|file)\}/g, () => enc(r.pick([...weirdStrings, "x", "data.json"])))
  const { kind: pathKind, path } = mutatePath(r, path0)
  const headers: Record<string, string> = {}
  const authMode = r.int(20)
  if (authMode > 3) Object.assign(headers, auth)
  else if (authMode === 1) Object.assign(headers, auth, { authorization: r.pick(["Bearer", "Bearer x.y.z", "Basic abc", "Bearer " + "a".repeat(8000)]) })
  else if (authMode === 2) Object.assign(headers, auth, { "x-sandbox-name": r.pick(["nope", "PROD", "", "a".repeat(300)]) })
  else if (authMode === 3) Object.assign(headers, auth, { "x-gw-ims-org-id": "other@AdobeOrg" })
  if (r.chance(0.1)) headers["x-request-id"] = r.pick(["", "a".repeat(2000), "\u00e9"])
  const url = path + queryFor(r, path0, known)
  if (!["POST", "PUT", "PATCH"].includes(method) && !r.chance(0.05)) {
    return { kind: `${method} ${pathKind}`, method: method === "HEAD" || method === "OPTIONS" ? method : method, url, headers }
  }
  if (method === "GET" || method === "HEAD") return { kind: `${method} ${pathKind}`, method, url, headers }
  const valid = JSON.stringify(validBody(r, method, path0, known) ?? {})
  let { kind, body } = mutateJson(r, valid)
  if (path0.endsWith("/ims/token/v3") && r.chance(0.7)) {
    kind = "form"
    body = r.pick([
      "grant_type=client_credentials&client_id=rtcp-local&client_secret=x",
      "grant_type=client_credentials&client_id=" + "%".repeat(10),
      "client_id=a&client_id=b",
      "=&&&==",
      "grant_type=" + "a".repeat(100_000)
    ])
    headers["content-type"] = "application/x-www-form-urlencoded"
  } else {
    const type = r.chance(0.7) ? JSON_TYPE : r.pick(CONTENT_TYPES)
    if (type !== "") headers["content-type"] = type
  }
  if (path0.includes("/snapshots/")) body = withoutDirectory(body)
  // `{}` or no body resets everything: keep the demo state for the requests after it.
  if (path0.endsWith("/reset")) body = JSON.stringify({ sandbox: "nope", noise: body.slice(0, 100) })
  if (r.chance(0.002)) {
    kind = "oversized"
    body = " ".repeat(11 * 1024 * 1024)
  }
  return { kind: `${method} ${pathKind} ${kind}`, method, url, headers, body }
}
