/**
 * The store's domain errors as AEP answers them: each `StoreError` becomes
 * the core's tagged error with AEP's status and body. The store says what
 * went wrong; only this edge knows how Platform words it on the wire.
 */
import { ProfileError } from "@rtcp/core"
import { StoreError } from "@rtcp/profile-store"
import { Effect } from "effect"

/** problem+json, the shape of AEP's newer services. */
export const problem = (status: number, title: string, detail: string, code?: string) => ({
  type: `https://ns.adobe.com/aep/errors/${code ?? `RTCP-${status}`}`,
  title,
  status,
  detail
})

/** The UPS context error body of `/access/entities` (every field a string). */
export const upsError = (status: number, code: string, message: string) => ({
  message: `${code}:${message}`,
  cause: `Status Code - ${status} : ${message}`,
  statusCode: String(status)
})

const badRequest = (status: number, title: string, detail: string) =>
  new ProfileError.BadRequest({ status, message: detail, body: problem(status, title, detail) })

const notFound = (title: string, detail: string) =>
  new ProfileError.NotFound({ status: 404, message: detail, body: problem(404, title, detail) })

const unprocessable = (title: string, detail: string, code?: string) =>
  new ProfileError.Unprocessable({ status: 422, message: detail, body: problem(422, title, detail, code) })

/** The core error each store error becomes (other errors pass through). */
export type AepOf<E> = E extends StoreError.InvalidInput | StoreError.InvalidRecord | StoreError.Conflict | StoreError.AttributeNameTaken
  ? ProfileError.BadRequest
  : E extends StoreError.Refused | StoreError.DeletionRefused | StoreError.NoDefaultPolicy
    ? ProfileError.Unprocessable
    : E extends StoreError.GraphTooLarge
      ? ProfileError.TooManyRelatedIdentities
      : E extends StoreError.NotFound
        ? ProfileError.NotFound
        : E

const NOT_FOUND_TITLES: Record<StoreError.NotFound["_tag"], string> = {
  ProfileNotFound: "Not found",
  PolicyNotFound: "Merge policy not found",
  DatasetNotFound: "Not found",
  BatchNotFound: "Not found",
  SystemJobNotFound: "System job not found",
  ExportJobNotFound: "Export job not found",
  ComputedAttributeNotFound: "Computed attribute not found",
  DestinationNotFound: "Destination not found",
  ProjectionNotFound: "Projection not found",
  ReportNotFound: "Report not found"
}

const isStoreError = (error: unknown): error is StoreError.StoreError =>
  typeof error === "object" &&
  error !== null &&
  "_tag" in error &&
  (["InvalidInput", "InvalidRecord", "Refused", "DeletionRefused", "AttributeNameTaken", "Conflict", "GraphTooLarge", "NoDefaultPolicy"].includes(String(error._tag)) ||
    String(error._tag) in NOT_FOUND_TITLES)

export const toAep = <E>(error: E): AepOf<E> => {
  if (!isStoreError(error)) return error as AepOf<E>
  const mapped = ((): ProfileError.ProfileError => {
    switch (error._tag) {
      case "InvalidInput":
        return badRequest(400, error.rule ?? "Bad request", error.message)
      case "InvalidRecord":
        return badRequest(400, "Invalid XDM record", error.message)
      case "Conflict":
        // Declared as a BadRequest by the contract; AEP answers it 409.
        return badRequest(409, error.rule ?? "Conflict", error.message)
      case "Refused":
        return unprocessable(error.rule ?? "Unprocessable entity", error.message)
      case "DeletionRefused":
        // The Profile System Jobs API's own code and words for a payload it cannot act on.
        return unprocessable(
          "Invalid system job payload.",
          error.reason === "RecordBatch"
            ? `Batch can only be specified for EE type '${error.datasetId}': dataset "${error.datasetId}" holds profile records, which ` +
                `replace each other, so one batch cannot be undone. Delete the whole dataset ({"dataSetId":"${error.datasetId}"}) or re-ingest corrected records`
            : error.message,
          "UPAPI-036002-422"
        )
      case "AttributeNameTaken":
        // The Computed Attributes API's words for a name in use.
        return badRequest(
          400,
          "Duplicate computed attribute name",
          `Function with the same name already exists for the specified schema or definedOn: computed attribute "${error.name}" (${error.id}) in sandbox "${error.sandbox}"`
        )
      case "NoDefaultPolicy":
        return unprocessable("No default merge policy", error.message)
      case "GraphTooLarge":
        return new ProfileError.TooManyRelatedIdentities({
          status: 422,
          message: `Too many related identities (${error.count}; the limit is ${error.limit})`,
          body: upsError(422, "UPS-MRG-1000001", `Too many related identities: the identity graph links ${error.count} identities, more than ${error.limit}`)
        })
      case "ProfileNotFound":
        return new ProfileError.NotFound({
          status: 404,
          message: error.message,
          body: upsError(
            404,
            "UPS-ACC-1000003",
            `No data found for entityId ${error.identity.id}${error.identity.namespace ? ` in namespace ${error.identity.namespace}` : ""}`
          )
        })
      default:
        return notFound(NOT_FOUND_TITLES[error._tag], error.message)
    }
  })()
  return mapped as AepOf<E>
}

/** Runs a store effect with its domain errors turned into AEP's. */
export const aep = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, AepOf<E>, R> =>
  Effect.mapError(self, toAep)

/** A store service whose operations fail with AEP's errors instead of the store's. */
export type AepService<S> = {
  readonly [K in keyof S]: S[K] extends (...args: infer P) => Effect.Effect<infer A, infer E, infer R>
    ? (...args: P) => Effect.Effect<A, AepOf<E>, R>
    : S[K] extends Effect.Effect<infer A, infer E, infer R>
      ? Effect.Effect<A, AepOf<E>, R>
      : S[K]
}

/**
 * Wraps every operation of a store service with `aep`, so that handlers use
 * the store as they would an AEP-speaking service and the mapping lives in
 * one place.
 */
export const aepService = <S extends object>(service: S): AepService<S> => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(service)) {
    out[key] =
      typeof value === "function"
        ? (...args: ReadonlyArray<unknown>) => {
            const result = value.apply(service, args)
            return Effect.isEffect(result) ? aep(result) : result
          }
        : Effect.isEffect(value)
          ? aep(value)
          : value
  }
  return out as AepService<S>
}
