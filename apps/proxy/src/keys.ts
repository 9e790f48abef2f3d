/**
 * Callers and their keys.
 *
 * The key file lists who may call the proxy; keys themselves are never
 * stored, only their SHA-256:
 *
 * ```json
 * { "keys": [
 *   { "name": "checkout", "sha256": "9f86d0…", "sandboxes": ["prod"], "access": "read",
 *     "rateLimit": { "points": 100, "duration": 1 } },
 *   { "name": "ops", "sha256": "…", "sandboxes": ["*"], "access": "write" }
 * ] }
 * ```
 *
 * A caller sends its key as `x-api-key: <key>` or `Authorization: Bearer <key>`.
 * The file is watched and reloaded when it changes (and on SIGHUP); a file
 * that no longer parses is reported and the keys loaded before stay in
 * force. Rotation: add an entry with the new key's hash under the same name,
 * move the caller over, remove the old entry; both work in between.
 */
import { createHash, randomBytes } from "node:crypto"
import { readFile, stat, type Stats, unwatchFile, watchFile } from "node:fs"
import { Either, ParseResult, Schema } from "effect"

export const ACCESS = ["read", "write"] as const
export type Access = (typeof ACCESS)[number]

export interface RateLimit {
  /** Requests allowed per `duration`. */
  readonly points: number
  /** Window in seconds. */
  readonly duration: number
}

/** Who is calling, as the rest of the proxy sees it: never the key itself. */
export interface Caller {
  readonly name: string
  /** Sandboxes this caller may use; `"*"` for any. */
  readonly sandboxes: ReadonlyArray<string>
  readonly access: Access
  readonly rateLimit: RateLimit
}

const SandboxName = Schema.String.pipe(
  Schema.filter((s) => s === "*" || /^[a-z0-9][a-z0-9-]{0,63}$/.test(s), {
    message: () => 'a sandbox is a lower-case name (letters, digits, "-") or "*" for any'
  })
)

const KeyEntry = Schema.Struct({
  name: Schema.String.pipe(
    Schema.filter((s) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s), {
      message: () => "a name is 1-64 letters, digits, '.', '_' or '-' (it labels metrics and audit lines)"
    })
  ),
  sha256: Schema.String.pipe(
    Schema.filter((s) => /^[0-9a-fA-F]{64}$/.test(s), {
      message: () => "sha256 is the 64 hex digits of the key's SHA-256 (npm run proxy -- hash-key)"
    })
  ),
  sandboxes: Schema.NonEmptyArray(SandboxName),
  access: Schema.Literal(...ACCESS),
  rateLimit: Schema.optional(
    Schema.Struct({
      points: Schema.Int.pipe(Schema.positive()),
      duration: Schema.Number.pipe(Schema.positive())
    })
  ),
  /** A disabled key is refused as if it were unknown. */
  disabled: Schema.optional(Schema.Boolean)
})
export type KeyEntry = typeof KeyEntry.Type

export const KeyFile = Schema.Struct({ keys: Schema.Array(KeyEntry) })
export type KeyFile = typeof KeyFile.Type

export class KeyFileError extends Error {
  override readonly name = "KeyFileError"
}

/** The SHA-256 of a key, as the key file stores it. */
export const hashKey = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex")

/** A new random key (192 bits), prefixed so it is recognisable in a secret scanner. */
export const generateKey = (): string => `rtcp_${randomBytes(24).toString("base64url")}`

/** Keys longer than this are refused before hashing. */
const MAX_KEY_LENGTH = 512

/** Parses and checks a key file's text; throws a `KeyFileError` that says what to fix. */
export const parseKeyFile = (text: string, source = "key file"): KeyFile => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new KeyFileError(`${source}: not JSON (${error instanceof Error ? error.message : String(error)})`)
  }
  const decoded = Schema.decodeUnknownEither(KeyFile, { errors: "all", onExcessProperty: "error" })(json)
  if (Either.isLeft(decoded)) {
    throw new KeyFileError(`${source}: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`)
  }
  const seen = new Set<string>()
  for (const entry of decoded.right.keys) {
    const hash = entry.sha256.toLowerCase()
    if (seen.has(hash)) throw new KeyFileError(`${source}: the same sha256 appears twice (key "${entry.name}")`)
    seen.add(hash)
  }
  return decoded.right
}

export interface KeyStoreOptions {
  /** Applied to entries without `rateLimit` (default 50 requests per second). */
  readonly defaultRateLimit?: RateLimit | undefined
}

export const defaultRateLimit: RateLimit = { points: 50, duration: 1 }

const index = (file: KeyFile, options: KeyStoreOptions): Map<string, Caller> => {
  const byHash = new Map<string, Caller>()
  for (const entry of file.keys) {
    if (entry.disabled === true) continue
    byHash.set(entry.sha256.toLowerCase(), {
      name: entry.name,
      sandboxes: entry.sandboxes.includes("*") ? ["*"] : [...new Set(entry.sandboxes)],
      access: entry.access,
      rateLimit: entry.rateLimit ?? options.defaultRateLimit ?? defaultRateLimit
    })
  }
  return byHash
}

/**
 * `authenticate` over a key index, remembering the keys that worked: a
 * caller sends the same key on every request, and its SHA-256 was a tenth
 * of a cache hit's CPU. Only accepted keys are remembered (so random keys
 * cannot grow it), at most 10,000, forgotten whenever the index changes.
 */
const authenticator = (current: () => Map<string, Caller>) => {
  let indexed = current()
  const known = new Map<string, Caller>()
  return (key: string): Caller | undefined => {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) return undefined
    const byHash = current()
    if (byHash !== indexed) {
      indexed = byHash
      known.clear()
    }
    let caller = known.get(key)
    if (caller === undefined) {
      caller = byHash.get(hashKey(key))
      if (caller !== undefined && known.size < 10_000) known.set(key, caller)
    }
    return caller
  }
}

export interface KeyStore {
  /** The caller a key belongs to, or undefined. */
  readonly authenticate: (key: string) => Caller | undefined
  /** Keys currently accepted. */
  readonly size: () => number
  /** Re-reads the file now; keeps the current keys (and rejects) when it does not parse. */
  readonly reload: () => Promise<number>
  readonly close: () => void
}

/** Keys held in memory (tests, the demo key). */
export const staticKeyStore = (file: KeyFile, options: KeyStoreOptions = {}): KeyStore => {
  let byHash = index(parseKeyFile(JSON.stringify(file), "keys"), options)
  return {
    authenticate: authenticator(() => byHash),
    size: () => byHash.size,
    reload: () => Promise.resolve(byHash.size),
    close: () => {
      byHash = new Map()
    }
  }
}

export interface FileKeyStoreOptions extends KeyStoreOptions {
  readonly path: string
  /** Poll the file for changes (default true). */
  readonly watch?: boolean | undefined
  /** How often the file's status is checked, ms (default 1000). */
  readonly pollIntervalMs?: number | undefined
  readonly onReload?: ((keys: number) => void) | undefined
  readonly onError?: ((error: KeyFileError) => void) | undefined
}

const read = (path: string) =>
  new Promise<string>((resolve, reject) =>
    readFile(path, "utf8", (error, text) =>
      error ? reject(new KeyFileError(`cannot read key file ${path}: ${error.code ?? error.message}`)) : resolve(text)
    )
  )

/**
 * Keys from a file, reloaded when it changes. Polling the file's status
 * (rather than `fs.watch`) follows editors and deploy tools that replace
 * the file by renaming a new one over it.
 */
const stampOf = (stats: Stats) => `${stats.mtimeMs}:${stats.size}:${stats.ino}`
const stampNow = (path: string) =>
  new Promise<string | undefined>((resolve) => stat(path, (error, stats) => resolve(error ? undefined : stampOf(stats))))

export const openKeyStore = async (options: FileKeyStoreOptions): Promise<KeyStore> => {
  const opened = await stampNow(options.path)
  let byHash = index(parseKeyFile(await read(options.path), options.path), options)
  let closed = false
  const reload = async () => {
    const file = parseKeyFile(await read(options.path), options.path)
    if (!closed) byHash = index(file, options)
    return byHash.size
  }
  const onChange = () => {
    reload().then(
      (keys) => options.onReload?.(keys),
      (error: unknown) =>
        options.onError?.(error instanceof KeyFileError ? error : new KeyFileError(String(error)))
    )
  }
  const listener = (current: Stats, previous: Stats) => {
    if (stampOf(current) !== stampOf(previous)) onChange()
  }
  let firstLook: ReturnType<typeof setTimeout> | undefined
  if (options.watch !== false) {
    const interval = options.pollIntervalMs ?? 1000
    watchFile(options.path, { interval, persistent: false }, listener)
    // The watcher compares each look with its own first one, which it may
    // take after a change made right after opening (Node 24 does): one look
    // of our own against the file as it was read catches that change.
    firstLook = setTimeout(() => {
      void stampNow(options.path).then((now) => {
        if (!closed && now !== opened) onChange()
      })
    }, interval * 2)
    firstLook.unref()
  }
  return {
    authenticate: authenticator(() => byHash),
    size: () => byHash.size,
    reload,
    close: () => {
      closed = true
      clearTimeout(firstLook)
      if (options.watch !== false) unwatchFile(options.path, listener)
    }
  }
}

/** Whether `caller` may use `sandbox`. */
export const allowsSandbox = (caller: Caller, sandbox: string): boolean =>
  caller.sandboxes.includes("*") || caller.sandboxes.includes(sandbox)
