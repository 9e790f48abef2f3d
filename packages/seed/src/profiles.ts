/** Profile-class records: what CRM and the loyalty app each know about a customer. */
import type { Customer } from "./customer.js";
import { Rng, Stream } from "./random.js";
import { isoBefore, primary, secondary, type IdentityMap } from "./xdm.js";

const COUNTRY = "United States";
const DAY = 86_400;

export const crmRecord = (c: Customer, anchorMs: number): Record<string, unknown> | undefined => {
  if (c.crmUpdatedSecondsAgo === undefined) return undefined;
  const identityMap: IdentityMap = { CRMID: primary(c.crmId), Email: secondary(c.email) };
  if (c.phone) identityMap["Phone"] = secondary(c.phone);
  return {
    _id: c.crmId,
    identityMap,
    person: { name: { firstName: c.firstName, lastName: c.lastName }, birthDate: c.birthDate },
    personalEmail: { address: c.email },
    ...(c.phone ? { mobilePhone: { number: c.phone } } : {}),
    homeAddress: { ...c.address, country: COUNTRY },
    extSourceSystemAudit: { lastUpdatedDate: isoBefore(anchorMs, c.crmUpdatedSecondsAgo) },
  };
};

export const loyaltyRecord = (c: Customer, anchorMs: number): Record<string, unknown> | undefined => {
  const l = c.loyalty;
  if (!l) return undefined;
  return {
    _id: l.id,
    identityMap: { LoyaltyId: primary(l.id), Email: secondary(c.email) } satisfies IdentityMap,
    loyalty: { tier: l.tier, points: l.points, joinDate: isoBefore(anchorMs, l.joinedDaysAgo * DAY).slice(0, 10) },
    // Only the conflicting members send these, so the merge policy has something to decide.
    ...(l.conflict
      ? { person: { name: { firstName: l.conflict.firstName } }, homeAddress: { city: l.conflict.city } }
      : {}),
    extSourceSystemAudit: { lastUpdatedDate: isoBefore(anchorMs, l.updatedSecondsAgo) },
  };
};

/**
 * About a third of customers use the app on their first device. The app keeps
 * its own profile keyed by that ECID, links it to the email they signed in
 * with (stitching a device profile to the person), and may hold a different
 * phone number than CRM, updated at another time: a third source for the merge.
 */
export const appRecord = (c: Customer, seed: number, anchorMs: number): Record<string, unknown> | undefined => {
  const rng = new Rng(seed, c.index, Stream.app);
  const usesApp = c.index === 0 || rng.chance(0.35);
  const ecid = c.ecids[0];
  if (!usesApp || ecid === undefined) return undefined;
  const updatedSecondsAgo = c.index === 0 ? 10 * DAY : rng.int(3600, 365 * DAY);
  const newPhone = c.index === 0 || rng.chance(0.25);
  return {
    _id: `app-${ecid}`,
    identityMap: { ECID: primary(ecid), Email: secondary(c.email, "authenticated") } satisfies IdentityMap,
    preferences: {
      language: c.index === 0 ? "en-US" : rng.pick(["en-US", "en-US", "es-US", "fr-CA"]),
      pushNotifications: c.index === 0 ? true : rng.chance(0.6)
    },
    consents: { marketing: { email: { val: c.index === 0 || rng.chance(0.7) ? "y" : "n" } } },
    ...(newPhone ? { mobilePhone: { number: c.index === 0 ? "+14085550199" : `+1555${String(c.index).padStart(7, "0")}` } } : {}),
    extSourceSystemAudit: { lastUpdatedDate: isoBefore(anchorMs, updatedSecondsAgo) }
  };
};
