/**
 * Driving `TestClock` from a test: wait (in real time) until a forked call
 * is asleep, then move the clock exactly to its wake-up time.
 */
import { Chunk, Duration, Effect, Exit, Fiber, Option, TestClock } from "effect"

/** One real macrotask: lets promises (response bodies) settle without touching the TestClock. */
export const tick: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** A few real ticks: long enough for a fiber that is not asleep to make its next request. */
export const settle: Effect.Effect<void> = Effect.repeatN(tick, 20)

/** Waits (real time, bounded) until `check` holds. */
export const eventually = (check: Effect.Effect<boolean> | (() => boolean), what = "condition"): Effect.Effect<void> =>
  Effect.gen(function* () {
    for (let i = 0; i < 2_000; i++) {
      const ok = typeof check === "function" ? check() : yield* check
      if (ok) return
      yield* tick
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })

/** Milliseconds until the earliest pending TestClock sleep, if any. */
export const nextWakeUp: Effect.Effect<Option.Option<number>> = Effect.gen(function* () {
  const sleeps = yield* TestClock.sleeps()
  if (Chunk.isEmpty(sleeps)) return Option.none()
  const now = yield* TestClock.currentTimeMillis
  return Option.some(Math.max(0, Math.min(...Chunk.toReadonlyArray(sleeps)) - now))
})

/** Waits until some fiber sleeps on the TestClock and says for how long. */
export const awaitSleep: Effect.Effect<number> = Effect.gen(function* () {
  let wake = Option.none<number>()
  yield* eventually(
    Effect.map(nextWakeUp, (next) => {
      wake = next
      return Option.isSome(next)
    }),
    "a sleeping fiber"
  )
  return Option.getOrThrow(wake)
})

/**
 * Runs `effect` to completion, advancing the TestClock to each sleep it
 * makes (backoff) as soon as it sleeps. The sleeps are pushed to `delays`.
 */
export const drive = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  delays: Array<number> = []
): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 20_000; i++) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return yield* Exit.matchEffect(done.value, { onFailure: Effect.failCause, onSuccess: Effect.succeed })
      const next = yield* nextWakeUp
      if (Option.isSome(next)) {
        delays.push(next.value)
        yield* TestClock.adjust(Duration.millis(next.value))
      } else {
        yield* tick
      }
    }
    return yield* Effect.dieMessage("drive: the effect never completed")
  })
