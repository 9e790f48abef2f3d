import { describe, expect, it } from "vitest";
import { customer, datasets, demoCustomer, records, type DatasetSpec, type IdentityMap, type SeedOptions } from "../src/index.js";

type Key = DatasetSpec["key"];
type XdmRecord = Record<string, unknown> & { _id: string; identityMap: IdentityMap; timestamp?: string };

const keys: ReadonlyArray<Key> = ["crm", "loyalty", "app", "web", "purchases"];
const anchor = new Date("2025-06-01T12:00:00Z");
const options: SeedOptions = { profiles: 2000, seed: 7, anchor };

const all = (key: Key, opts: SeedOptions = options): Array<XdmRecord> => [...records(key, opts)] as Array<XdmRecord>;
const data = Object.fromEntries(keys.map((k) => [k, all(k)])) as Record<Key, Array<XdmRecord>>;
const ids = (r: XdmRecord, namespace: string): Array<string> => (r.identityMap[namespace] ?? []).map((i) => i.id);
const get = (value: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);

describe("dataset specs", () => {
  it("describes the five datasets", () => {
    expect(datasets.map((d) => d.key)).toEqual(keys);
    const byKey = Object.fromEntries(datasets.map((d) => [d.key, d]));
    expect(byKey["crm"]).toMatchObject({ schemaClass: "https://ns.adobe.com/xdm/context/profile", upsert: false });
    expect(byKey["loyalty"]).toMatchObject({ schemaClass: "https://ns.adobe.com/xdm/context/profile", upsert: true });
    expect(byKey["web"]?.schemaClass).toBe("https://ns.adobe.com/xdm/context/experienceevent");
    expect(byKey["purchases"]?.schemaClass).toBe("https://ns.adobe.com/xdm/context/experienceevent");
    expect(byKey["app"]).toMatchObject({ schemaClass: "https://ns.adobe.com/xdm/context/profile", upsert: false });
    expect(new Set(datasets.map((d) => d.file)).size).toBe(5);
  });
});

describe("determinism", () => {
  it.each(keys)("%s: the same options give byte-identical records", (key) => {
    const again = all(key, { ...options, anchor: new Date(anchor) });
    expect(JSON.stringify(again)).toBe(JSON.stringify(data[key]));
  });

  it("a different seed gives different data", () => {
    expect(JSON.stringify(all("crm", { ...options, seed: 8, profiles: 50 }))).not.toBe(
      JSON.stringify(data.crm.slice(0, 40)),
    );
  });

  it.each(keys)("%s: 100 profiles are a prefix of 1000", (key) => {
    const small = all(key, { ...options, profiles: 100 });
    const large = all(key, { ...options, profiles: 1000 });
    expect(small.length).toBeGreaterThan(0);
    expect(large.length).toBeGreaterThan(small.length);
    expect(JSON.stringify(large.slice(0, small.length))).toBe(JSON.stringify(small));
  });

  it("does not hold records in memory: a generator yields lazily", () => {
    const it = records("web", { profiles: Number.MAX_SAFE_INTEGER, anchor });
    expect(it.next().done).toBe(false);
  });

  it("rejects invalid options", () => {
    expect(() => records("crm", { profiles: -1, anchor }).next()).toThrow(RangeError);
    expect(() => records("crm", { profiles: 1, anchor: new Date("nope") }).next()).toThrow(RangeError);
  });
});

describe("identities", () => {
  it.each(keys)("%s: every record has exactly one primary identity", (key) => {
    for (const r of data[key]) {
      const primaries = Object.values(r.identityMap).flat().filter((i) => i.primary === true);
      expect(primaries, r._id).toHaveLength(1);
    }
  });

  it.each(keys)("%s: _ids are unique", (key) => {
    expect(new Set(data[key].map((r) => r._id)).size).toBe(data[key].length);
  });

  it("ECIDs are exactly 38 digits", () => {
    const ecids = keys.flatMap((k) => data[k].flatMap((r) => ids(r, "ECID")));
    expect(ecids.length).toBeGreaterThan(1000);
    for (const ecid of ecids) expect(ecid).toMatch(/^\d{38}$/);
  });

  it("phones are E.164 and unique, emails unique", () => {
    const phones = data.crm.flatMap((r) => ids(r, "Phone"));
    for (const phone of phones) expect(phone).toMatch(/^\+1[2-9]\d{9}$/);
    expect(new Set(phones).size).toBe(phones.length);
    const emails = data.crm.flatMap((r) => ids(r, "Email"));
    expect(new Set(emails).size).toBe(emails.length);
  });

  it("primary namespaces follow the dataset", () => {
    const primaryNamespace = (r: XdmRecord) =>
      Object.entries(r.identityMap).find(([, list]) => list.some((i) => i.primary))?.[0];
    expect(new Set(data.crm.map(primaryNamespace))).toEqual(new Set(["CRMID"]));
    expect(new Set(data.loyalty.map(primaryNamespace))).toEqual(new Set(["LoyaltyId"]));
    expect(new Set(data.web.map(primaryNamespace))).toEqual(new Set(["ECID"]));
    expect(new Set(data.purchases.map(primaryNamespace))).toEqual(new Set(["ECID"]));
  });
});

describe("links between datasets", () => {
  const customers = Array.from({ length: options.profiles }, (_, i) => customer(i, options.seed!));
  const byEmail = new Map(customers.map((c) => [c.email, c]));
  const byCrmId = new Map(customers.map((c) => [c.crmId, c]));

  it("CRM and loyalty records of a customer share the email", () => {
    for (const r of data.crm) expect(byCrmId.get(ids(r, "CRMID")[0]!)?.email).toBe(ids(r, "Email")[0]);
    for (const r of data.loyalty) {
      const c = byEmail.get(ids(r, "Email")[0]!);
      expect(c?.loyalty?.id).toBe(ids(r, "LoyaltyId")[0]);
    }
  });

  it("authenticated page views tie a customer's own device to their email", () => {
    let authenticated = 0;
    for (const r of data.web) {
      const [email] = ids(r, "Email");
      if (email === undefined) continue;
      authenticated++;
      expect(r.identityMap["Email"]![0]!.authenticatedState).toBe("authenticated");
      expect(byEmail.get(email)?.ecids).toContain(ids(r, "ECID")[0]);
    }
    expect(authenticated / data.web.length).toBeGreaterThan(0.35);
    expect(authenticated / data.web.length).toBeLessThan(0.55);
  });

  it("purchases carry the buyer's CRM id and one of their devices", () => {
    for (const r of data.purchases) {
      const c = byCrmId.get(ids(r, "CRMID")[0]!);
      expect(c?.ecids).toContain(ids(r, "ECID")[0]);
    }
  });

  it("anonymous visitors only have ECIDs and only web events", () => {
    const known = new Set(customers.flatMap((c) => c.ecids));
    const anonymous = data.web.filter((r) => !known.has(ids(r, "ECID")[0]!));
    expect(anonymous.length).toBeGreaterThan(0);
    for (const r of anonymous) expect(Object.keys(r.identityMap)).toEqual(["ECID"]);
    const visitors = new Set(anonymous.map((r) => r._id.replace(/-pv-\d+$/, "")));
    expect(visitors.size).toBe(options.profiles / 10);
    const elsewhere = new Set(data.purchases.flatMap((r) => ids(r, "ECID")));
    for (const r of anonymous) expect(elsewhere.has(ids(r, "ECID")[0]!)).toBe(false);
  });
});

describe("shape and proportions", () => {
  const n = options.profiles;

  it("has about 85% CRM, 60% loyalty and 40% purchasing customers", () => {
    expect(data.crm.length / n).toBeCloseTo(0.85, 1);
    expect(data.loyalty.length / n).toBeCloseTo(0.6, 1);
    const buyers = new Set(data.purchases.flatMap((r) => ids(r, "CRMID")));
    expect(buyers.size / n).toBeCloseTo(0.4, 1);
  });

  it("gives about a third of loyalty members a conflicting name and city", () => {
    const conflicting = data.loyalty.filter((r) => get(r, "person.name.firstName") !== undefined);
    expect(conflicting.length / data.loyalty.length).toBeCloseTo(1 / 3, 1);
    for (const r of conflicting) expect(typeof get(r, "homeAddress.city")).toBe("string");
  });

  it("averages about eventsPerProfile page views per customer", () => {
    const customerViews = data.web.filter((r) => r._id.startsWith("crm-")).length;
    expect(customerViews / n).toBeGreaterThan(5.5);
    expect(customerViews / n).toBeLessThan(6.5);
    const fewer = all("web", { ...options, profiles: 200, eventsPerProfile: 2 }).filter((r) => r._id.startsWith("crm-"));
    expect(fewer.length / 200).toBeLessThan(2.5);
  });

  it("places every event in the 90 days before the anchor", () => {
    const from = anchor.getTime() - 90 * 86_400_000;
    for (const r of [...data.web, ...data.purchases]) {
      const t = Date.parse(r.timestamp!);
      expect(t).toBeLessThan(anchor.getTime());
      expect(t).toBeGreaterThanOrEqual(from);
    }
  });

  it("dates profile updates before the anchor", () => {
    for (const r of [...data.crm, ...data.loyalty]) {
      expect(Date.parse(get(r, "extSourceSystemAudit.lastUpdatedDate") as string)).toBeLessThan(anchor.getTime());
    }
    for (const r of data.crm) expect(get(r, "person.birthDate")).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("totals orders from their line items", () => {
    for (const r of data.purchases) {
      const items = r["productListItems"] as Array<{ quantity: number; priceTotal: number }>;
      expect(items.length).toBeGreaterThanOrEqual(1);
      const total = get(r, "commerce.order.priceTotal") as number;
      expect(Math.round(total * 100)).toBe(Math.round(items.reduce((s, i) => s + i.priceTotal, 0) * 100));
      expect(Math.round(total * 100) / 100).toBe(total);
      expect(get(r, "commerce.order.currencyCode")).toBe("USD");
      expect(get(r, "commerce.purchases.value")).toBe(1);
    }
  });
});

describe("demo customer", () => {
  const d = demoCustomer;
  it("has a mobile app profile on her first device, linked to her email", () => {
    const app = data.app.find((r) => ids(r, "ECID").includes(d.ecids[0]!));
    expect(app).toBeDefined();
    expect(ids(app!, "Email")).toEqual([d.email]);
    expect(get(app, "mobilePhone.number")).toBe("+14085550199");
  });

  it("is in CRM as Jane Doe", () => {
    const r = data.crm.find((x) => ids(x, "CRMID")[0] === d.crmId);
    expect(r).toBeDefined();
    expect(ids(r!, "Email")).toEqual([d.email]);
    expect(ids(r!, "Phone")).toEqual([d.phone]);
    expect(get(r, "person.name")).toEqual({ firstName: d.firstName, lastName: d.lastName });
    expect(get(r, "homeAddress.city")).toBe(d.homeAddress.city);
  });

  it("is a loyalty member whose more recent record disagrees on name and city", () => {
    const r = data.loyalty.find((x) => ids(x, "LoyaltyId")[0] === d.loyaltyId);
    expect(r).toBeDefined();
    expect(ids(r!, "Email")).toEqual([d.email]);
    expect(get(r, "loyalty.tier")).toBe(d.loyalty.tier);
    expect(get(r, "person.name.firstName")).toBe(d.loyalty.nickname);
    expect(get(r, "homeAddress.city")).toBe(d.loyalty.city);
    const crm = data.crm.find((x) => x._id === d.crmId)!;
    const updated = (x: XdmRecord) => Date.parse(get(x, "extSourceSystemAudit.lastUpdatedDate") as string);
    expect(updated(r!)).toBeGreaterThan(updated(crm));
  });

  it("browses signed in on every one of her devices", () => {
    expect(d.ecids.length).toBeGreaterThanOrEqual(2);
    const linked = new Set(data.web.filter((r) => ids(r, "Email")[0] === d.email).map((r) => ids(r, "ECID")[0]));
    expect(linked).toEqual(new Set(d.ecids));
  });

  it("has at least one purchase", () => {
    const orders = data.purchases.filter((r) => ids(r, "CRMID")[0] === d.crmId);
    expect(orders.length).toBeGreaterThanOrEqual(1);
    for (const r of orders) expect(d.ecids).toContain(ids(r, "ECID")[0]);
  });

  it("keeps her identities whatever the seed", () => {
    for (const seed of [1, 2, 999]) {
      const [crm] = [...records("crm", { profiles: 1, seed, anchor })];
      expect(crm).toMatchObject({ _id: d.crmId, personalEmail: { address: d.email } });
      expect([...records("loyalty", { profiles: 1, seed, anchor })]).toHaveLength(1);
      expect([...records("purchases", { profiles: 1, seed, anchor })].length).toBeGreaterThanOrEqual(1);
    }
  });
});
