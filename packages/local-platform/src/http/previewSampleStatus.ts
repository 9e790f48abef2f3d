/**
 * `/data/core/ups/previewsamplestatus` and its reports, from the store's
 * sample snapshots (see `SampleStatus` in @rtcp/profile-store for what is
 * counted and when samples run), written in AEP's shapes by `sampleStatusWire`.
 *
 * The older path `/report/unknownProfiles` is served as an alias of
 * `/report/unstitchedProfiles` by a plain route beside the contract (the
 * contract only declares the newer path), behind the same gateway checks.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { PlatformGateway, ProfileApi } from "@rtcp/core"
import { SampleStatus, Sandboxes } from "@rtcp/profile-store"
import { Effect, Layer } from "effect"
import { check } from "../Gateway.js"
import { ImsTokens } from "../ImsTokens.js"
import * as wire from "./sampleStatusWire.js"
import { aepService } from "./storeErrors.js"

const sandbox = Effect.map(PlatformGateway.PlatformContext, (context) => context.sandboxName)

const Group = HttpApiBuilder.group(ProfileApi.ProfileApi, "previewSampleStatus", (handlers) =>
  Effect.gen(function* () {
    const samples = aepService(yield* SampleStatus.SampleStatus)
    /** A report of the caller's sandbox, from the snapshot of `date` or the latest. */
    const reportOf = <A>(date: string | undefined, answer: (snapshot: SampleStatus.Snapshot) => A) =>
      Effect.flatMap(sandbox, (s) => samples.report(s, date)).pipe(Effect.map(answer))
    return handlers
      .handle("status", () => Effect.flatMap(sandbox, samples.status).pipe(Effect.map(wire.status)))
      .handle("datasetReport", ({ urlParams }) => reportOf(urlParams.date, wire.datasetReport))
      .handle("namespaceReport", ({ urlParams }) => reportOf(urlParams.date, wire.namespaceReport))
      .handle("datasetOverlapReport", ({ urlParams }) => reportOf(urlParams.date, wire.datasetOverlapReport))
      .handle("namespaceOverlapReport", ({ urlParams }) => reportOf(urlParams.date, wire.namespaceOverlapReport))
      .handle("unstitchedProfilesReport", () =>
        Effect.flatMap(sandbox, samples.latestReport).pipe(Effect.map(wire.unstitchedProfilesReport))
      )
  })
)

/** The older DOC's name of the unstitched profiles report. */
export const UNKNOWN_PROFILES_PATH = "/data/core/ups/previewsamplestatus/report/unknownProfiles"

const UnknownProfilesAlias = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const samples = aepService(yield* SampleStatus.SampleStatus)
    const tokens = yield* ImsTokens
    const sandboxes = yield* Sandboxes.Sandboxes
    yield* router.get(
      UNKNOWN_PROFILES_PATH,
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const context = yield* check(request.headers).pipe(
          Effect.provideService(ImsTokens, tokens),
          Effect.provideService(Sandboxes.Sandboxes, sandboxes)
        )
        return HttpServerResponse.unsafeJson(wire.unstitchedProfilesReport(yield* samples.latestReport(context.sandboxName)))
      })
    )
  })
)

export const PreviewSampleStatusLive = Layer.merge(Group, UnknownProfilesAlias)
