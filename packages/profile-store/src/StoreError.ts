/**
 * How the store fails: tagged domain errors that say what went wrong in the
 * store's own terms. They carry no HTTP status and no AEP error body; the
 * local Profile API (`@rtcp/local-platform`) maps each one to AEP's answer
 * where it crosses the wire, as the repositories of Effect's examples do.
 *
 * `message` is the explanation a person reads (it says what to fix);
 * `rule` is the short name of the rule that was broken, when one name is not
 * implied by the error's tag.
 *
 * @since 0.1.0
 */
import type { Identity } from "@rtcp/core"
import { Data } from "effect"

/** The input breaks a rule of its own shape or values (a bad id, limit, date, cursor, definition). */
export class InvalidInput extends Data.TaggedError("InvalidInput")<{
  readonly message: string
  readonly rule?: string | undefined
}> {}

/** An XDM record that cannot become a fragment or an event. */
export class InvalidRecord extends Data.TaggedError("InvalidRecord")<{
  readonly message: string
}> {}

/** A well-formed request that the stored state refuses (too many policies, a policy in use, a job already queued). */
export class Refused extends Data.TaggedError("Refused")<{
  readonly message: string
  readonly rule?: string | undefined
}> {}

/**
 * A delete request (system job) that names data which cannot be deleted as
 * asked: `NotAsStored` for an unknown dataset or batch, or a batch of another
 * dataset; `RecordBatch` for a batch of a record dataset (records replace each
 * other, so one batch cannot be undone).
 */
export class DeletionRefused extends Data.TaggedError("DeletionRefused")<{
  readonly reason: "NotAsStored" | "RecordBatch"
  readonly datasetId?: string | undefined
  readonly message: string
}> {}

/** A computed attribute's name is taken in its sandbox (names are unique whatever their case). */
export class AttributeNameTaken extends Data.TaggedError("AttributeNameTaken")<{
  readonly sandbox: string
  readonly name: string
  /** The attribute that has the name. */
  readonly id: string
}> {
  override get message() {
    return `computed attribute "${this.name}" (${this.id}) in sandbox "${this.sandbox}" already has this name`
  }
}

/** The request is based on stored state that has changed since (a stale version, a name taken). */
export class Conflict extends Data.TaggedError("Conflict")<{
  readonly message: string
  readonly rule?: string | undefined
}> {}

/** The identity graph of a lookup has more members than a merged profile may combine. */
export class GraphTooLarge extends Data.TaggedError("GraphTooLarge")<{
  readonly count: number
  readonly limit: number
}> {
  override get message() {
    return `the identity graph links ${this.count} identities, more than ${this.limit}`
  }
}

/** No fragment and no event is stored for the identity (or its graph). */
export class ProfileNotFound extends Data.TaggedError("ProfileNotFound")<{
  /** The identity as asked (its namespace lower case; none for an XID). */
  readonly identity: Identity.Identity
}> {
  override get message() {
    return `no profile for ${this.identity.namespace ?? "XID"} ${this.identity.id}`
  }
}

export class PolicyNotFound extends Data.TaggedError("PolicyNotFound")<{
  readonly sandbox: string
  readonly id: string
}> {
  override get message() {
    return `Merge policy "${this.id}" does not exist in sandbox "${this.sandbox}"`
  }
}

/** A read named no merge policy and its schema class has no default one. */
export class NoDefaultPolicy extends Data.TaggedError("NoDefaultPolicy")<{
  readonly sandbox: string
  readonly schemaName: string
}> {
  override get message() {
    return `No default merge policy exists for ${this.schemaName} in sandbox "${this.sandbox}": pass mergePolicyId or make a policy default`
  }
}

export class DatasetNotFound extends Data.TaggedError("DatasetNotFound")<{
  readonly sandbox: string
  readonly id: string
}> {
  override get message() {
    return `Dataset "${this.id}" does not exist in sandbox "${this.sandbox}"`
  }
}

export class BatchNotFound extends Data.TaggedError("BatchNotFound")<{
  readonly sandbox: string
  readonly id: string
}> {
  override get message() {
    return `Batch "${this.id}" does not exist in sandbox "${this.sandbox}"`
  }
}

export class SystemJobNotFound extends Data.TaggedError("SystemJobNotFound")<{
  readonly sandbox: string
  readonly id: string
}> {
  override get message() {
    return `System job "${this.id}" does not exist in sandbox "${this.sandbox}"`
  }
}

export class ExportJobNotFound extends Data.TaggedError("ExportJobNotFound")<{
  readonly id: number
}> {
  override get message() {
    return `Export job ${this.id} does not exist`
  }
}

export class ComputedAttributeNotFound extends Data.TaggedError("ComputedAttributeNotFound")<{
  readonly sandbox: string
  readonly id: string
}> {
  override get message() {
    return `Computed attribute "${this.id}" does not exist in sandbox "${this.sandbox}"`
  }
}

export class DestinationNotFound extends Data.TaggedError("DestinationNotFound")<{
  readonly sandbox: string
  readonly id: string
}> {
  override get message() {
    return `Destination "${this.id}" does not exist in sandbox "${this.sandbox}"`
  }
}

export class ProjectionNotFound extends Data.TaggedError("ProjectionNotFound")<{
  readonly sandbox: string
  readonly id: string
}> {
  override get message() {
    return `Projection "${this.id}" does not exist in sandbox "${this.sandbox}"`
  }
}

/** A preview sample report that no sample job has produced (yet, or for that day). */
export class ReportNotFound extends Data.TaggedError("ReportNotFound")<{
  readonly sandbox: string
  /** The day asked for (YYYY-MM-DD); undefined for the latest. */
  readonly date: string | undefined
}> {
  override get message() {
    return this.date === undefined
      ? `No sample has run in sandbox "${this.sandbox}" yet: reports appear once a sample job ran after ingestion`
      : `No sample report exists for ${this.date} in sandbox "${this.sandbox}"`
  }
}

/** Everything some stored object was asked for and is not there. */
export type NotFound =
  | ProfileNotFound
  | PolicyNotFound
  | DatasetNotFound
  | BatchNotFound
  | SystemJobNotFound
  | ExportJobNotFound
  | ComputedAttributeNotFound
  | DestinationNotFound
  | ProjectionNotFound
  | ReportNotFound

export type StoreError =
  | InvalidInput
  | InvalidRecord
  | Refused
  | DeletionRefused
  | AttributeNameTaken
  | Conflict
  | GraphTooLarge
  | NoDefaultPolicy
  | NotFound

/** Shorthands for the two errors most rules fail with. */
export const invalid = (message: string, rule?: string) => new InvalidInput({ message, rule })

export const refused = (message: string, rule?: string) => new Refused({ message, rule })
