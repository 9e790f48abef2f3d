/** Profile-class records: what CRM and the loyalty app each know about a customer. */
import type { Customer } from "./customer.js";
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
