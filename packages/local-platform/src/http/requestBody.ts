/**
 * What every request body and path goes through before a handler sees it,
 * so that hostile input gets a 4xx instead of reaching code that recurses
 * (schema decoding, logging, `JSON.stringify`) or a parser it was not meant
 * for.
 */

/**
 * Deepest nesting of arrays and objects a JSON body may have. Recursive code
 * on the way (Effect's `Inspectable`, `structuredClone`, `JSON.stringify`)
 * exhausts the stack somewhere above 4,000 levels, less on a smaller stack;
 * XDM schemas nest a few dozen levels at most. 1,000 leaves room on both sides.
 */
export const MAX_JSON_DEPTH = 1000

/**
 * The deepest nesting in `text` read as JSON, without parsing it (brackets
 * inside strings do not count). Stops counting once `limit` is passed.
 */
export const jsonDepth = (text: string, limit = Number.POSITIVE_INFINITY): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) {
      inString = true
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      depth++
      if (depth > deepest) {
        deepest = depth
        if (deepest > limit) return deepest
      }
    } else if (c === 93 /* ] */ || c === 125 /* } */) {
      depth--
    }
  }
  return deepest
}

const UNRESERVED = /%(4[1-9A-Fa-f]|5[0-9Aa]|6[1-9A-Fa-f]|7[0-9Aa]|3[0-9]|2[DdEe]|5[Ff]|7[Ee])/g

/**
 * The path as the router will match it: percent-encoded unreserved
 * characters decoded (RFC 3986 §6.2.2.2: `/data/%63ore` is `/data/core`) and
 * trailing slashes dropped (clients send `/export/jobs/`). Reserved
 * characters stay encoded, so a `%2F` inside an id stays part of the id.
 */
export const normalizePath = (path: string): string => {
  const decoded = path.replace(UNRESERVED, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  return decoded.length > 1 && decoded.endsWith("/") ? decoded.replace(/\/+$/, "") || "/" : decoded
}
