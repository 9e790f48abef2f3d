/**
 * Static reference data for the fictional Luma brand. Kept as plain arrays so
 * the output only changes when this file does (a faker upgrade would silently
 * reshuffle every generated name).
 */

/** First names, each with the nickname a customer might give the loyalty app. */
export const firstNames: ReadonlyArray<readonly [name: string, nickname: string]> = [
  ["Jane", "Janie"], ["Elizabeth", "Liz"], ["Jennifer", "Jen"], ["Katherine", "Kate"],
  ["Margaret", "Maggie"], ["Patricia", "Patty"], ["Rebecca", "Becky"], ["Samantha", "Sam"],
  ["Victoria", "Vicky"], ["Alexandra", "Alex"], ["Christina", "Tina"], ["Deborah", "Debbie"],
  ["Abigail", "Abby"], ["Olivia", "Liv"], ["Isabella", "Bella"], ["Sophia", "Sophie"],
  ["Madeline", "Maddie"], ["Natalie", "Nat"], ["Gabriela", "Gabi"], ["Theresa", "Tess"],
  ["Susan", "Sue"], ["Amanda", "Mandy"], ["Kimberly", "Kim"], ["Daniela", "Dani"],
  ["Valentina", "Vale"], ["Priya", "Pri"], ["Mei", "Meimei"], ["Yuki", "Yu"],
  ["Fatima", "Tima"], ["Anastasia", "Nastya"],
  ["John", "Johnny"], ["William", "Will"], ["Robert", "Rob"], ["Michael", "Mike"],
  ["James", "Jim"], ["Richard", "Rick"], ["Thomas", "Tom"], ["Christopher", "Chris"],
  ["Daniel", "Dan"], ["Matthew", "Matt"], ["Anthony", "Tony"], ["Joseph", "Joe"],
  ["Benjamin", "Ben"], ["Nicholas", "Nick"], ["Jonathan", "Jon"], ["Timothy", "Tim"],
  ["Alexander", "Xander"], ["Samuel", "Sammy"], ["Zachary", "Zach"], ["Edward", "Ed"],
  ["Andrew", "Drew"], ["Steven", "Steve"], ["Raymond", "Ray"], ["Frederick", "Fred"],
  ["Alejandro", "Alex"], ["Francisco", "Paco"], ["Santiago", "Santi"], ["Hiroshi", "Hiro"],
  ["Mohammed", "Mo"], ["Dmitri", "Dima"],
];

export const lastNames: ReadonlyArray<string> = [
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
  "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
  "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
  "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
  "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
  "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Chen", "Kim", "Patel", "Singh",
  "Tanaka", "Sato", "Kowalski", "Novak", "Ivanova", "Schmidt", "Muller", "Rossi", "Dubois",
  "Silva", "Santos", "Okafor", "Mensah", "Cohen", "Murphy", "Kelly", "O'Brien", "Sullivan",
];

/** Reserved example domains (RFC 2606), so no generated address can reach a real inbox. */
export const emailDomains: ReadonlyArray<string> = ["example.com", "example.net", "example.org"];

export interface City {
  readonly city: string;
  /** Three leading ZIP digits; the generator appends two more. */
  readonly zip3: string;
}

export const cities: ReadonlyArray<City> = [
  { city: "San Jose", zip3: "951" }, { city: "Santa Clara", zip3: "950" },
  { city: "San Francisco", zip3: "941" }, { city: "Oakland", zip3: "946" },
  { city: "Los Angeles", zip3: "900" }, { city: "San Diego", zip3: "921" },
  { city: "Sacramento", zip3: "958" }, { city: "Portland", zip3: "972" },
  { city: "Seattle", zip3: "981" }, { city: "Boise", zip3: "837" },
  { city: "Salt Lake City", zip3: "841" }, { city: "Las Vegas", zip3: "891" },
  { city: "Phoenix", zip3: "850" }, { city: "Denver", zip3: "802" },
  { city: "Albuquerque", zip3: "871" }, { city: "Austin", zip3: "787" },
  { city: "Dallas", zip3: "752" }, { city: "Houston", zip3: "770" },
  { city: "Kansas City", zip3: "641" }, { city: "Minneapolis", zip3: "554" },
  { city: "Chicago", zip3: "606" }, { city: "Detroit", zip3: "482" },
  { city: "Columbus", zip3: "432" }, { city: "Nashville", zip3: "372" },
  { city: "Atlanta", zip3: "303" }, { city: "Miami", zip3: "331" },
  { city: "Orlando", zip3: "328" }, { city: "Charlotte", zip3: "282" },
  { city: "Washington", zip3: "200" }, { city: "Philadelphia", zip3: "191" },
  { city: "New York", zip3: "100" }, { city: "Brooklyn", zip3: "112" },
  { city: "Boston", zip3: "021" }, { city: "Providence", zip3: "029" },
  { city: "Burlington", zip3: "054" }, { city: "Pittsburgh", zip3: "152" },
];

export const streetNames: ReadonlyArray<string> = [
  "Park", "Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill",
  "Sunset", "Market", "Mission", "Church", "Highland", "Valley", "River", "Spring", "Forest",
  "Meadow", "Ridge", "Harbor", "Lincoln", "Jefferson", "Franklin", "Madison", "Willow",
];
export const streetSuffixes: ReadonlyArray<string> = ["St", "Ave", "Blvd", "Rd", "Ln", "Dr", "Way", "Ct"];

export interface Product {
  readonly sku: string;
  readonly name: string;
  /** In cents, so order totals add up without floating-point drift. */
  readonly priceCents: number;
  readonly category: Category;
}

export type Category = "women/tops" | "women/bottoms" | "men/tops" | "men/bottoms" | "gear/bags" | "gear/watches" | "gear/fitness";

export const categoryNames: Readonly<Record<Category, string>> = {
  "women/tops": "Women > Tops",
  "women/bottoms": "Women > Bottoms",
  "men/tops": "Men > Tops",
  "men/bottoms": "Men > Bottoms",
  "gear/bags": "Gear > Bags",
  "gear/watches": "Gear > Watches",
  "gear/fitness": "Gear > Fitness Equipment",
};

// Names and SKUs follow the Luma demo storefront so the data looks familiar to AEP users.
export const products: ReadonlyArray<Product> = [
  { sku: "WS12", name: "Radiant Tee", priceCents: 2200, category: "women/tops" },
  { sku: "WT09", name: "Breathe-Easy Tank", priceCents: 3400, category: "women/tops" },
  { sku: "WH01", name: "Mona Pullover Hoodlie", priceCents: 5700, category: "women/tops" },
  { sku: "WJ03", name: "Augusta Pullover Jacket", priceCents: 5700, category: "women/tops" },
  { sku: "WS03", name: "Gwyn Endurance Tee", priceCents: 2400, category: "women/tops" },
  { sku: "WP07", name: "Aeon Capri", priceCents: 4800, category: "women/bottoms" },
  { sku: "WP13", name: "Karmen Yoga Pant", priceCents: 3900, category: "women/bottoms" },
  { sku: "WSH12", name: "Erika Running Short", priceCents: 4500, category: "women/bottoms" },
  { sku: "WSH03", name: "Ana Running Short", priceCents: 4000, category: "women/bottoms" },
  { sku: "MH01", name: "Chaz Kangeroo Hoodie", priceCents: 5200, category: "men/tops" },
  { sku: "MH02", name: "Teton Pullover Hoodie", priceCents: 7000, category: "men/tops" },
  { sku: "MH03", name: "Bruno Compete Hoodie", priceCents: 6300, category: "men/tops" },
  { sku: "MJ12", name: "Proteus Fitness Jackshirt", priceCents: 4500, category: "men/tops" },
  { sku: "MS04", name: "Gobi HeatTec Tee", priceCents: 2900, category: "men/tops" },
  { sku: "MP01", name: "Caesar Warm-Up Pant", priceCents: 3500, category: "men/bottoms" },
  { sku: "MP03", name: "Aether Gym Pant", priceCents: 7400, category: "men/bottoms" },
  { sku: "MSH02", name: "Apollo Running Short", priceCents: 3200, category: "men/bottoms" },
  { sku: "24-MB01", name: "Joust Duffle Bag", priceCents: 3400, category: "gear/bags" },
  { sku: "24-MB02", name: "Fusion Backpack", priceCents: 5900, category: "gear/bags" },
  { sku: "24-MB03", name: "Crown Summit Backpack", priceCents: 3800, category: "gear/bags" },
  { sku: "24-WB04", name: "Overnight Duffle", priceCents: 4500, category: "gear/bags" },
  { sku: "24-WB07", name: "Push It Messenger Bag", priceCents: 4500, category: "gear/bags" },
  { sku: "24-MG01", name: "Endurance Watch", priceCents: 4900, category: "gear/watches" },
  { sku: "24-MG02", name: "Dash Digital Watch", priceCents: 9200, category: "gear/watches" },
  { sku: "24-MG03", name: "Summit Watch", priceCents: 5400, category: "gear/watches" },
  { sku: "24-WG01", name: "Bolo Sport Watch", priceCents: 4900, category: "gear/watches" },
  { sku: "24-WG02", name: "Didi Sport Watch", priceCents: 9200, category: "gear/watches" },
  { sku: "24-UG01", name: "Quest Lumaflex Band", priceCents: 1900, category: "gear/fitness" },
  { sku: "24-UG04", name: "Zing Jump Rope", priceCents: 1200, category: "gear/fitness" },
  { sku: "24-UG05", name: "Go-Get'r Pushup Grips", priceCents: 1900, category: "gear/fitness" },
  { sku: "24-WG080", name: "Sprite Yoga Companion Kit", priceCents: 7700, category: "gear/fitness" },
  { sku: "24-UG02", name: "Pursuit Lumaflex Tone Band", priceCents: 1600, category: "gear/fitness" },
];

export const categories = Object.keys(categoryNames) as ReadonlyArray<Category>;

export const siteOrigin = "https://luma.example.com";

export const slug = (text: string): string =>
  text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
