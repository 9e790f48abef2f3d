/**
 * `GET /rtcp/explain/profile`: an rtcp extension (no AEP client has it).
 * Which fragment supplied each attribute of a merged profile and what it
 * beat, and which link joined each identity into the graph, under the merge
 * policy asked for (or the sandbox's default). Behind the same gateway
 * checks as Platform calls.
 */
import { HttpApiBuilder } from "@effect/platform"
import { type Explain, PlatformGateway, ProfileApi } from "@rtcp/core"
import { Entities } from "@rtcp/profile-store"
import { Effect } from "effect"
import { withIdentity } from "./identity.js"

const sourceOf = (fragment: Entities.SourcedFragment): Explain.Source => ({
  datasetId: fragment.datasetId,
  datasetName: fragment.datasetName,
  batchId: fragment.batchId ?? null,
  ingestedAt: fragment.ingestedAt,
  recordTimestamp: fragment.customTimestamp
})

export const toWire = (explanation: Entities.Explanation): Explain.ProfileExplanation => ({
  entityId: explanation.xid,
  mergePolicy: {
    id: explanation.policy.id,
    name: explanation.policy.name,
    version: explanation.policy.version,
    attributeMerge: { type: explanation.policy.attributeMerge.type },
    identityGraph: { type: explanation.policy.identityGraph }
  },
  attributes: explanation.attributes.map((attribute) => ({
    path: attribute.path,
    value: attribute.value,
    source: sourceOf(attribute.source),
    beaten: attribute.beaten.map((beaten) => ({ value: beaten.value, source: sourceOf(beaten.source) }))
  })),
  identities: explanation.identities.map(({ identity, link, primary }) => ({
    namespace: identity.ns,
    id: identity.value,
    primary,
    link:
      link === undefined
        ? null
        : {
            datasetId: link.datasetId,
            batchId: link.batchId ?? null,
            linkedTo: { namespace: link.linkedTo.ns, id: link.linkedTo.value },
            firstSeen: link.firstSeen,
            lastSeen: link.lastSeen
          }
  }))
})

export const RtcpLive = HttpApiBuilder.group(ProfileApi.ProfileApi, "rtcp", (handlers) =>
  Effect.gen(function* () {
    const entities = yield* Entities.Entities
    return handlers.handle("explainProfile", ({ urlParams: q }) =>
      Effect.gen(function* () {
        const { sandboxName } = yield* PlatformGateway.PlatformContext
        const explanation = yield* withIdentity(q.entityIdNS, q.entityId, (identity) =>
          entities.explainProfile(sandboxName, { identity, mergePolicyId: q.mergePolicyId })
        )
        return toWire(explanation)
      })
    )
  })
)
