/**
 * What happened in the store, for whoever reacts to it (the sample job that
 * recomputes the preview status, caches that must forget a profile), and
 * which sandboxes have a batch being processed right now, so that a reaction
 * meant for settled data can wait for it.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, PubSub, type Scope, type Queue, Stream, SubscriptionRef } from "effect"

export type StoreEvent =
  | { readonly _tag: "BatchSucceeded"; readonly sandbox: string; readonly batchId: string; readonly at: number }
  | { readonly _tag: "RecordStreamed"; readonly sandbox: string; readonly datasetId: string; readonly at: number }
  | { readonly _tag: "DataDeleted"; readonly sandbox: string; readonly at: number }

export class StoreEvents extends Context.Tag("@rtcp/profile-store/StoreEvents")<
  StoreEvents,
  {
    readonly publish: (event: StoreEvent) => Effect.Effect<void>
    readonly subscribe: Effect.Effect<Queue.Dequeue<StoreEvent>, never, Scope.Scope>
    /** Runs `work` as the processing of a batch of `sandbox`: the sandbox is not settled until it ends, however it ends. */
    readonly processing: <A, E, R>(sandbox: string, work: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
    /** Whether a batch of `sandbox` is being processed in this process. */
    readonly busy: (sandbox: string) => Effect.Effect<boolean>
    /** Returns once no batch of `sandbox` is being processed in this process (at once when none is). */
    readonly settled: (sandbox: string) => Effect.Effect<void>
  }
>() {}

export const layer = Layer.effect(
  StoreEvents,
  Effect.gen(function* () {
    const hub = yield* PubSub.sliding<StoreEvent>(1024)
    // Batches in progress per sandbox; a sandbox with none has no entry.
    const inProgress = yield* SubscriptionRef.make<ReadonlyMap<string, number>>(new Map())
    const count = (sandbox: string, by: 1 | -1) =>
      SubscriptionRef.update(inProgress, (all) => {
        const next = new Map(all)
        const n = (all.get(sandbox) ?? 0) + by
        if (n > 0) next.set(sandbox, n)
        else next.delete(sandbox)
        return next
      })
    return StoreEvents.of({
      publish: (event) => Effect.asVoid(PubSub.publish(hub, event)),
      subscribe: PubSub.subscribe(hub),
      processing: (sandbox, work) => Effect.acquireUseRelease(count(sandbox, 1), () => work, () => count(sandbox, -1)),
      busy: (sandbox) => Effect.map(SubscriptionRef.get(inProgress), (all) => all.has(sandbox)),
      // `changes` starts with the current value, so an idle sandbox returns at once.
      settled: (sandbox) =>
        inProgress.changes.pipe(
          Stream.filter((all) => !all.has(sandbox)),
          Stream.take(1),
          Stream.runDrain
        )
    })
  })
)
