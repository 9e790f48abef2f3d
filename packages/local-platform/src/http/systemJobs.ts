/**
 * `/data/core/ups/system/jobs`: delete requests (a dataset, or one batch of
 * an experience event dataset) run by the store in the background. Jobs are
 * emitted in the newest "request" shape inside `{_page, children}`; both
 * body spellings (`dataSetId`, `datasetId`) are accepted.
 */
import { HttpApiBuilder } from "@effect/platform"
import { ProfileApi } from "@rtcp/core"
import { Sandboxes, StoreError, SystemJobs } from "@rtcp/profile-store"
import { Effect } from "effect"
import { requestScope } from "./scope.js"
import { aep, aepService } from "./storeErrors.js"
import { createInputOf, INVALID_PAYLOAD_TITLE, toWire } from "./systemJobWire.js"

export const SystemJobsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "systemJobs", (handlers) =>
  Effect.gen(function* () {
    const jobs = aepService(yield* SystemJobs.SystemJobs)
    const sandboxes = yield* Sandboxes.Sandboxes
    const scope = Effect.provideService(requestScope, Sandboxes.Sandboxes, sandboxes)
    return handlers
      .handle("list", ({ urlParams: q }) =>
        Effect.gen(function* () {
          const { sandbox } = yield* scope
          // `page` is the older name of the page number.
          const page = yield* jobs.list(sandbox, { start: q.start ?? q.page, limit: q.limit, sort: q.sort })
          return {
            _page: {
              pageSize: page.limit,
              start: String(page.start),
              totalCount: page.totalCount,
              count: page.jobs.length,
              ...(page.next === undefined ? {} : { next: page.next })
            },
            children: page.jobs.map(toWire)
          }
        })
      )
      .handle("create", ({ payload }) =>
        Effect.gen(function* () {
          const owner = yield* scope
          const input = createInputOf(payload)
          if (typeof input === "string") return yield* aep(Effect.fail(StoreError.invalid(input, INVALID_PAYLOAD_TITLE)))
          const job = yield* jobs.create({ sandbox: owner.sandbox, sandboxId: owner.sandboxId, imsOrgId: owner.imsOrgId }, input)
          return toWire(job)
        })
      )
      .handle("get", ({ path }) =>
        Effect.flatMap(scope, ({ sandbox }) => Effect.map(jobs.get(sandbox, path.ID), toWire))
      )
      .handle("delete", ({ path }) => Effect.flatMap(scope, ({ sandbox }) => jobs.remove(sandbox, path.ID)))
  })
)
