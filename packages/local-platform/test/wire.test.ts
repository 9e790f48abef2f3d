import { describe, expect, it } from "vitest"
import { type ExportJobs, type MergePolicies, type SampleStatus, StoreError, type SystemJobs } from "@rtcp/profile-store"
import type { ComputedAttribute } from "@rtcp/core"
import { datasetInputOf, tagsOf } from "../src/http/catalogWire.js"
import { changesOf, definitionOf } from "../src/http/computedAttributeWire.js"
import { destinationDraftOf, projectionDraftOf } from "../src/http/edgeProjectionWire.js"
import { newJobOf, toWire as exportJobWire } from "../src/http/exportJobWire.js"
import { toAep } from "../src/http/storeErrors.js"
import { applyPatch, validate } from "../src/http/mergePolicyWire.js"
import * as sampleStatusWire from "../src/http/sampleStatusWire.js"
import { createInputOf, toWire as systemJobWire } from "../src/http/systemJobWire.js"

const body = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  schema: { name: "_xdm.context.profile" },
  identityGraph: { type: "pdg" },
  attributeMerge: { type: "timestampOrdered" },
  ...extra
})

const policy: MergePolicies.Policy = {
  id: "p1",
  name: "Default",
  schemaName: "_xdm.context.profile",
  version: 1,
  identityGraph: "pdg",
  attributeMerge: { type: "timestampOrdered" },
  isDefault: false,
  activeOnEdge: false,
  updateEpoch: 1,
  createdAt: 1
}

describe("merge policy bodies", () => {
  it("turn into the store's draft, or a message that says what to fix", () => {
    expect(validate(body("x", { default: "true" }))).toMatchObject({ name: "x", schemaName: "_xdm.context.profile", identityGraph: "pdg", isDefault: true })
    expect(validate(body("x", { attributeMerge: { type: "dataSetPrecedence" } }))).toMatch(/order/)
    expect(validate(body("x", { identityGraph: { type: "auto" } }))).toMatch(/identityGraph.type/)
    expect(validate({ name: "x" })).toMatch(/schema.name/)
  })

  it("JSON Patch: an array or a single object, /idActiveOnEdge as the OpenAPI document spells it", () => {
    expect(applyPatch(policy, [{ op: "add", path: "/default", value: "true" }])).toMatchObject({ isDefault: true })
    expect(applyPatch(policy, { op: "add", path: "/idActiveOnEdge", value: "true" })).toMatchObject({ activeOnEdge: true })
    expect(applyPatch(policy, [{ op: "remove", path: "/name" }])).toMatch(/op "remove"/)
    expect(applyPatch(policy, [{ op: "add", path: "/imsOrgId", value: "x" }])).toMatch(/cannot be patched/)
  })
})

describe("system job answers", () => {
  it("the newest documented request shape, with counts in metrics", () => {
    const job: SystemJobs.Job = {
      id: "j1",
      requestType: "TRUNCATE_DATASET",
      sandbox: "prod",
      sandboxId: "s1",
      imsOrgId: "org@AdobeOrg",
      datasetId: "d1",
      batchId: undefined,
      status: "SUCCESS",
      fragmentsTotal: 5,
      eventsTotal: 0,
      profilesAffected: 5,
      fragmentsDeleted: 5,
      eventsDeleted: 0,
      error: undefined,
      createdAt: 1_700_000_000_000,
      updatedAt: 1_700_000_002_000,
      startedAt: 1_700_000_000_500,
      completedAt: 1_700_000_002_000
    }
    const wire = systemJobWire(job) as any
    expect(wire).toMatchObject({
      requestId: "j1",
      requestType: "TRUNCATE_DATASET",
      imsOrgId: "org@AdobeOrg",
      sandbox: { sandboxName: "prod", sandboxId: "s1" },
      status: "SUCCESS",
      properties: { datasetId: "d1" },
      progress: 100,
      metrics: { fragmentsDeleted: 5, eventsDeleted: 0, recordsProcessed: 5, profilesAffected: 5, fragmentsToDelete: 5 }
    })
    expect(wire.properties.batchId).toBeUndefined()
    expect(wire.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
    expect(systemJobWire({ ...job, batchId: "b1" }).properties).toEqual({ datasetId: "d1", batchId: "b1" })
  })
})

describe("preview sample status answers", () => {
  const snapshot: SampleStatus.Snapshot = {
    sandbox: "prod",
    submittedAt: Date.UTC(2020, 7, 1, 17, 57, 57),
    sampledAt: Date.UTC(2020, 7, 1, 17, 57, 57, 697),
    mergeStrategy: "timestampOrdered_pdg",
    totalRows: 300,
    numRowsToRead: 90,
    sampled: true,
    fragments: 500,
    documents: 700,
    events: 400,
    lastBatch: { id: "B1", at: 1_596_304_000_000 },
    datasets: [{ id: "d1", name: "CRM", description: "", streamingIngestionEnabled: "true", sampleCount: 30, fullIDsCount: 100 }],
    namespaces: [{ code: "Email", id: "6", sampleCount: 60, fullIDsCount: 200, fullIDsFragmentCount: 150 }],
    datasetOverlap: { d1: 300 },
    namespaceOverlap: { Email: 300 },
    unstitched: { "7days": { countOfProfiles: 3, eventsAssociated: 1, nsDistribution: { Email: { countOfProfiles: 3, eventsAssociated: 1 } } } }
  }

  it("Java timestamps for the status, ISO without a zone for the reports", () => {
    const { reportTimestamp, sampleTimestamp } = sampleStatusWire
    expect(sampleTimestamp(Date.UTC(2020, 7, 1, 17, 57, 57))).toBe("2020-08-01 17:57:57.0")
    expect(sampleTimestamp(Date.UTC(2020, 7, 1, 17, 57, 57, 697))).toBe("2020-08-01 17:57:57.697")
    expect(sampleTimestamp(Date.UTC(2020, 7, 1, 17, 57, 57, 50))).toBe("2020-08-01 17:57:57.05")
    expect(reportTimestamp(Date.UTC(2020, 7, 1, 17, 57, 57, 50))).toBe("2020-08-01T17:57:57.050")
  })

  it("the status: counts as AEP quotes them, the ratio read, and the job under way", () => {
    const status = sampleStatusWire.status({ snapshot, running: true, submittedAt: snapshot.submittedAt + 5000, mergeStrategy: "timestampOrdered_pdg" })
    expect(JSON.stringify(status)).toBe(
      JSON.stringify({
        numRowsToRead: "90",
        sampleJobRunning: { status: true, submissionTimestamp: "2020-08-01 17:58:02.0" },
        cosmosDocCount: '"700"',
        docCount: '"700"',
        totalFragmentCount: 500,
        lastSuccessfulBatchTimestamp: '"1596304000000"',
        streamingDriven: '"false"',
        totalRows: "300",
        lastBatchId: '"B1"',
        status: "TASK_FINISHED",
        samplingRatio: 0.3,
        mergeStrategy: "timestampOrdered_pdg",
        lastSampledTimestamp: "2020-08-01 17:57:57.697"
      })
    )
    // An empty store sampled reads all of nothing.
    expect(sampleStatusWire.status({ snapshot: { ...snapshot, totalRows: 0, numRowsToRead: 0 }, running: false, submittedAt: undefined, mergeStrategy: "x" }).samplingRatio).toBe(1)
  })

  it("before the first sample: zero counts, TASK_NOT_STARTED, the policy's strategy", () => {
    expect(sampleStatusWire.status({ snapshot: undefined, running: true, submittedAt: snapshot.submittedAt, mergeStrategy: "timestampOrdered_none" })).toEqual({
      numRowsToRead: "0",
      sampleJobRunning: { status: true, submissionTimestamp: "2020-08-01 17:57:57.0" },
      cosmosDocCount: '"0"',
      docCount: '"0"',
      totalFragmentCount: 0,
      lastSuccessfulBatchTimestamp: '"null"',
      streamingDriven: '"false"',
      totalRows: "0",
      lastBatchId: '"null"',
      status: "TASK_NOT_STARTED",
      samplingRatio: 0,
      mergeStrategy: "timestampOrdered_none",
      lastSampledTimestamp: null
    })
  })

  it("reports: sample percentages over the profiles read, full ones over the store", () => {
    const at = "2020-08-01T17:57:57.697"
    expect(JSON.stringify(sampleStatusWire.datasetReport(snapshot))).toBe(
      JSON.stringify({
        data: [
          {
            sampleCount: 30,
            samplePercentage: 0.333333,
            fullIDsCount: 100,
            fullIDsPercentage: 0.333333,
            name: "CRM",
            description: "",
            value: "d1",
            streamingIngestionEnabled: "true",
            createdUser: sampleStatusWire.CREATED_USER,
            reportTimestamp: at
          }
        ],
        reportTimestamp: at
      })
    )
    expect(JSON.stringify(sampleStatusWire.namespaceReport(snapshot))).toBe(
      JSON.stringify({
        data: [
          {
            sampleCount: 60,
            samplePercentage: 0.666667,
            reportTimestamp: at,
            fullIDsFragmentCount: 150,
            fullIDsCount: 200,
            fullIDsPercentage: 0.666667,
            code: "Email",
            value: "6"
          }
        ],
        reportTimestamp: at
      })
    )
    expect(sampleStatusWire.datasetOverlapReport(snapshot)).toEqual({ data: { d1: 300 }, reportTimestamp: at })
    expect(sampleStatusWire.namespaceOverlapReport(snapshot)).toEqual({ data: { Email: 300 }, reportTimestamp: at })
    expect(JSON.stringify(sampleStatusWire.unstitchedProfilesReport(snapshot))).toBe(
      JSON.stringify({
        data: { totalNumberOfProfiles: 300, totalNumberOfEvents: 400, unstitchedProfiles: snapshot.unstitched },
        reportTimestamp: at
      })
    )
  })
})

describe("system job bodies", () => {
  it("name a dataset, or a batch with or without its dataset, in either spelling", () => {
    expect(createInputOf({ dataSetId: " d1 " })).toEqual({ datasetId: "d1" })
    expect(createInputOf({ datasetId: "d1" })).toEqual({ datasetId: "d1" })
    expect(createInputOf({ datasetId: "d1", batchId: "b1" })).toEqual({ datasetId: "d1", batchId: "b1" })
    expect(createInputOf({ batchId: "b1" })).toEqual({ datasetId: undefined, batchId: "b1" })
    expect(createInputOf({ dataSetId: "d1", datasetId: "d1" })).toEqual({ datasetId: "d1" })
  })

  it("or say what to send", () => {
    const cases: ReadonlyArray<[unknown, RegExp]> = [
      ["x", /^The body must be a JSON object: send/],
      [[1], /^The body must be a JSON object/],
      [{}, /^dataSetId is required: send/],
      [{ dataSetId: "" }, /^dataSetId must be a non-empty string/],
      [{ dataSetId: 42 }, /^dataSetId must be a non-empty string/],
      [{ batchId: ["x"] }, /^batchId must be a non-empty string/],
      [{ dataSetId: "a", datasetId: "b" }, /^dataSetId "a" and datasetId "b" differ/]
    ]
    for (const [body, message] of cases) expect(createInputOf(body), JSON.stringify(body)).toMatch(message)
  })
})

describe("computed attribute bodies", () => {
  const ok: ComputedAttribute.ComputedAttributeInput = {
    name: "fine",
    displayName: "Fine",
    description: "for tests",
    expression: { type: "pql", format: "PQL/text", value: " xEvent.count() " },
    duration: { count: 1, unit: "DAYS" }
  }

  it("a create body becomes a definition: a DRAFT unless it says NEW, the PQL text as sent", () => {
    expect(definitionOf(ok)).toEqual({
      name: "fine",
      displayName: "Fine",
      description: "for tests",
      expression: " xEvent.count() ",
      duration: { count: 1, unit: "DAYS" },
      keepCurrent: false,
      status: "DRAFT"
    })
    expect(definitionOf({ ...ok, status: "NEW", keepCurrent: true })).toMatchObject({ status: "NEW", keepCurrent: true })
  })

  it("or says what is wrong with AEP's envelope", () => {
    const cases: ReadonlyArray<[ComputedAttribute.ComputedAttributeInput, RegExp]> = [
      [{ ...ok, expression: { type: "SQL", format: "pql/text", value: "xEvent.count()" } }, /^expression.type must be "PQL", not "SQL"$/],
      [{ ...ok, expression: { type: "PQL", format: "text", value: "xEvent.count()" } }, /^expression.format must be "pql\/text", not "text"$/],
      [{ ...ok, schema: { name: "_xdm.context.experienceevent" } } as ComputedAttribute.ComputedAttributeInput, /^schema.name must be _xdm.context.profile/]
    ]
    for (const [body, message] of cases) expect(definitionOf(body), JSON.stringify(body)).toMatch(message)
  })

  it("a PATCH body names only editable fields; statuses in any case", () => {
    expect(changesOf({ status: "disabled" })).toMatchObject({ status: "DISABLED" })
    expect(changesOf({ expression: { type: "PQL", format: "pql/text", value: "xEvent.count()" } })).toMatchObject({ expression: "xEvent.count()" })
    const cases: ReadonlyArray<[unknown, RegExp]> = [
      [{}, /^the patch is empty: send the fields to change/],
      [[{ op: "replace" }], /^the body must be a JSON object/],
      [{ mergeFunction: { value: "SUM" } }, /^mergeFunction is a system field and cannot be changed$/],
      [{ path: "x/ComputedAttributes" }, /^path is a system field/],
      [{ colour: "red" }, /^colour is not a field of a computed attribute/],
      [{ status: "DELETED" }, /^status must be one of DRAFT, NEW/],
      [{ expression: { type: "PQL", format: "text", value: "xEvent.count()" } }, /^expression.format must be "pql\/text"/]
    ]
    for (const [body, message] of cases) {
      expect(changesOf(body as ComputedAttribute.ComputedAttributePatch), JSON.stringify(body)).toMatch(message)
    }
  })
})

describe("edge projection bodies", () => {
  it("a destination: ttl and replication policy left out stay undefined for the store to keep or default", () => {
    expect(destinationDraftOf({ type: "EDGE", dataCenters: ["OR1"] })).toEqual({
      type: "EDGE",
      dataCenters: ["OR1"],
      ttl: undefined,
      replicationPolicy: undefined,
      currentVersion: undefined
    })
    expect(destinationDraftOf({ type: "EDGE", dataCenters: ["VA5"], ttl: 600, replicationPolicy: "PROACTIVE", currentVersion: "2" })).toEqual({
      type: "EDGE",
      dataCenters: ["VA5"],
      ttl: 600,
      replicationPolicy: "PROACTIVE",
      currentVersion: 2
    })
  })

  it("a destination body that breaks a rule says which", () => {
    const cases: ReadonlyArray<[unknown, RegExp]> = [
      [{ type: "CLOUD", dataCenters: ["OR1"] }, /only destination type is "EDGE"/],
      [{ dataCenters: ["OR1"] }, /^type is required/],
      [{ type: "EDGE" }, /^dataCenters is required/],
      [{ type: "EDGE", dataCenters: [] }, /non-empty array/],
      [{ type: "EDGE", dataCenters: ["OR1", "XX9"] }, /"XX9" is unknown/],
      [{ type: "EDGE", dataCenters: ["OR1", "OR1"] }, /twice/],
      [{ type: "EDGE", dataCenters: ["OR1"], ttl: 599 }, /599 is out of range: use 600 to 604800/],
      [{ type: "EDGE", dataCenters: ["OR1"], ttl: 604_801 }, /out of range/],
      [{ type: "EDGE", dataCenters: ["OR1"], ttl: "1h" }, /whole number/],
      [{ type: "EDGE", dataCenters: ["OR1"], replicationPolicy: "EAGER" }, /PROACTIVE or REACTIVE/],
      [{ type: "EDGE", dataCenters: ["OR1"], currentVersion: -1 }, /^currentVersion must be the integer version you last read, got -1/],
      [[1], /destination object/]
    ]
    for (const [body, message] of cases) expect(destinationDraftOf(body), JSON.stringify(body)).toMatch(message)
  })

  it("a projection body, with the schemaName a PUT may carry", () => {
    expect(projectionDraftOf({ name: "p", selector: "emails", destinationId: "d", schemaName: "_xdm.context.experienceevent" })).toEqual({
      name: "p",
      selector: "emails",
      destinationId: "d",
      mergePolicyId: undefined,
      currentVersion: undefined,
      schemaName: "_xdm.context.experienceevent"
    })
    const ok = { name: "p", selector: "emails", destinationId: "d" }
    const cases: ReadonlyArray<[unknown, RegExp]> = [
      [{ ...ok, selector: "emails, person" }, /^selector: a selector must not contain spaces/],
      [{ ...ok, selector: "person(" }, /^selector: .*missing "\)"/],
      [{ ...ok, name: "" }, /^name must be a non-empty string/],
      [{ ...ok, name: " p" }, /^name must not start or end with spaces/],
      [{ ...ok, destinationId: undefined }, /^destinationId is required/],
      [{ ...ok, mergePolicyId: 5 }, /^mergePolicyId must be a merge policy id/],
      ["x", /^the body must be a projection object/]
    ]
    for (const [body, message] of cases) expect(projectionDraftOf(body), JSON.stringify(body)).toMatch(message)
  })
})

describe("export job bodies", () => {
  const good = { schema: { name: "_xdm.context.profile" }, destination: { datasetId: "d1" } }

  it("become what the job does, with the fields its answers echo as sent", () => {
    const job = newJobOf({
      ...good,
      fields: "person.name , identities",
      mergePolicy: { id: "p1", version: 1 },
      filter: { fromIngestTimestamp: "2025-01-31T12:00:00Z", emptyProfiles: "true" },
      additionalFields: { eventList: { fields: "web", filter: { toIngestTimestamp: 1_000 } } },
      evaluationInfo: { segmentation: false }
    })
    expect(job).toEqual({
      request: {
        fields: ["person.name", "identities"],
        mergePolicyId: "p1",
        mergePolicyVersion: 1,
        segments: undefined,
        fromIngestTimestamp: Date.parse("2025-01-31T12:00:00Z"),
        emptyProfiles: true,
        events: { fields: ["web"], fromIngestTimestamp: undefined, toIngestTimestamp: 1_000 },
        datasetId: "d1",
        segmentPerBatch: false
      },
      echo: {
        fields: "person.name , identities",
        filter: { fromIngestTimestamp: "2025-01-31T12:00:00Z", emptyProfiles: "true" },
        additionalFields: { eventList: { fields: "web", filter: { toIngestTimestamp: 1_000 } } },
        evaluationInfo: { segmentation: false }
      }
    })
    expect(newJobOf({ ...good, destination: { dataSetId: "d2" }, filter: { segments: [{ segmentId: "s" }] } })).toMatchObject({
      request: { datasetId: "d2", segments: [{ segmentId: "s", segmentNs: "ups", status: ["realized", "existing"] }] },
      echo: { filter: { segments: [{ segmentId: "s" }] } }
    })
  })

  it("or the detail of a 400 that says what to fix", () => {
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [{ ...good, destination: {} }, "destination.datasetId is required"],
      [{ ...good, destination: { datasetId: "d1", dataSetId: "other" } }, "different datasets"],
      [{ ...good, schema: { name: "_xdm.context.experienceevent" } }, "schema.name"],
      [{ destination: { datasetId: "d1" } }, "schema.name is required"],
      ["not an object", "export job object"],
      [{ ...good, mergePolicy: { id: "p1", version: 0 } }, "mergePolicy.version must be a positive integer"],
      [{ ...good, fields: 42 }, "fields must be"],
      [{ ...good, fields: "person..name" }, "not a dot-separated field path"],
      [{ ...good, filter: { fromIngestTimestamp: "yesterday" } }, "filter.fromIngestTimestamp"],
      [{ ...good, filter: { emptyProfiles: "maybe" } }, "filter.emptyProfiles"],
      [{ ...good, filter: { segments: [{ status: ["realized"] }] } }, "segmentId is required"],
      [{ ...good, filter: { segments: [{ segmentId: "s", status: ["gone"] }] } }, "status must be"],
      [
        { ...good, additionalFields: { eventList: { filter: { fromIngestTimestamp: "2025-02-01T00:00:00Z", toIngestTimestamp: "2025-01-01T00:00:00Z" } } } },
        "before toIngestTimestamp"
      ],
      [{ ...good, additionalFields: { eventList: "all" } }, "eventList must be an object"],
      [{ ...good, evaluationInfo: { segmentation: "often" } }, "evaluationInfo.segmentation must be a boolean"]
    ]
    for (const [body, detail] of cases) expect(newJobOf(body), JSON.stringify(body)).toContain(detail)
  })
})

describe("export job answers", () => {
  const timing = (start: number, end: number) => ({ startTimeInMs: start, endTimeInMs: end, totalTimeInMs: end - start })
  const metrics: ExportJobs.Metrics = {
    totalTime: timing(1_700_000_000_000, 1_700_000_003_000),
    profileExportTime: timing(1_700_000_000_500, 1_700_000_002_000),
    aCPDatasetWriteTime: timing(1_700_000_000_600, 1_700_000_003_000),
    totalExportedProfileCounter: 5,
    exportedProfileByNamespaceCounter: { crmid: 4, email: 5 }
  }
  const job: ExportJobs.Job = {
    id: 7,
    sandbox: "prod",
    status: "SUCCEEDED",
    mergePolicyId: "p1",
    mergePolicyVersion: 2,
    datasetId: "d1",
    batchId: "b1",
    segmentPerBatch: false,
    echo: {},
    requestId: "req-1",
    imsOrgId: "org@AdobeOrg",
    computeGateway: { exportJob: "g1", pushJob: "g2" },
    metrics,
    errors: [],
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_003_000
  }

  it("AEP's batch export job: schema, policy, destination with its batch, metrics and times", () => {
    const wire = exportJobWire(job)
    expect(wire).toEqual({
      id: 7,
      jobType: "BATCH",
      profileInstanceId: "ups",
      schema: { name: "_xdm.context.profile" },
      mergePolicy: { id: "p1", version: 2 },
      status: "SUCCEEDED",
      requestId: "req-1",
      computeGatewayJobId: { exportJob: "g1", pushJob: "g2" },
      metrics,
      destination: { datasetId: "d1", segmentPerBatch: false, batchId: "b1" },
      imsOrgId: "org@AdobeOrg",
      creationTime: 1_700_000_000_000,
      updateTime: 1_700_000_003_000
    })
    // No error entries, no echoed fields: the keys are absent, not empty.
    for (const key of ["errors", "fields", "filter", "additionalFields", "evaluationInfo"]) expect(wire).not.toHaveProperty(key)
  })

  it("echoes the request's fields as sent, and lists errors when there are some, keys in their usual order", () => {
    const echo: ExportJobs.Echo = {
      fields: "person.name , identities",
      filter: { emptyProfiles: "true", segments: [{ segmentId: "s" }] },
      additionalFields: { eventList: { fields: "web" } },
      evaluationInfo: { segmentation: false }
    }
    const errors: ReadonlyArray<ExportJobs.JobError> = [{ code: "0090000009", msg: "no segment store", callStack: "" }]
    const wire = exportJobWire({ ...job, status: "FAILED", segmentPerBatch: true, echo, errors })
    expect(wire).toMatchObject({ ...echo, status: "FAILED", errors, destination: { datasetId: "d1", segmentPerBatch: true, batchId: "b1" } })
    expect(Object.keys(wire)).toEqual([
      "id",
      "jobType",
      "profileInstanceId",
      "schema",
      "mergePolicy",
      "fields",
      "filter",
      "additionalFields",
      "evaluationInfo",
      "status",
      "requestId",
      "computeGatewayJobId",
      "metrics",
      "destination",
      "errors",
      "imsOrgId",
      "creationTime",
      "updateTime"
    ])
  })
})

describe("store errors in AEP's words", () => {
  it("a batch of a record dataset: the System Jobs API's code and sentence", () => {
    const error = toAep(new StoreError.DeletionRefused({ reason: "RecordBatch", datasetId: "d1", message: "records replace each other" }))
    expect(error.status).toBe(422)
    expect(error.body).toEqual({
      type: "https://ns.adobe.com/aep/errors/UPAPI-036002-422",
      title: "Invalid system job payload.",
      status: 422,
      detail:
        `Batch can only be specified for EE type 'd1': dataset "d1" holds profile records, which replace each other, so one batch ` +
        `cannot be undone. Delete the whole dataset ({"dataSetId":"d1"}) or re-ingest corrected records`
    })
    const unknown = toAep(new StoreError.DeletionRefused({ reason: "NotAsStored", message: 'Dataset "x" does not exist in sandbox "prod"' }))
    expect(unknown.body).toMatchObject({ status: 422, detail: 'Dataset "x" does not exist in sandbox "prod"' })
  })

  it("a computed attribute name in use: the Computed Attributes API's sentence", () => {
    const error = toAep(new StoreError.AttributeNameTaken({ sandbox: "prod", name: "spend", id: "a1" }))
    expect(error.status).toBe(400)
    expect(error.body).toEqual({
      type: "https://ns.adobe.com/aep/errors/RTCP-400",
      title: "Duplicate computed attribute name",
      status: 400,
      detail: 'Function with the same name already exists for the specified schema or definedOn: computed attribute "spend" (a1) in sandbox "prod"'
    })
  })

  it("a profile not found names the identity as asked", () => {
    const error = toAep(new StoreError.ProfileNotFound({ identity: { namespace: "Email", id: "a@x" } }))
    expect(error.body).toEqual({
      message: "UPS-ACC-1000003:No data found for entityId a@x in namespace Email",
      cause: "Status Code - 404 : No data found for entityId a@x in namespace Email",
      statusCode: "404"
    })
  })
})

describe("dataset bodies", () => {
  it("a create body becomes the store's input; what is not a string is left out", () => {
    expect(
      datasetInputOf({
        name: "CRM",
        description: 5,
        schemaRef: { id: "https://ns.adobe.com/xdm/context/profile", contentType: 1 },
        tags: { unifiedProfile: ["enabled:true"] }
      })
    ).toEqual({
      name: "CRM",
      description: undefined,
      schemaRef: { id: "https://ns.adobe.com/xdm/context/profile", contentType: undefined },
      tags: { unifiedProfile: ["enabled:true"] },
      xdmClass: undefined
    })
  })

  it("or says what is wrong", () => {
    const ref = { id: "https://ns.adobe.com/xdm/context/profile" }
    const cases: ReadonlyArray<[Record<string, unknown>, RegExp]> = [
      [{ schemaRef: ref }, /^name is required$/],
      [{ name: "CRM" }, /^schemaRef.id is required/],
      [{ name: "CRM", schemaRef: { id: 5 } }, /^schemaRef.id is required/],
      [{ name: "CRM", schemaRef: ref, xdmClass: 1 }, /^xdmClass must be a class id string$/],
      [{ name: "CRM", schemaRef: ref, tags: [] }, /^tags must be an object/],
      [{ name: "CRM", schemaRef: ref, tags: { unifiedProfile: "enabled:true" } }, /^tags.unifiedProfile must be an array of strings/]
    ]
    for (const [body, message] of cases) expect(datasetInputOf(body), JSON.stringify(body)).toMatch(message)
    expect(tagsOf({ unifiedProfile: [1] })).toMatch(/^tags.unifiedProfile must be an array of strings/)
  })
})
