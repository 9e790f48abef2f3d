/**
 * `/data/core/ups/export/jobs`: create, list (newest first, `limit`/`offset`/
 * `status`), get and cancel export jobs. The body is read and the answers
 * written in AEP's shape here (`exportJobWire.ts`); the store checks the
 * policy and dataset and runs them.
 */
import { HttpApiBuilder } from "@effect/platform"
import { PlatformGateway, ProfileApi } from "@rtcp/core"
import { ExportJobs, StoreError } from "@rtcp/profile-store"
import { Effect } from "effect"
import { newJobOf, toWire } from "./exportJobWire.js"
import { aep, aepService } from "./storeErrors.js"

/** AEP's `link.next`: relative to `/data/core/ups`, trailing slash included, filters kept. */
const nextLink = (limit: number, offset: string, status: string | undefined) =>
  `/export/jobs/?${new URLSearchParams({ limit: String(limit), offset, ...(status ? { status } : {}) }).toString()}`

export const ExportJobsLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "exportJobs", (handlers) =>
  Effect.gen(function* () {
    const jobs = aepService(yield* ExportJobs.ExportJobs)
    return handlers
      .handle("list", ({ urlParams: q }) =>
        Effect.gen(function* () {
          const { sandboxName } = yield* PlatformGateway.PlatformContext
          const page = yield* jobs.list(sandboxName, { limit: q.limit, offset: q.offset, status: q.status })
          return {
            records: page.records.map(toWire),
            page: {
              sortField: "createdTime",
              sort: "desc",
              ...(page.pageOffset === undefined ? {} : { pageOffset: page.pageOffset }),
              pageSize: page.records.length
            },
            link: page.next === undefined ? {} : { next: nextLink(page.limit, page.next, q.status) }
          }
        })
      )
      .handle("create", ({ payload }) =>
        Effect.gen(function* () {
          const { imsOrgId, requestId, sandboxName } = yield* PlatformGateway.PlatformContext
          const job = newJobOf(payload)
          if (typeof job === "string") return yield* aep(Effect.fail(StoreError.invalid(job, "Invalid export job payload")))
          return toWire(yield* jobs.create(sandboxName, job, { imsOrgId, requestId }))
        })
      )
      .handle("get", ({ path }) =>
        Effect.flatMap(PlatformGateway.PlatformContext, ({ sandboxName }) => Effect.map(jobs.get(sandboxName, path.exportJobId), toWire))
      )
      .handle("cancel", ({ path }) =>
        Effect.flatMap(PlatformGateway.PlatformContext, ({ sandboxName }) => jobs.cancel(sandboxName, path.exportJobId))
      )
  })
)
