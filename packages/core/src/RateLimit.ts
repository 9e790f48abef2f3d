/**
 * An optional client-side rate limiter, to keep one credential under its
 * quota when many fibers share it. Absent by default.
 *
 * @since 0.1.0
 */
import { Context, Layer, RateLimiter } from "effect"

export class ClientRateLimiter extends Context.Tag("@rtcp/core/ClientRateLimiter")<
  ClientRateLimiter,
  RateLimiter.RateLimiter
>() {
  /** e.g. `{ limit: 1000, interval: "1 minute" }` */
  static layer = (options: RateLimiter.RateLimiter.Options) =>
    Layer.scoped(ClientRateLimiter, RateLimiter.make({ algorithm: "token-bucket", ...options }))
}
