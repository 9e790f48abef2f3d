/**
 * What happened in the store, for whoever reacts to it (the sample job that
 * recomputes the preview status, caches that must forget a profile).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, PubSub, type Scope, type Queue } from "effect"

export type StoreEvent =
  | { readonly _tag: "BatchSucceeded"; readonly sandbox: string; readonly batchId: string; readonly at: number }
  | { readonly _tag: "RecordStreamed"; readonly sandbox: string; readonly datasetId: string; readonly at: number }
  | { readonly _tag: "DataDeleted"; readonly sandbox: string; readonly at: number }

export class StoreEvents extends Context.Tag("@rtcp/profile-store/StoreEvents")<
  StoreEvents,
  {
    readonly publish: (event: StoreEvent) => Effect.Effect<void>
    readonly subscribe: Effect.Effect<Queue.Dequeue<StoreEvent>, never, Scope.Scope>
  }
>() {}

export const layer = Layer.effect(
  StoreEvents,
  Effect.map(PubSub.sliding<StoreEvent>(1024), (hub) =>
    StoreEvents.of({
      publish: (event) => Effect.asVoid(PubSub.publish(hub, event)),
      subscribe: PubSub.subscribe(hub)
    })
  )
)
