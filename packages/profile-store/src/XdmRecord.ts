/**
 * Reading an ingested XDM record: its identities (from `identityMap` and from
 * `identities` arrays), its primary identity, and for experience events the
 * event id and time. Pure: validation errors are values, so a batch can be
 * validated whole before anything is written.
 *
 * @since 0.1.0
 */
import { Either } from "effect"

export type XdmClass = "profile" | "experienceevent"

export interface RecordIdentity {
  /** Namespace code as sent (AEP codes are case-insensitive; `nsKey` is the lower-case form). */
  readonly ns: string
  readonly nsKey: string
  readonly value: string
  readonly primary: boolean
  readonly authenticatedState?: string | undefined
}

export interface ParsedRecord {
  readonly identities: ReadonlyArray<RecordIdentity>
  readonly primary: RecordIdentity
  /** The record without its `_id` (profile records) as it enters a fragment. */
  readonly data: Record<string, unknown>
  /** `extSourceSystemAudit.lastUpdatedDate` in ms, when present and valid. */
  readonly customTimestamp: number | undefined
  /** Experience events only. */
  readonly eventId: string | undefined
  readonly timestamp: number | undefined
}

export interface RecordError {
  readonly code: string
  readonly message: string
}

export const MAX_IDENTITIES_PER_RECORD = 20
export const MAX_IDENTITY_LENGTH = 1024
const ECID = /^\d{38}$/

const fail = (code: string, message: string): Either.Either<never, RecordError> => Either.left({ code, message })

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The identities of a record, in document order; errors say which entry is wrong. */
export const identitiesOf = (record: Record<string, unknown>): Either.Either<Array<RecordIdentity>, RecordError> => {
  const found: Array<RecordIdentity> = []
  const identityMap = record.identityMap
  if (identityMap !== undefined) {
    if (!isObject(identityMap)) return fail("RTCP-1101", "identityMap must be an object of namespace code → array of identities")
    for (const [ns, entries] of Object.entries(identityMap)) {
      if (!Array.isArray(entries)) return fail("RTCP-1102", `identityMap.${ns} must be an array of {id, primary?, authenticatedState?}`)
      for (const [index, entry] of entries.entries()) {
        if (!isObject(entry) || typeof entry.id !== "string" || entry.id === "") {
          return fail("RTCP-1103", `identityMap.${ns}[${index}].id must be a non-empty string`)
        }
        if (entry.primary !== undefined && typeof entry.primary !== "boolean") {
          return fail("RTCP-1104", `identityMap.${ns}[${index}].primary must be a boolean`)
        }
        found.push({
          ns,
          nsKey: ns.toLowerCase(),
          value: entry.id,
          primary: entry.primary === true,
          authenticatedState: typeof entry.authenticatedState === "string" ? entry.authenticatedState : undefined
        })
      }
    }
  }
  const identities = record.identities
  if (identities !== undefined) {
    if (!Array.isArray(identities)) return fail("RTCP-1105", "identities must be an array of {id, namespace: {code}, primary?}")
    for (const [index, entry] of identities.entries()) {
      const code = isObject(entry) && isObject(entry.namespace) ? entry.namespace.code : undefined
      if (!isObject(entry) || typeof entry.id !== "string" || entry.id === "" || typeof code !== "string" || code === "") {
        return fail("RTCP-1106", `identities[${index}] must have a string id and namespace.code`)
      }
      found.push({ ns: code, nsKey: code.toLowerCase(), value: entry.id, primary: entry.primary === true })
    }
  }
  return Either.right(found)
}

const timestampOf = (u: unknown): number | undefined => {
  if (typeof u === "number" && Number.isFinite(u)) return u
  if (typeof u === "string" && u !== "") {
    const parsed = Date.parse(u)
    return Number.isNaN(parsed) ? undefined : parsed
  }
  return undefined
}

/** Validates a record of a dataset of class `xdmClass`. */
/**
 * Deepest nesting a record may have: storing and merging it walks it
 * recursively (`structuredClone`, `JSON.stringify`), which runs out of stack
 * a few thousand levels down; XDM schemas nest a few dozen.
 */
export const MAX_RECORD_DEPTH = 1000

/** Nesting depth of a JSON value, walked without recursion; stops once past `limit`. */
const depthOf = (value: unknown, limit: number): number => {
  let deepest = 0
  const stack: Array<readonly [unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (typeof node !== "object" || node === null) continue
    if (depth > deepest) deepest = depth
    if (deepest > limit) return deepest
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1])
    }
  }
  return deepest
}

export const parse = (record: unknown, xdmClass: XdmClass): Either.Either<ParsedRecord, RecordError> => {
  if (!isObject(record)) return fail("RTCP-1001", "a record must be a JSON object")
  if (depthOf(record, MAX_RECORD_DEPTH) > MAX_RECORD_DEPTH) {
    return fail("RTCP-1005", `the record nests arrays and objects more than ${MAX_RECORD_DEPTH} levels deep`)
  }
  return Either.flatMap(identitiesOf(record), (all): Either.Either<ParsedRecord, RecordError> => {
    // The same identity may be listed twice (identityMap and identities).
    const seen = new Set<string>()
    const identities = all.filter((identity) => {
      const key = `${identity.nsKey}\u0000${identity.value}`
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
    if (identities.length === 0) {
      return fail("RTCP-1201", "the record has no identity: add an identityMap entry (e.g. {\"Email\":[{\"id\":\"…\",\"primary\":true}]})")
    }
    if (identities.length > MAX_IDENTITIES_PER_RECORD) {
      return fail("RTCP-1202", `the record has ${identities.length} identities; at most ${MAX_IDENTITIES_PER_RECORD} are allowed`)
    }
    for (const identity of identities) {
      if (identity.value.length > MAX_IDENTITY_LENGTH) {
        return fail("RTCP-1203", `identity ${identity.ns} is longer than ${MAX_IDENTITY_LENGTH} characters`)
      }
      if (identity.nsKey === "ecid" && !ECID.test(identity.value)) {
        return fail("RTCP-1204", `ECID "${identity.value}" must be exactly 38 digits`)
      }
    }
    const primaries = identities.filter((identity) => identity.primary)
    if (primaries.length > 1) {
      return fail("RTCP-1205", `the record marks ${primaries.length} identities as primary; exactly one may be`)
    }
    // Web data defaults to ECID when no identity is marked primary.
    const primary =
      primaries[0] ?? (xdmClass === "experienceevent" ? identities.find((i) => i.nsKey === "ecid") : undefined) ?? identities[0]!
    const audit = isObject(record.extSourceSystemAudit) ? record.extSourceSystemAudit : undefined
    const customTimestamp = timestampOf(audit?.lastUpdatedDate)
    if (xdmClass === "experienceevent") {
      if (typeof record._id !== "string" || record._id === "") {
        return fail("RTCP-1301", "an experience event needs a string _id")
      }
      const timestamp = timestampOf(record.timestamp)
      if (timestamp === undefined) {
        return fail("RTCP-1302", "an experience event needs a timestamp (ISO 8601 date-time or epoch ms)")
      }
      return Either.right({ identities, primary, data: record, customTimestamp, eventId: record._id, timestamp })
    }
    const { _id: _ignored, ...data } = record
    return Either.right({ identities, primary, data, customTimestamp, eventId: undefined, timestamp: undefined })
  })
}
