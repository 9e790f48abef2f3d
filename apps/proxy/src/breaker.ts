/**
 * A circuit breaker on the upstream (per replica). Closed: calls go. It
 * opens when the upstream fails *sustainedly*: at least `minCalls` calls in
 * the last `windowMs` of which at least `failureRatio` failed (no answer,
 * or a 5xx other than the proxy's own), or `consecutive` failures in a row.
 * Open: calls are answered at once by the proxy (503, `Retry-After` = the
 * rest of the cool-down) for `cooldownMs`. Then half-open: one probe call
 * at a time goes; its success closes the circuit, its failure opens it again.
 *
 * 429s are not failures here: the upstream gate (shared.ts) handles them.
 */
export type BreakerState = "closed" | "open" | "half-open"

export interface BreakerOptions {
  readonly windowMs?: number
  readonly minCalls?: number
  readonly failureRatio?: number
  readonly consecutive?: number
  readonly cooldownMs?: number
  readonly now?: () => number
}

export interface BreakerSnapshot {
  readonly state: BreakerState
  readonly openedAt: number | undefined
  readonly recentCalls: number
  readonly recentFailures: number
}

export class CircuitBreaker {
  private stateValue: BreakerState = "closed"
  private openedAt: number | undefined
  private probing = false
  private run = 0
  private readonly outcomes: Array<{ readonly at: number; readonly failed: boolean }> = []
  private readonly windowMs: number
  private readonly minCalls: number
  private readonly failureRatio: number
  private readonly consecutive: number
  private readonly cooldownMs: number
  private readonly now: () => number
  /** Called on every change of state (metrics). */
  onChange: ((state: BreakerState) => void) | undefined

  constructor(options: BreakerOptions = {}) {
    this.windowMs = options.windowMs ?? 10_000
    this.minCalls = options.minCalls ?? 20
    this.failureRatio = options.failureRatio ?? 0.5
    this.consecutive = options.consecutive ?? 10
    this.cooldownMs = options.cooldownMs ?? 5_000
    this.now = options.now ?? Date.now
  }

  get state(): BreakerState {
    if (this.stateValue === "open" && this.now() - this.openedAt! >= this.cooldownMs) this.set("half-open")
    return this.stateValue
  }

  /** Whether a call may go now; when not, how long until the next probe (ms). */
  admit(): { readonly ok: true; readonly probe: boolean } | { readonly ok: false; readonly retryAfterMs: number } {
    const state = this.state
    if (state === "closed") return { ok: true, probe: false }
    if (state === "half-open" && !this.probing) {
      this.probing = true
      return { ok: true, probe: true }
    }
    const rest = state === "open" ? this.cooldownMs - (this.now() - this.openedAt!) : 250
    return { ok: false, retryAfterMs: Math.max(1, rest) }
  }

  /** The outcome of an admitted call. */
  record(failed: boolean, probe: boolean): void {
    const at = this.now()
    if (probe) this.probing = false
    if (this.stateValue === "half-open" && probe) {
      if (failed) this.open(at)
      else this.close()
      return
    }
    this.outcomes.push({ at, failed })
    while (this.outcomes.length > 0 && this.outcomes[0]!.at < at - this.windowMs) this.outcomes.shift()
    if (this.outcomes.length > 10_000) this.outcomes.shift()
    this.run = failed ? this.run + 1 : 0
    if (this.stateValue !== "closed" || !failed) return
    const failures = this.outcomes.reduce((n, outcome) => n + (outcome.failed ? 1 : 0), 0)
    if (this.run >= this.consecutive || (this.outcomes.length >= this.minCalls && failures / this.outcomes.length >= this.failureRatio)) {
      this.open(at)
    }
  }

  snapshot(): BreakerSnapshot {
    const at = this.now()
    const recent = this.outcomes.filter((outcome) => outcome.at >= at - this.windowMs)
    return {
      state: this.state,
      openedAt: this.openedAt,
      recentCalls: recent.length,
      recentFailures: recent.filter((outcome) => outcome.failed).length
    }
  }

  private open(at: number) {
    this.openedAt = at
    this.outcomes.length = 0
    this.run = 0
    this.set("open")
  }

  private close() {
    this.openedAt = undefined
    this.outcomes.length = 0
    this.run = 0
    this.set("closed")
  }

  private set(state: BreakerState) {
    if (this.stateValue === state) return
    this.stateValue = state
    this.onChange?.(state)
  }
}
