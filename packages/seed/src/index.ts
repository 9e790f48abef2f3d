/**
 * Deterministic synthetic data for the fictional retail brand Luma, shaped as
 * the XDM records Adobe Experience Platform ingests into Real-Time Customer
 * Profile.
 */
import { anonymousVisitor, customer } from "./customer.js";
import type { DatasetSpec } from "./datasets.js";
import { anonymousPageViews, customerPageViews, purchases } from "./events.js";
import { appRecord, crmRecord, loyaltyRecord } from "./profiles.js";

export { datasets, type DatasetSpec } from "./datasets.js";
export {
  customer,
  anonymousVisitor,
  demoCustomer,
  type AnonymousVisitor,
  type Customer,
  type Loyalty,
  type LoyaltyTier,
} from "./customer.js";
export type { AuthenticatedState, Identity, IdentityMap } from "./xdm.js";

export interface SeedOptions {
  profiles: number;
  seed?: number;
  /** Events end at this instant. */
  anchor: Date;
  /** Average page views per customer, default 6. */
  eventsPerProfile?: number;
}

export const DEFAULT_SEED = 1;
export const DEFAULT_EVENTS_PER_PROFILE = 6;
/** One anonymous visitor follows every this-many customers (about 10% extra profiles). */
export const ANONYMOUS_EVERY = 10;

/**
 * The records of one dataset, customer by customer. Customer i's records only
 * depend on (seed, i, anchor, eventsPerProfile), so a smaller run is a prefix
 * of a larger one.
 */
export function* records(dataset: DatasetSpec["key"], options: SeedOptions): Generator<Record<string, unknown>> {
  const { profiles } = options;
  if (!Number.isSafeInteger(profiles) || profiles < 0) {
    throw new RangeError(`profiles must be a non-negative integer, got ${profiles}`);
  }
  const anchorMs = options.anchor.getTime();
  if (Number.isNaN(anchorMs)) throw new RangeError("anchor is not a valid date");
  const seed = options.seed ?? DEFAULT_SEED;
  const average = options.eventsPerProfile ?? DEFAULT_EVENTS_PER_PROFILE;

  for (let i = 0; i < profiles; i++) {
    const c = customer(i, seed);
    switch (dataset) {
      case "crm": {
        const record = crmRecord(c, anchorMs);
        if (record) yield record;
        break;
      }
      case "loyalty": {
        const record = loyaltyRecord(c, anchorMs);
        if (record) yield record;
        break;
      }
      case "app": {
        const record = appRecord(c, seed, anchorMs);
        if (record) yield record;
        break;
      }
      case "web":
        yield* customerPageViews(c, seed, anchorMs, average);
        // Interleaved rather than appended, so prefixes stay prefixes.
        if (i % ANONYMOUS_EVERY === ANONYMOUS_EVERY - 1) {
          yield* anonymousPageViews(anonymousVisitor(Math.floor(i / ANONYMOUS_EVERY), seed), seed, anchorMs, average);
        }
        break;
      case "purchases":
        yield* purchases(c, seed, anchorMs);
        break;
      default:
        throw new RangeError(`unknown dataset ${String(dataset satisfies never)}`);
    }
  }
}
