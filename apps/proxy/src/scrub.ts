/**
 * One scrubber for everything that leaves the proxy: answer headers and
 * bodies (pass-through, lookups, error details of every route), `/readyz`,
 * `/metrics` and every log line. It knows the secrets as they become known:
 * the Adobe access tokens the proxy obtains, the credential's client secret
 * (or static token) and the caller keys that authenticate, and replaces each
 * occurrence with `[redacted]`.
 *
 * Secrets shorter than 8 characters are not registered (they would redact
 * ordinary words). Compressed answer bodies are decompressed to be scrubbed
 * (gzip, deflate, br) and go to the caller uncompressed; any other encoding
 * is refused (`UnscrubbableEncoding`), since its bytes cannot be checked.
 */
import { Duplex } from "node:stream"
import { brotliDecompressSync, createBrotliDecompress, gunzipSync, inflateSync } from "node:zlib"

export const REDACTED = "[redacted]"

const MIN_LENGTH = 8
/** Caller keys and tokens seen; the oldest are forgotten past this (tokens rotate daily, keys are few). */
const MAX_SECRETS = 4096

export class UnscrubbableEncoding extends Error {
  override readonly name = "UnscrubbableEncoding"
}

const codingsOf = (encoding: string | undefined) =>
  (encoding ?? "")
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "" && coding !== "identity")

export class Scrubber {
  private readonly secrets = new Map<string, Buffer>()
  private longest = 0

  /** Registers a secret (idempotent). */
  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < MIN_LENGTH || this.secrets.has(secret)) return
    this.secrets.set(secret, Buffer.from(secret, "utf8"))
    if (this.secrets.size > MAX_SECRETS) this.secrets.delete(this.secrets.keys().next().value!)
    this.longest = Math.max(this.longest, Buffer.byteLength(secret))
  }

  get size(): number {
    return this.secrets.size
  }

  text(text: string): string {
    if (this.secrets.size === 0 || text.length < MIN_LENGTH) return text
    let out = text
    for (const secret of this.secrets.keys()) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED)
    }
    return out
  }

  /** Any JSON value, scrubbed (through its text). */
  value<A>(value: A): A {
    if (value === undefined) return value
    const text = JSON.stringify(value)
    const scrubbed = this.text(text)
    return scrubbed === text ? value : (JSON.parse(scrubbed) as A)
  }

  bytes(bytes: Uint8Array): Uint8Array {
    if (this.secrets.size === 0 || bytes.byteLength < MIN_LENGTH) return bytes
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (const secret of this.secrets.values()) {
      if (buffer.indexOf(secret) !== -1) return new TextEncoder().encode(this.text(buffer.toString("utf8")))
    }
    return bytes
  }

  headers(headers: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers)) out[name] = this.text(value)
    return out
  }

  /**
   * A stream transform that scrubs bytes as they pass: it holds back the
   * last `longest - 1` bytes of each chunk so a secret split across chunks
   * is still found.
   */
  transform(): TransformStream<Uint8Array, Uint8Array> {
    let carry: Buffer = Buffer.alloc(0)
    const keep = () => Math.max(0, this.longest - 1)
    return new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, controller) => {
        const joined = carry.byteLength === 0 ? Buffer.from(chunk) : Buffer.concat([carry, chunk])
        const scrubbed = Buffer.from(this.bytes(joined))
        // Only hold back bytes that could start a secret; a whole-secret match was already replaced.
        const cut = Math.max(0, scrubbed.byteLength - keep())
        if (cut > 0) controller.enqueue(new Uint8Array(scrubbed.subarray(0, cut)))
        carry = scrubbed.subarray(cut)
      },
      flush: (controller) => {
        if (carry.byteLength > 0) controller.enqueue(new Uint8Array(this.bytes(carry)))
      }
    })
  }

  /** The same for a body in one piece (decompressed synchronously). */
  bodyBytes(body: Uint8Array, encoding: string | undefined): { readonly body: Uint8Array; readonly decoded: boolean } {
    const codings = codingsOf(encoding)
    let bytes: Uint8Array = body
    for (const coding of codings.reverse()) {
      if (coding === "gzip" || coding === "x-gzip") bytes = gunzipSync(bytes)
      else if (coding === "deflate") bytes = inflateSync(bytes)
      else if (coding === "br") bytes = brotliDecompressSync(bytes)
      else throw new UnscrubbableEncoding(`the upstream answered with content-encoding "${coding}", which the proxy cannot check for secrets`)
    }
    return { body: this.bytes(bytes), decoded: codings.length > 0 }
  }

  /**
   * The body as the caller may see it: decompressed when `encoding` says
   * it is compressed, then scrubbed. Answers whether the encoding was removed.
   */
  body(
    body: ReadableStream<Uint8Array>,
    encoding: string | undefined
  ): { readonly body: ReadableStream<Uint8Array>; readonly decoded: boolean } {
    const codings = codingsOf(encoding)
    let stream = body
    for (const coding of codings.reverse()) {
      if (coding === "gzip" || coding === "x-gzip") stream = stream.pipeThrough(new DecompressionStream("gzip") as TransformStream<Uint8Array, Uint8Array>)
      else if (coding === "deflate") stream = stream.pipeThrough(new DecompressionStream("deflate") as TransformStream<Uint8Array, Uint8Array>)
      else if (coding === "br") stream = stream.pipeThrough(Duplex.toWeb(createBrotliDecompress()) as unknown as TransformStream<Uint8Array, Uint8Array>)
      else throw new UnscrubbableEncoding(`the upstream answered with content-encoding "${coding}", which the proxy cannot check for secrets`)
    }
    return { body: stream.pipeThrough(this.transform()), decoded: codings.length > 0 }
  }
}

/** The process's scrubber: the log writer uses it, so every proxy in the process registers its secrets here. */
export const scrubber = new Scrubber()
