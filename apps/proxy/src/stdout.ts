/**
 * Everything the proxy logs goes to stdout through here: lines written in
 * one event-loop turn leave in one synchronous write at the end of it.
 *
 * Node writes to a file or a pipe synchronously, one syscall per call: one
 * per audit line and request. Batching per turn makes that one syscall per
 * turn under load, keeps what a synchronous write guarantees (order, and
 * nothing lost on exit: what is pending is written on `exit`) and delays a
 * line by one turn at most. sonic-boom's asynchronous mode, the usual
 * answer, can lose or reorder its in-flight chunk when the process exits.
 */
import { scrubber } from "./scrub.js"

let pending: Array<string> = []
let scheduled = false

const flush = () => {
  scheduled = false
  if (pending.length === 0) return
  const text = pending.join("")
  pending = []
  // Synchronous for files and pipes on Linux; Node queues what a full pipe does not take yet.
  process.stdout.write(text)
}

process.on("exit", flush)

/** Writes one line (the newline is added); it leaves with the others of this turn. */
export const writeLine = (line: string): void => {
  pending.push(scrubber.text(line) + "\n")
  if (!scheduled) {
    scheduled = true
    setImmediate(flush)
  }
}
