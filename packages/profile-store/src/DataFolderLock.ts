/**
 * One process per SQLite data folder. Two processes on one folder would
 * each resume the same background jobs and each allocate the same ids, so
 * the second is refused at start, with a message naming the first. (Several
 * processes share a store through Postgres instead.)
 *
 * The lock is a file holding the owner's pid: a lock whose process is gone
 * (it crashed) is taken over.
 *
 * @since 0.1.0
 */
import { Data, Effect } from "effect"
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs"
import { join } from "node:path"

export class DataFolderInUse extends Data.TaggedError("DataFolderInUse")<{ readonly message: string }> {}

const FILE = "rtcp.lock"

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const holderOf = (path: string): number | undefined => {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8"), 10)
    return Number.isInteger(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

const take = (directory: string): string => {
  const path = join(directory, FILE)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx")
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      return path
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      const pid = holderOf(path)
      if (pid !== undefined && alive(pid)) {
        throw new DataFolderInUse({
          message:
            `The data folder ${directory} is in use by another rtcp process (pid ${pid}${pid === process.pid ? ", this one" : ""}): ` +
            `stop it, or give this one its own folder (--data), or share a PostgreSQL database (--database) between them`
        })
      }
      // Left by a process that is gone: take it over.
      try {
        unlinkSync(path)
      } catch {
        // another process took it over first; the next attempt sees its lock
      }
    }
  }
  throw new DataFolderInUse({ message: `The data folder ${directory} could not be locked (${path} keeps changing): is another rtcp process starting?` })
}

/** Holds the folder's lock for the scope; fails with `DataFolderInUse` when a live process holds it. */
export const acquire = (directory: string) =>
  Effect.acquireRelease(
    Effect.try({
      try: () => take(directory),
      catch: (error) =>
        error instanceof DataFolderInUse
          ? error
          : new DataFolderInUse({ message: `The data folder ${directory} could not be locked: ${String(error)}` })
    }),
    (path) =>
      Effect.sync(() => {
        if (holderOf(path) === process.pid) unlinkSync(path)
      })
  )
