/**
 * Parsing of flag values: durations, sizes, rate limits.
 */
import type { RateLimit } from "./keys.js"

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i

/** `500ms`, `2s`, `1.5m`, `1h`; a bare number is milliseconds. */
export const parseDuration = (text: string): number => {
  const match = DURATION.exec(text.trim())
  if (match === null) throw new Error(`"${text}" is not a duration such as 500ms, 2s or 1m`)
  const value = Number(match[1])
  const unit = (match[2] ?? "ms").toLowerCase()
  return Math.round(value * (unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000))
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib)?$/i

/** `512kb`, `1mb`, `65536`; k and m are 1024-based. */
export const parseBytes = (text: string): number => {
  const match = SIZE.exec(text.trim())
  if (match === null) throw new Error(`"${text}" is not a size such as 512kb or 1mb`)
  const unit = (match[2] ?? "b").toLowerCase()
  return Math.round(Number(match[1]) * (unit.startsWith("k") ? 1024 : unit.startsWith("m") ? 1024 * 1024 : 1))
}

/** `100/1s`: points per duration (duration as above; a bare number is seconds here). */
export const parseRateLimit = (text: string): RateLimit => {
  const [points, window] = text.split("/")
  const n = Number(points)
  if (!Number.isInteger(n) || n < 1 || window === undefined) {
    throw new Error(`"${text}" is not a rate limit such as 100/1s (requests per window)`)
  }
  const seconds = /^\d+(\.\d+)?$/.test(window.trim()) ? Number(window) : parseDuration(window) / 1000
  if (!(seconds > 0)) throw new Error(`"${text}": the window must be longer than 0`)
  return { points: n, duration: seconds }
}

/** `--upstream`: an http(s) base URL, without trailing slashes. */
export const parseUpstreamUrl = (text: string, flag: string): string => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Error(`${flag} ${text} is not a URL: give the base URL, e.g. http://127.0.0.1:8080`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`${flag} ${text}: use an http:// or https:// URL`)
  return text.replace(/\/+$/, "")
}
