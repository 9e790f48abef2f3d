/**
 * Text helpers: fitting strings into columns, numbers, times and errors.
 */
import { ConfigError, Duration, Predicate } from "effect"

/** Display width of a string, in terminal cells (wide East Asian and emoji characters count two). */
export const width = (text: string): number => {
  let cells = 0
  for (const char of text) cells += cellWidth(char.codePointAt(0)!)
  return cells
}

const cellWidth = (code: number): number => {
  if (code < 32 || (code >= 0x7f && code < 0xa0)) return 0
  if (code >= 0x300 && code <= 0x36f) return 0
  if (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  ) {
    return 2
  }
  return 1
}

/** Cuts `text` to `max` cells, ending with `…` when it was longer. */
export const truncate = (text: string, max: number): string => {
  if (max <= 0) return ""
  if (width(text) <= max) return text
  let out = ""
  let cells = 0
  for (const char of text) {
    const w = cellWidth(char.codePointAt(0)!)
    if (cells + w > max - 1) break
    out += char
    cells += w
  }
  return out + "…"
}

/** Exactly `size` cells: truncated or padded. */
export const fit = (text: string, size: number, align: "left" | "right" = "left"): string => {
  const cut = truncate(text.replace(/[\r\n\t]+/g, " "), size)
  const pad = " ".repeat(Math.max(0, size - width(cut)))
  return align === "left" ? cut + pad : pad + cut
}

export const count = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? "–" : n.toLocaleString("en-US"))

/**
 * AEP sends some counts as strings and some as JSON inside a string
 * (`"\"1721\""`); this reads all of them.
 */
export const looseNumber = (value: unknown): number | undefined => {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined
  if (typeof value !== "string") return undefined
  const unquoted = value.replace(/^"+|"+$/g, "").trim()
  if (unquoted === "" || unquoted === "null") return undefined
  const n = Number(unquoted)
  return Number.isFinite(n) ? n : undefined
}

/** A string, with AEP's quoted-JSON strings unquoted and `"null"` as undefined. */
export const looseString = (value: unknown): string | undefined => {
  if (value === null || value === undefined) return undefined
  const text = String(value).replace(/^"+|"+$/g, "")
  return text === "" || text === "null" ? undefined : text
}

const pad2 = (n: number) => String(n).padStart(2, "0")

/** `2025-01-31 12:00:01` in local time. */
export const dateTime = (ms: number | undefined): string => {
  if (ms === undefined || !Number.isFinite(ms)) return "–"
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
}

export const clock = (ms: number | undefined): string => {
  if (ms === undefined) return "–"
  const d = new Date(ms)
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
}

/** Any AEP time: epoch ms or s, ISO-8601, or `2025-01-31 12:00:01.000`. */
export const parseTime = (value: unknown): number | undefined => {
  const n = looseNumber(value)
  if (n !== undefined) return n < 1e11 ? n * 1000 : n
  const text = looseString(value)
  if (text === undefined) return undefined
  const iso = /^\d{4}-\d{2}-\d{2} \d/.test(text) ? text.replace(" ", "T") : text
  const parsed = Date.parse(iso)
  return Number.isNaN(parsed) ? undefined : parsed
}

export const ago = (ms: number | undefined, now: number = Date.now()): string => {
  if (ms === undefined) return "–"
  const seconds = Math.round((now - ms) / 1000)
  if (seconds < 60) return `${Math.max(0, seconds)}s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`
  return `${Math.floor(seconds / 86_400)}d ago`
}

export const shortId = (id: string, size = 8): string => (id.length > size + 1 ? id.slice(0, size) + "…" : id)

/** A JSON value in one line. */
export const inline = (value: unknown, max = 80): string => {
  if (value === undefined) return ""
  if (typeof value === "string") return truncate(value, max)
  try {
    return truncate(JSON.stringify(value) ?? String(value), max)
  } catch {
    return truncate(String(value), max)
  }
}

/**
 * The status-line sentence for any failure: the core's tagged errors
 * (status, AEP's detail, request id), configuration errors and the rest.
 */
export const describeError = (error: unknown): string => {
  if (Predicate.isTagged(error, "RateLimited") || Predicate.isTagged(error, "ServerError")) {
    const e = error as unknown as { status: number; message: string; requestId?: string; retryAfter?: Duration.Duration }
    const wait = e.retryAfter ? `, retry after ${Duration.format(e.retryAfter)}` : ""
    return `${e.status === 429 ? "429 rate limited" : `${e.status} server error`}: ${strip(e.message)}${wait}${rid(e.requestId)}`
  }
  if (Predicate.isTagged(error, "TransportError")) {
    return `network: ${strip((error as unknown as { message: string }).message)}`
  }
  if (Predicate.isTagged(error, "Unauthorized")) {
    const e = error as unknown as { message: string; requestId?: string }
    return `401 unauthorized: ${strip(e.message)}${rid(e.requestId)}`
  }
  if (Predicate.hasProperty(error, "_tag") && Predicate.hasProperty(error, "status") && Predicate.hasProperty(error, "message")) {
    const e = error as unknown as { _tag: string; status: number; message: string; requestId?: string }
    return `${e.status || ""} ${e._tag}: ${strip(e.message)}${rid(e.requestId)}`.trim()
  }
  if (ConfigError.isConfigError(error)) {
    return `configuration: ${String(error).replace(/^\(|\)$/g, "")}`
  }
  if (error instanceof Error) return error.message
  return String(error)
}

/** The upstream's request id a failed call carries, when it has one. */
export const requestIdOf = (error: unknown): string | undefined =>
  Predicate.hasProperty(error, "requestId") && typeof error.requestId === "string" && error.requestId !== "" ? error.requestId : undefined

/** The core's messages start with `GET /path: 503 …`; the status line says the status itself. */
const strip = (message: string) => message.replace(/^(GET|POST|PUT|PATCH|DELETE) \S+: \d{3} ?/, "").trim() || message

const rid = (requestId: string | undefined) => (requestId ? ` (request ${shortId(requestId, 8)})` : "")

/** `1 merge policy`, `3 merge policies`. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${count(n)} ${n === 1 ? one : many}`

/**
 * AEP's identity namespace codes. Namespace codes are case-insensitive
 * (reports may give them in lower case): every screen shows AEP's spelling.
 */
export const standardNamespaces: ReadonlyArray<string> = [
  "ECID",
  "Email",
  "Phone",
  "CRMID",
  "LoyaltyId",
  "AAID",
  "AdCloud",
  "GAID",
  "IDFA",
  "Email_LC_SHA256",
  "Phone_SHA256",
  "Phone_E.164",
  "TNTID",
  "WAID"
]

const byLowerCase = new Map(standardNamespaces.map((code) => [code.toLowerCase(), code]))

export const namespaceCode = (code: string): string => byLowerCase.get(code.toLowerCase()) ?? code
