/** Experience events: page views on the Luma site and online orders. */
import { categories, categoryNames, products, siteOrigin, slug, type Category, type Product } from "./catalog.js";
import type { AnonymousVisitor, Customer } from "./customer.js";
import { pad, Rng, Stream } from "./random.js";
import { isoBefore, primary, secondary, type IdentityMap } from "./xdm.js";

const DAY = 86_400;
const WINDOW = 90 * DAY;
// Sessions start at least an hour before the anchor so none runs past it.
const LATEST_START = 3600;

interface Page {
  readonly name: string;
  readonly URL: string;
}

const homePage: Page = { name: "Home", URL: `${siteOrigin}/` };
const cartPage: Page = { name: "Cart", URL: `${siteOrigin}/checkout/cart` };
const accountPage: Page = { name: "My Account", URL: `${siteOrigin}/customer/account` };
const categoryPage = new Map<Category, Page>(
  categories.map((c) => [c, { name: categoryNames[c], URL: `${siteOrigin}/${c}` }]),
);
const productPage = new Map<Product, Page>(
  products.map((p) => [p, { name: p.name, URL: `${siteOrigin}/products/${slug(p.name)}` }]),
);
const productsIn = new Map<Category, ReadonlyArray<Product>>(
  categories.map((c) => [c, products.filter((p) => p.category === c)]),
);

type Step = "home" | "category" | "product" | "cart" | "account";
const landing: ReadonlyArray<readonly [Step, number]> = [["home", 40], ["category", 35], ["product", 25]];
const browsingAnonymous: ReadonlyArray<readonly [Step, number]> = [["product", 60], ["category", 25], ["cart", 15]];
const browsingSignedIn: ReadonlyArray<readonly [Step, number]> = [
  ["product", 55], ["category", 20], ["cart", 15], ["account", 10],
];

/** A plausible click path: visitors mostly stay within the category they are browsing. */
const clickPath = (rng: Rng, views: number, signedIn: boolean): Array<Page> => {
  let category = rng.pick(categories);
  const pages: Array<Page> = [];
  for (let v = 0; v < views; v++) {
    const step = rng.weighted(v === 0 ? landing : signedIn ? browsingSignedIn : browsingAnonymous);
    switch (step) {
      case "home": pages.push(homePage); break;
      case "cart": pages.push(cartPage); break;
      case "account": pages.push(accountPage); break;
      case "category":
        category = rng.pick(categories);
        pages.push(categoryPage.get(category)!);
        break;
      case "product": {
        if (rng.chance(0.3)) category = rng.pick(categories);
        pages.push(productPage.get(rng.pick(productsIn.get(category)!))!);
        break;
      }
    }
  }
  return pages;
};

interface View {
  readonly at: number; // seconds before the anchor
  readonly ecid: string;
  readonly signedIn: boolean;
  readonly page: Page;
}

interface Visitor {
  readonly key: string;
  readonly ecids: ReadonlyArray<string>;
  readonly email?: string;
  /** Give every device one signed-in session so the demo's devices all link to her. */
  readonly linkEveryDevice?: boolean;
}

function* pageViews(rng: Rng, visitor: Visitor, views: number, anchorMs: number): Generator<Record<string, unknown>> {
  const all: Array<View> = [];
  for (let session = 0, remaining = views; remaining > 0; session++) {
    const size = Math.min(remaining, rng.int(1, 4));
    remaining -= size;
    const forced = visitor.linkEveryDevice === true && session < visitor.ecids.length;
    const ecid = forced ? visitor.ecids[session]! : rng.pick(visitor.ecids);
    const signedIn = visitor.email !== undefined && (forced || rng.chance(0.5));
    let at = rng.int(LATEST_START, WINDOW);
    for (const page of clickPath(rng, size, signedIn)) {
      all.push({ at, ecid, signedIn, page });
      at -= rng.int(10, 180);
    }
  }
  all.sort((a, b) => b.at - a.at);
  for (let n = 0; n < all.length; n++) {
    const v = all[n]!;
    const identityMap: IdentityMap = { ECID: primary(v.ecid, "ambiguous") };
    if (v.signedIn) identityMap["Email"] = secondary(visitor.email!, "authenticated");
    yield {
      _id: `${visitor.key}-pv-${n}`,
      timestamp: isoBefore(anchorMs, v.at),
      eventType: "web.webpagedetails.pageViews",
      web: { webPageDetails: { name: v.page.name, URL: v.page.URL, pageViews: { value: 1 } } },
      identityMap,
    };
  }
}

export function* customerPageViews(
  c: Customer, seed: number, anchorMs: number, average: number,
): Generator<Record<string, unknown>> {
  const rng = new Rng(seed, c.index, Stream.web);
  // Uniform on 1..2·average-1, so the mean is the requested average.
  let views = average <= 0 ? 0 : 1 + Math.floor(rng.float() * Math.max(1, 2 * average - 1));
  const linkEveryDevice = c.index === 0;
  if (linkEveryDevice) views = Math.max(views, 2 * c.ecids.length);
  yield* pageViews(rng, { key: c.crmId, ecids: c.ecids, email: c.email, linkEveryDevice }, views, anchorMs);
}

export function* anonymousPageViews(
  v: AnonymousVisitor, seed: number, anchorMs: number, average: number,
): Generator<Record<string, unknown>> {
  const rng = new Rng(seed, v.index, Stream.anonymousWeb);
  // Visitors who never sign in tend to bounce sooner.
  const views = average <= 0 ? 0 : 1 + Math.floor(rng.float() * average);
  yield* pageViews(rng, { key: v.key, ecids: v.ecids }, views, anchorMs);
}

const itemCount: ReadonlyArray<readonly [number, number]> = [[1, 50], [2, 30], [3, 15], [4, 5]];
const quantity: ReadonlyArray<readonly [number, number]> = [[1, 80], [2, 15], [3, 5]];

export function* purchases(c: Customer, seed: number, anchorMs: number): Generator<Record<string, unknown>> {
  if (c.orders === 0) return;
  const rng = new Rng(seed, c.index, Stream.purchases);
  const orders = Array.from({ length: c.orders }, () => {
    const at = rng.int(LATEST_START, WINDOW);
    const ecid = rng.pick(c.ecids);
    const chosen = new Set<Product>();
    for (let wanted = rng.weighted(itemCount); chosen.size < wanted; ) chosen.add(rng.pick(products));
    const items = [...chosen].map((p) => ({ product: p, quantity: rng.weighted(quantity) }));
    return { at, ecid, items };
  });
  orders.sort((a, b) => b.at - a.at);
  for (let n = 0; n < orders.length; n++) {
    const order = orders[n]!;
    let totalCents = 0;
    const productListItems = order.items.map(({ product, quantity }) => {
      const cents = product.priceCents * quantity;
      totalCents += cents;
      return { SKU: product.sku, name: product.name, quantity, priceTotal: cents / 100 };
    });
    yield {
      _id: `${c.crmId}-order-${n}`,
      timestamp: isoBefore(anchorMs, order.at),
      eventType: "commerce.purchases",
      identityMap: {
        ECID: primary(order.ecid, "ambiguous"),
        CRMID: secondary(c.crmId, "authenticated"),
      } satisfies IdentityMap,
      commerce: {
        order: { purchaseID: `ORD-${pad(c.index, 7)}-${n}`, priceTotal: totalCents / 100, currencyCode: "USD" },
        purchases: { value: 1 },
      },
      productListItems,
    };
  }
}
