/**
 * The files of an export: NDJSON part files in
 * `<data directory>/exports/<sandbox>/<datasetId>/<batchId>/part-NNNNN.ndjson`,
 * a new part every `perFile` lines. Each write is awaited before the next
 * page is read, so a slow disk slows the export down instead of filling
 * memory.
 */
import { Data, Effect, type Scope } from "effect"
import { mkdir, open, readdir, rm } from "node:fs/promises"
import type { FileHandle } from "node:fs/promises"
import { join } from "node:path"

export class ExportWriteError extends Data.TaggedError("ExportWriteError")<{
  readonly path: string
  readonly cause: unknown
}> {
  override get message() {
    return `cannot write ${this.path}: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

const SAFE_SEGMENT = /^[\w.-]+$/

/** The folder of one exported batch; every segment is checked so no id can leave the data directory. */
export const batchDirectory = (root: string, sandbox: string, datasetId: string, batchId: string): string => {
  for (const segment of [sandbox, datasetId, batchId]) {
    if (!SAFE_SEGMENT.test(segment) || segment === "." || segment === "..") {
      throw new Error(`"${segment}" cannot be used as a folder name`)
    }
  }
  return join(root, "exports", sandbox, datasetId, batchId)
}

export const partName = (index: number) => `part-${String(index).padStart(5, "0")}.ndjson`

/** The part files of a batch folder, in order (none when it does not exist). */
export const listParts = (directory: string): Effect.Effect<ReadonlyArray<string>> =>
  Effect.promise(() =>
    readdir(directory).then(
      (names) => names.filter((name) => /^part-\d{5}\.ndjson$/.test(name)).sort().map((name) => join(directory, name)),
      () => []
    )
  )

export const removeDirectory = (directory: string): Effect.Effect<void> =>
  Effect.promise(() => rm(directory, { recursive: true, force: true }).catch(() => undefined))

export interface PartWriter {
  /** Appends lines (without their newline), opening the next part when the current one is full. */
  readonly write: (lines: ReadonlyArray<string>) => Effect.Effect<void, ExportWriteError>
  /** Lines written so far. */
  readonly count: () => number
  /** Closes the open part; the files written, in order. */
  readonly close: Effect.Effect<ReadonlyArray<string>, ExportWriteError>
}

/**
 * A writer into `directory` (created, and emptied of earlier parts). The
 * first part is created at once, so an export of no profile still leaves one
 * (empty) file; the open part is closed when the scope closes.
 */
export const partWriter = (directory: string, perFile: number): Effect.Effect<PartWriter, ExportWriteError, Scope.Scope> =>
  Effect.gen(function* () {
    const attempt = <A>(path: string, f: () => Promise<A>) =>
      Effect.tryPromise({ try: f, catch: (cause) => new ExportWriteError({ path, cause }) })
    yield* attempt(directory, async () => {
      await rm(directory, { recursive: true, force: true })
      await mkdir(directory, { recursive: true })
    })
    const files: Array<string> = []
    let handle: FileHandle | undefined
    let inPart = 0
    let total = 0

    const closeCurrent = Effect.suspend(() => {
      const current = handle
      handle = undefined
      return current === undefined ? Effect.void : attempt(files[files.length - 1]!, () => current.close())
    })
    const openNext = Effect.suspend(() => {
      const path = join(directory, partName(files.length))
      return Effect.map(attempt(path, () => open(path, "w")), (opened) => {
        handle = opened
        files.push(path)
        inPart = 0
      })
    })
    yield* Effect.addFinalizer(() => Effect.ignore(closeCurrent))
    yield* openNext

    const write = (lines: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        let offset = 0
        while (offset < lines.length) {
          if (inPart >= perFile) {
            yield* closeCurrent
            yield* openNext
          }
          const take = Math.min(perFile - inPart, lines.length - offset)
          const chunk = lines.slice(offset, offset + take).join("\n") + "\n"
          const target = handle!
          yield* attempt(files[files.length - 1]!, () => target.write(chunk))
          offset += take
          inPart += take
          total += take
        }
      })

    return {
      write,
      count: () => total,
      close: Effect.as(closeCurrent, files)
    } satisfies PartWriter
  })
