/**
 * The parts of Platform around the Profile API that a local profile store
 * needs to be fed: Sandbox Management, Catalog datasets and batches, Batch
 * Ingestion, and Streaming Ingestion. Same paths and shapes as AEP, so
 * existing pipelines work unchanged.
 */
import { HttpApiBuilder, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { ProfileError } from "@rtcp/core"
import { Catalog, Ingestion, Sandboxes, StoreError } from "@rtcp/profile-store"
import { Clock, Effect, Option, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { check } from "../Gateway.js"
import { ImsTokens } from "../ImsTokens.js"
import { datasetInputOf, tagsOf } from "./catalogWire.js"
import { badRequest } from "./errors.js"
import { aep, aepService } from "./storeErrors.js"

/** A body the store cannot take answers as the store's own invalid input does. */
const readBody = <A>(result: A | string) =>
  aep(typeof result === "string" ? Effect.fail(StoreError.invalid(result)) : Effect.succeed(result))

/** Upper bound of one uploaded batch file. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024

const datasetWire = (dataset: Catalog.Dataset, org: string) => ({
  [dataset.id]: {
    id: dataset.id,
    name: dataset.name,
    ...(dataset.description ? { description: dataset.description } : {}),
    imsOrg: org,
    schemaRef: dataset.schemaRef,
    xdmClass: dataset.xdmClass === "profile" ? Catalog.ProfileClassId : Catalog.ExperienceEventClassId,
    tags: dataset.tags,
    created: dataset.createdAt,
    updated: dataset.updatedAt,
    version: "1.0.0"
  }
})

const batchWire = (batch: Ingestion.Batch, org: string) => ({
  id: batch.id,
  imsOrg: org,
  status: batch.status,
  relatedObjects: [{ type: "dataSet", id: batch.datasetId }],
  inputFormat: { format: "json" },
  metrics: {
    recordsRead: batch.recordsTotal,
    recordsWritten: batch.status === "success" ? batch.recordsTotal - batch.recordsFailed : 0,
    failedRecordCount: batch.recordsFailed
  },
  errors: summarize(batch.errors),
  created: batch.createdAt,
  updated: batch.completedAt ?? batch.createdAt,
  ...(batch.completedAt === undefined ? {} : { completed: batch.completedAt }),
  ...(batch.files.length > 0 ? { files: batch.files } : {})
})

/** Catalog groups failures by code with the failing rows. */
const summarize = (failures: ReadonlyArray<Ingestion.RecordFailure>) => {
  const byCode = new Map<string, { code: string; description: string; rows: Array<string> }>()
  for (const failure of failures) {
    const entry = byCode.get(failure.code) ?? { code: failure.code, description: failure.message, rows: [] }
    entry.rows.push(`${failure.file}:${failure.index}`)
    byCode.set(failure.code, entry)
  }
  return [...byCode.values()]
}

const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

const readJson = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const type = request.headers["content-type"] ?? ""
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    return yield* new ProfileError.BadRequest({
      status: 400,
      message: "A valid content-type must be specified",
      body: { type: "/placeholder/type/uri", status: 400, title: "BadRequestError", detail: "A valid content-type must be specified" }
    })
  }
  const text = yield* Effect.orElseSucceed(request.text, () => "")
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    return yield* badRequest(`the body is not valid JSON: ${(error as Error).message}`)
  }
})

const isObject = (u: unknown): u is Record<string, any> => typeof u === "object" && u !== null && !Array.isArray(u)

export const PlatformRoutesLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const catalog = aepService(yield* Catalog.Catalog)
    const ingestion = aepService(yield* Ingestion.Ingestion)
    const store = yield* Sandboxes.Sandboxes
    const sandboxes = aepService(store)
    const tokens = yield* ImsTokens

    const authorized = (options: { readonly sandbox?: boolean } = {}) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        check(request.headers, options).pipe(
          Effect.provideService(ImsTokens, tokens),
          Effect.provideService(Sandboxes.Sandboxes, store)
        )
      )
    const sandboxWire = (sandbox: Sandboxes.Sandbox) => ({
      name: sandbox.name,
      id: sandbox.id,
      title: sandbox.title,
      state: "active",
      type: sandbox.type,
      region: "VA7",
      isDefault: sandbox.name === "prod",
      createdDate: new Date(sandbox.createdAt).toISOString()
    })

    // Sandbox Management
    yield* router.get(
      "/data/foundation/sandbox-management/sandboxes",
      Effect.gen(function* () {
        yield* authorized({ sandbox: false })
        const all = yield* sandboxes.list
        return json({ sandboxes: all.map(sandboxWire), _page: { limit: all.length, count: all.length } })
      })
    )
    yield* router.post(
      "/data/foundation/sandbox-management/sandboxes",
      Effect.gen(function* () {
        yield* authorized({ sandbox: false })
        const body = yield* readJson
        if (!isObject(body)) return yield* badRequest('the body must be {"name":"dev","title":"Development","type":"development"}')
        if (body.type !== undefined && body.type !== "development" && body.type !== "production") {
          return yield* badRequest("type must be development or production")
        }
        const sandbox = yield* sandboxes.create({
          name: String(body.name ?? ""),
          title: typeof body.title === "string" ? body.title : undefined,
          type: body.type
        })
        return json(sandboxWire(sandbox), 201)
      })
    )

    // Catalog: datasets
    yield* router.post(
      "/data/foundation/catalog/dataSets",
      Effect.gen(function* () {
        const context = yield* authorized()
        const body = yield* readJson
        if (!isObject(body)) return yield* badRequest("the body must be a dataset object")
        const dataset = yield* catalog.create(context.sandboxName, yield* readBody(datasetInputOf(body)))
        return json([`@/dataSets/${dataset.id}`], 201)
      })
    )
    yield* router.get(
      "/data/foundation/catalog/dataSets",
      Effect.gen(function* () {
        const context = yield* authorized()
        const all = yield* catalog.list(context.sandboxName)
        return json(Object.assign({}, ...all.map((d) => datasetWire(d, context.imsOrgId))))
      })
    )
    yield* router.get(
      "/data/foundation/catalog/dataSets/:id",
      Effect.gen(function* () {
        const context = yield* authorized()
        const { id } = yield* HttpRouter.schemaPathParams(pathId)
        return json(datasetWire(yield* catalog.get(context.sandboxName, id), context.imsOrgId))
      })
    )
    yield* router.patch(
      "/data/foundation/catalog/dataSets/:id",
      Effect.gen(function* () {
        const context = yield* authorized()
        const { id } = yield* HttpRouter.schemaPathParams(pathId)
        const body = yield* readJson
        if (!isObject(body) || body.tags === undefined) {
          return yield* badRequest('the body must be {"tags":{"unifiedProfile":["enabled:true"]}}')
        }
        // An unknown dataset answers 404 whatever the tags say.
        const tags = yield* readBody(tagsOf(body.tags)).pipe(Effect.tapError(() => catalog.get(context.sandboxName, id)))
        yield* catalog.patchTags(context.sandboxName, id, tags)
        return json([`@/dataSets/${id}`])
      })
    )

    // Catalog: batches
    yield* router.get(
      "/data/foundation/catalog/batches",
      Effect.gen(function* () {
        const context = yield* authorized()
        const search = yield* HttpServerRequest.ParsedSearchParams
        const dataSet = typeof search.dataSet === "string" ? search.dataSet : undefined
        const batches = yield* ingestion.listBatches(context.sandboxName, dataSet)
        return json(Object.fromEntries(batches.map((b) => [b.id, batchWire(b, context.imsOrgId)])))
      })
    )
    yield* router.get(
      "/data/foundation/catalog/batches/:id",
      Effect.gen(function* () {
        const context = yield* authorized()
        const { id } = yield* HttpRouter.schemaPathParams(pathId)
        const batch = yield* ingestion.getBatch(context.sandboxName, id)
        return json({ [batch.id]: batchWire(batch, context.imsOrgId) })
      })
    )
    yield* router.get(
      "/data/foundation/export/batches/:id/failed",
      Effect.gen(function* () {
        const context = yield* authorized()
        const { id } = yield* HttpRouter.schemaPathParams(pathId)
        const batch = yield* ingestion.getBatch(context.sandboxName, id)
        return json({ data: batch.errors.map((f) => ({ file: f.file, row: f.index, code: f.code, message: f.message })) })
      })
    )

    // Batch ingestion
    yield* router.post(
      "/data/foundation/import/batches",
      Effect.gen(function* () {
        const context = yield* authorized()
        const body = yield* readJson
        if (!isObject(body)) return yield* badRequest('the body must be {"datasetId":"…","inputFormat":{"format":"json"}}')
        const format = isObject(body.inputFormat) ? body.inputFormat.format : "json"
        if (format !== undefined && format !== "json") {
          return yield* badRequest(`inputFormat.format "${String(format)}" is not supported here: use json (JSON or NDJSON files)`)
        }
        const batch = yield* ingestion.createBatch(context.sandboxName, {
          datasetId: body.datasetId,
          partialIngestion: body.enableErrorDiagnostics === true && body.partialIngestion === true ? true : body.partialIngestion
        })
        return json(batchWire(batch, context.imsOrgId), 201)
      })
    )
    yield* router.put(
      "/data/foundation/import/batches/:batchId/datasets/:datasetId/files/:fileName",
      Effect.gen(function* () {
        const context = yield* authorized()
        const request = yield* HttpServerRequest.HttpServerRequest
        const params = yield* HttpRouter.schemaPathParams(fileParams)
        const length = Number(request.headers["content-length"] ?? "0")
        if (length > MAX_FILE_BYTES) {
          return yield* new ProfileError.BadRequest({
            status: 413,
            message: "file too large",
            body: { type: "https://ns.adobe.com/aep/errors/RTCP-413", title: "Payload too large", status: 413, detail: `a batch file may be at most ${MAX_FILE_BYTES} bytes; split it into several files` }
          })
        }
        const content = yield* Effect.orElseSucceed(request.text, () => "")
        yield* ingestion.uploadFile(context.sandboxName, params.batchId, params.datasetId, params.fileName, content)
        return HttpServerResponse.empty({ status: 200 })
      })
    )
    yield* router.post(
      "/data/foundation/import/batches/:batchId",
      Effect.gen(function* () {
        const context = yield* authorized()
        const { batchId } = yield* HttpRouter.schemaPathParams(batchParams)
        const search = yield* HttpServerRequest.ParsedSearchParams
        const action = typeof search.action === "string" ? search.action.toUpperCase() : ""
        if (action === "COMPLETE") {
          yield* ingestion.complete(context.sandboxName, batchId)
          return HttpServerResponse.empty({ status: 200 })
        }
        if (action === "ABORT") {
          yield* ingestion.abort(context.sandboxName, batchId)
          return HttpServerResponse.empty({ status: 200 })
        }
        return yield* badRequest("action must be COMPLETE or ABORT (?action=COMPLETE)")
      })
    )

    // Streaming ingestion: one XDM message, visible once the call returns.
    yield* router.post(
      "/collection/:connectionId",
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const { connectionId } = yield* HttpRouter.schemaPathParams(connectionParams)
        const sandboxName = request.headers["x-sandbox-name"] || "prod"
        if (Option.isNone(yield* sandboxes.get(sandboxName))) {
          return yield* badRequest(`Sandbox "${sandboxName}" does not exist`)
        }
        const body = yield* readJson
        const header = isObject(body) && isObject(body.header) ? body.header : undefined
        const datasetId = header?.datasetId
        if (typeof datasetId !== "string" || datasetId === "") {
          return yield* badRequest('header.datasetId is required: {"header":{"datasetId":"…","schemaRef":{…}},"body":{"xdmEntity":{…}}}')
        }
        const xdmEntity = isObject(body) && isObject(body.body) ? body.body.xdmEntity : undefined
        if (!isObject(xdmEntity)) return yield* badRequest("body.xdmEntity must be the XDM record")
        yield* ingestion.streamRecord(sandboxName, datasetId, xdmEntity)
        const now = yield* Clock.currentTimeMillis
        const search = yield* HttpServerRequest.ParsedSearchParams
        return json({
          inletId: connectionId,
          xactionId: `${now}:${randomUUID()}`,
          receivedTimeMs: now,
          ...(search.syncValidation === "true" ? { syncValidation: { status: "pass" } } : {})
        })
      })
    )
  })
)

const pathId = Schema.Struct({ id: Schema.String })
const batchParams = Schema.Struct({ batchId: Schema.String })
const connectionParams = Schema.Struct({ connectionId: Schema.String })
const fileParams = Schema.Struct({ batchId: Schema.String, datasetId: Schema.String, fileName: Schema.String })
