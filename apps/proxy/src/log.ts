/**
 * One log format for everything the proxy writes: JSON lines with `time`,
 * `level` and `msg` (the audit lines, the proxy's own messages, and the
 * Effect runtime's logs through `layer`).
 */
import { Cause, HashMap, Logger } from "effect"
import { writeLine } from "./stdout.js"

export const write = (fields: Record<string, unknown>): void => {
  writeLine(JSON.stringify({ time: new Date().toISOString(), level: "info", ...fields }))
}

const text = (message: unknown): string =>
  Array.isArray(message) ? message.map((part) => (typeof part === "string" ? part : JSON.stringify(part))).join(" ") : typeof message === "string" ? message : JSON.stringify(message)

export const jsonLogger = Logger.make(({ annotations, cause, date, logLevel, message }) => {
  writeLine(
    JSON.stringify({
      time: date.toISOString(),
      level: logLevel.label.toLowerCase(),
      msg: text(message),
      ...Object.fromEntries(HashMap.toEntries(annotations)),
      ...(Cause.isEmpty(cause) ? {} : { cause: Cause.pretty(cause) })
    })
  )
})

/** Replaces the runtime's default logger with `jsonLogger`. */
export const layer = Logger.replace(Logger.defaultLogger, jsonLogger)
