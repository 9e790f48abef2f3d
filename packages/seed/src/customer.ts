/**
 * Who customer i is: identities and profile attributes, independent of the
 * anchor instant (times are kept as "seconds before the anchor") and of how
 * many customers are generated.
 */
import { cities, emailDomains, firstNames, lastNames, streetNames, streetSuffixes } from "./catalog.js";
import { pad, Rng, Stream } from "./random.js";

export type LoyaltyTier = "bronze" | "silver" | "gold" | "platinum";

export interface Loyalty {
  readonly id: string;
  readonly tier: LoyaltyTier;
  readonly points: number;
  readonly joinedDaysAgo: number;
  readonly updatedSecondsAgo: number;
  /** Set for about a third of members: what the loyalty app believes, unlike CRM. */
  readonly conflict?: { readonly firstName: string; readonly city: string };
}

export interface Customer {
  readonly index: number;
  readonly crmId: string;
  readonly email: string;
  readonly phone?: string;
  readonly ecids: ReadonlyArray<string>;
  readonly firstName: string;
  readonly lastName: string;
  readonly birthDate: string;
  readonly address: { readonly street1: string; readonly city: string; readonly postalCode: string };
  /** Seconds before the anchor the CRM record was last updated; absent when CRM has no record. */
  readonly crmUpdatedSecondsAgo?: number;
  readonly loyalty?: Loyalty;
  readonly orders: number;
}

/** A visitor the brand never identified: only device ids, only web traffic. */
export interface AnonymousVisitor {
  readonly index: number;
  readonly key: string;
  readonly ecids: ReadonlyArray<string>;
}

const ID_WIDTH = 7;
const DAY = 86_400;

export const crmId = (index: number): string => `crm-${pad(index, ID_WIDTH)}`;
export const loyaltyId = (index: number): string => `LY-${pad(index, ID_WIDTH)}`;

// Phones are a bijection of the index onto 8M numbers "+1 NPA 555 XXXX", so no
// two customers share one (a shared phone would merge them into one profile).
// The offset makes customer 0 land on the demo number, +1 408 555 0100.
const PHONE_SPACE = 8_000_000;
const PHONE_STRIDE = 1_234_567; // coprime with 8,000,000 = 2^9 * 5^6
const PHONE_OFFSET = 2_080_100;
export const phoneNumber = (index: number): string => {
  const k = (((index % PHONE_SPACE) * PHONE_STRIDE) % PHONE_SPACE + PHONE_OFFSET) % PHONE_SPACE;
  return `+1${200 + Math.floor(k / 10_000)}555${pad(k % 10_000, 4)}`;
};

/** Profile 0, fixed regardless of the seed so docs and tests can rely on it. */
export const demoCustomer = {
  index: 0,
  crmId: crmId(0),
  email: "jane.doe@example.com",
  phone: phoneNumber(0),
  loyaltyId: loyaltyId(0),
  ecids: ["50710734271416325302186483425107286113", "71839027514382916475021938475610293847"],
  firstName: "Jane",
  lastName: "Doe",
  birthDate: "1988-04-12",
  homeAddress: { street1: "345 Park Ave", city: "San Jose", postalCode: "95110", country: "United States" },
  loyalty: {
    tier: "gold",
    points: 23_450,
    /** The loyalty app knows her as "Janie" in Santa Clara, updated more recently than CRM. */
    nickname: "Janie",
    city: "Santa Clara",
  },
  /** Relative to the anchor: which record is newer decides a timestamp-ordered merge. */
  crmUpdatedDaysAgo: 30,
  loyaltyUpdatedDaysAgo: 2,
  orders: 2,
} as const;

const ecidCount: ReadonlyArray<readonly [number, number]> = [[1, 45], [2, 40], [3, 15]];
const orderCount: ReadonlyArray<readonly [number, number]> = [[1, 40], [2, 25], [3, 15], [4, 12], [5, 8]];

const tierFor = (points: number): LoyaltyTier =>
  points >= 40_000 ? "platinum" : points >= 15_000 ? "gold" : points >= 5_000 ? "silver" : "bronze";

const emailLocal = (rng: Rng, first: string, last: string, index: number): string => {
  const f = first.toLowerCase();
  const l = last.toLowerCase().replace(/[^a-z]/g, "");
  // The index suffix keeps addresses unique: the letters never end in a digit.
  switch (rng.int(0, 3)) {
    case 0: return `${f}.${l}${index}`;
    case 1: return `${f}${l}${index}`;
    case 2: return `${f[0]}${l}${index}`;
    default: return `${f}_${l}${index}`;
  }
};

const ageDate = (rng: Rng): string =>
  `${rng.int(1950, 2006)}-${pad(rng.int(1, 12), 2)}-${pad(rng.int(1, 28), 2)}`;

export const customer = (index: number, seed: number): Customer => {
  const rng = new Rng(seed, index, Stream.customer);
  const [firstName, nickname] = rng.pick(firstNames);
  const lastName = rng.pick(lastNames);
  const email = `${emailLocal(rng, firstName, lastName, index)}@${rng.pick(emailDomains)}`;
  const hasPhone = rng.chance(0.8);
  const ecids = Array.from({ length: rng.weighted(ecidCount) }, () => rng.digits(38));
  const birthDate = ageDate(rng);
  const cityIndex = rng.int(0, cities.length - 1);
  const home = cities[cityIndex]!;
  const address = {
    street1: `${rng.int(1, 9999)} ${rng.pick(streetNames)} ${rng.pick(streetSuffixes)}`,
    city: home.city,
    postalCode: `${home.zip3}${pad(rng.int(0, 99), 2)}`,
  };
  const inCrm = rng.chance(0.85);
  const crmUpdatedSecondsAgo = rng.int(3600, 730 * DAY);
  const isMember = rng.chance(0.6);
  const joinedDaysAgo = rng.int(30, 6 * 365);
  const points = Math.floor(-Math.log(1 - rng.float()) * 11_000);
  const hasConflict = rng.chance(1 / 3);
  const otherCity = cities[(cityIndex + rng.int(1, cities.length - 1)) % cities.length]!.city;
  const loyaltyUpdatedSecondsAgo = rng.int(3600, joinedDaysAgo * DAY);
  const orders = rng.chance(0.4) ? rng.weighted(orderCount) : 0;

  if (index === 0) return demo();
  return {
    index,
    crmId: crmId(index),
    email,
    ...(hasPhone ? { phone: phoneNumber(index) } : {}),
    ecids,
    firstName,
    lastName,
    birthDate,
    address,
    ...(inCrm ? { crmUpdatedSecondsAgo } : {}),
    ...(isMember
      ? {
          loyalty: {
            id: loyaltyId(index),
            tier: tierFor(points),
            points,
            joinedDaysAgo,
            updatedSecondsAgo: loyaltyUpdatedSecondsAgo,
            ...(hasConflict ? { conflict: { firstName: nickname, city: otherCity } } : {}),
          },
        }
      : {}),
    orders,
  };
};

const demo = (): Customer => {
  const d = demoCustomer;
  return {
    index: 0,
    crmId: d.crmId,
    email: d.email,
    phone: d.phone,
    ecids: d.ecids,
    firstName: d.firstName,
    lastName: d.lastName,
    birthDate: d.birthDate,
    address: { street1: d.homeAddress.street1, city: d.homeAddress.city, postalCode: d.homeAddress.postalCode },
    crmUpdatedSecondsAgo: d.crmUpdatedDaysAgo * DAY,
    loyalty: {
      id: d.loyaltyId,
      tier: d.loyalty.tier,
      points: d.loyalty.points,
      joinedDaysAgo: 3 * 365,
      updatedSecondsAgo: d.loyaltyUpdatedDaysAgo * DAY,
      conflict: { firstName: d.loyalty.nickname, city: d.loyalty.city },
    },
    orders: d.orders,
  };
};

/** Anonymous visitor k; the caller decides how often they appear. */
export const anonymousVisitor = (index: number, seed: number): AnonymousVisitor => {
  const rng = new Rng(seed, index, Stream.anonymous);
  const ecids = Array.from({ length: rng.chance(0.8) ? 1 : 2 }, () => rng.digits(38));
  return { index, key: `anon-${pad(index, ID_WIDTH)}`, ecids };
};
