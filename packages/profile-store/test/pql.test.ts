import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { Pql } from "../src/index.js"

const NOW = Date.UTC(2025, 5, 18, 12, 0, 0) // Wednesday
const HOUR = 3_600_000
const DAY = 24 * HOUR

const parsed = (text: string): Pql.Expression => {
  const result = Pql.parse(text)
  if (Either.isLeft(result)) throw new Error(`${text}: ${result.left.message}`)
  return result.right
}

const error = (text: string): string => {
  const result = Pql.parse(text)
  if (Either.isRight(result)) throw new Error(`${text} parsed`)
  return result.left.message
}

const filter = (condition: string) => parsed(`xEvent[${condition}].count()`).filter!

const event = (ts: number, data: Record<string, unknown>, id = String(ts)): Pql.Event => ({ ts, data, datasetId: "ds", id })

const holds = (condition: string, data: Record<string, unknown>, ts = NOW - HOUR) => Pql.matches(filter(condition), event(ts, data), NOW)

describe("Pql.parse", () => {
  it("reads Adobe's documented expressions", () => {
    const sum = parsed(
      "xEvent[(commerce.checkouts.value > 0.0 or commerce.purchases.value > 1.0 or commerce.order.priceTotal >= 10.0) and (timestamp occurs <= 7 days before now)].sum(commerce.order.priceTotal)"
    )
    expect(sum.aggregate).toEqual({ _tag: "Sum", path: "commerce.order.priceTotal" })
    expect(sum.filter).toEqual({
      _tag: "And",
      left: {
        _tag: "Or",
        left: {
          _tag: "Or",
          left: { _tag: "Compare", path: "commerce.checkouts.value", op: ">", value: 0 },
          right: { _tag: "Compare", path: "commerce.purchases.value", op: ">", value: 1 }
        },
        right: { _tag: "Compare", path: "commerce.order.priceTotal", op: ">=", value: 10 }
      },
      right: { _tag: "Occurs", path: "timestamp", op: "<=", amount: 7, unit: "days" }
    })
    expect(Pql.mergeFunction(sum)).toBe("SUM")
    expect(Pql.returnType(sum)).toBe("number")

    const recent = parsed(
      'xEvent[eventType.equals("commerce.backofficeOrderPlaced", false)].topN(timestamp, 1).map({"timestamp": timestamp, "value": producedBy}).head()'
    )
    expect(recent).toEqual({
      filter: { _tag: "StringMatch", path: "eventType", fn: "equals", value: "commerce.backofficeOrderPlaced", caseSensitive: false },
      aggregate: { _tag: "MostRecent", path: "producedBy" }
    })
    expect(Pql.mergeFunction(recent)).toBe("MOST_RECENT")

    const min = parsed(
      "xEvent[(commerce.shipping.shipDate occurs <= 1 days before now) and (timestamp occurs <= 1 days before now)].min(commerce.shipping.shipDate)"
    )
    expect(min.aggregate).toEqual({ _tag: "Min", path: "commerce.shipping.shipDate" })
    expect(Pql.mergeFunction(min)).toBe("MIN")
    expect(Pql.returnType(min)).toBe("string")
  })

  it("reads every supported aggregate", () => {
    expect(parsed("xEvent.count()")).toEqual({ filter: undefined, aggregate: { _tag: "Count" } })
    expect(parsed("xEvent[true].max(a.b)").aggregate).toEqual({ _tag: "Max", path: "a.b" })
    expect(parsed('xEvent.bottomN(timestamp, 1).map({"value": a, "timestamp": timestamp}).head()').aggregate).toEqual({
      _tag: "First",
      path: "a"
    })
    expect(parsed('xEvent.topN(timestamp, 3).map({"timestamp": timestamp, "value": a.b})').aggregate).toEqual({
      _tag: "List",
      path: "a.b",
      size: 3
    })
    expect(Pql.mergeFunction(parsed("xEvent.count()"))).toBe("COUNT")
    expect(Pql.mergeFunction(parsed("xEvent.max(a)"))).toBe("MAX")
  })

  it("reads every supported condition", () => {
    expect(filter('not (a = "x") and b != 2 or c < 1 and d <= -1.5 and e > 1e3 and f >= 0 and g == true and h = null')).toBeDefined()
    expect(filter("a.isNull() or a.isNotNull()")).toEqual({
      _tag: "Or",
      left: { _tag: "IsNull", path: "a", negated: false },
      right: { _tag: "IsNull", path: "a", negated: true }
    })
    expect(filter('a in ["x", 1, true] and b not in ["y"]')).toEqual({
      _tag: "And",
      left: { _tag: "In", path: "a", values: ["x", 1, true], negated: false },
      right: { _tag: "In", path: "b", values: ["y"], negated: true }
    })
    expect(filter('a like "%x_"')).toEqual({ _tag: "Like", path: "a", pattern: "%x_" })
    for (const fn of ["equals", "notEqualTo", "contains", "doesNotContain", "startsWith", "doesNotStartWith", "endsWith", "doesNotEndWith"]) {
      expect(filter(`a.${fn}('x')`)).toEqual({ _tag: "StringMatch", path: "a", fn, value: "x", caseSensitive: true })
    }
    expect(filter("timestamp occurs > 1 month before now")).toEqual({ _tag: "Occurs", path: "timestamp", op: ">", amount: 1, unit: "months" })
    // and binds tighter than or
    expect(filter("a = 1 or b = 2 and c = 3")._tag).toBe("Or")
  })

  it("says exactly what is unsupported", () => {
    expect(error("xEvent.percentile(a, 50)")).toBe(`function percentile is not supported; ${Pql.SUPPORTED_FUNCTIONS}`)
    expect(error("xEvent.average(a)")).toMatch(/^function average is not supported; use sum, count, min, max or most recent/)
    expect(error("xEvent[a = 1].count() > 0")).toMatch(/comparing the aggregate \(">"\) is not supported/)
    expect(error("person.name")).toMatch(/must start with xEvent, not "person"/)
    expect(error("")).toMatch(/empty/)
    expect(error("xEvent[a.matches(\"x\")].count()")).toMatch(/^function matches is not supported in a filter/)
    expect(error("xEvent[a = b].count()")).toMatch(/comparing two fields is not supported/)
    expect(error("xEvent[a = 1 && b = 2].count()")).toBe('"&&" is not PQL: use and')
    expect(error("xEvent[a + 1 > 2].count()")).toMatch(/arithmetic \("\+"\) is not supported/)
    expect(error("xEvent[timestamp occurs between 1 and 2 days before now].count()")).toMatch(/"occurs between" is not supported/)
    expect(error("xEvent[timestamp occurs <= 2 fortnights before now].count()")).toMatch(/expected a time unit/)
    expect(error("xEvent[timestamp occurs <= 2 days after now].count()")).toMatch(/"after now" is not supported/)
    expect(error("xEvent[a = 1.sum(a)")).toMatch(/expected "]" to close the event filter/)
    expect(error("xEvent[(a = 1].count()")).toMatch(/expected "\)"/)
    expect(error("xEvent[a = 1]")).toMatch(/needs an aggregate/)
    expect(error("xEvent.count(a)")).toMatch(/count\(\) takes no argument/)
    expect(error("xEvent.sum()")).toMatch(/sum\(\) needs the field/)
    expect(error("xEvent.topN(a, 1).map({\"timestamp\": timestamp, \"value\": b}).head()")).toMatch(/order events by timestamp/)
    expect(error("xEvent.topN(timestamp, 0).map({\"timestamp\": timestamp, \"value\": b})")).toMatch(/at least 1/)
    expect(error("xEvent.topN(timestamp, 1).head()")).toMatch(/must be followed by \.map/)
    expect(error("xEvent.topN(timestamp, 1).map({\"timestamp\": timestamp})")).toMatch(/needs "value"/)
    expect(error("xEvent.topN(timestamp, 1).map({\"ts\": timestamp, \"value\": a})")).toMatch(/map keys are "timestamp" and "value"/)
    expect(error("xEvent.sum(a).head()")).toMatch(/function head is not supported after the aggregate/)
    expect(error("xEvent[a = \"x].count()")).toMatch(/is not closed/)
    expect(error("xEvent[a.equals(\"x\", maybe)].count()")).toMatch(/true \(case-sensitive\) or false/)
  })

  it("reports where the problem is", () => {
    const text = "xEvent[a = 1].percentile(a)"
    const result = Pql.parse(text)
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(result.left.position).toBe(14)
      expect(Pql.describeError(result.left, text)).toMatch(/\(at character 15, near "percentile\(a\)"\)$/)
    }
  })
})

describe("Pql.matches", () => {
  it("compares numbers, strings, booleans and date-times", () => {
    const data = { n: 5, s: "Shoes", b: true, d: "2025-06-01T00:00:00Z", nested: { x: 1 } }
    expect(holds("n = 5", data)).toBe(true)
    expect(holds("n != 5", data)).toBe(false)
    expect(holds("n > 4.5 and n < 6 and n >= 5 and n <= 5", data)).toBe(true)
    expect(holds('n = "5"', data)).toBe(false) // no coercion between types
    expect(holds('s = "Shoes"', data)).toBe(true)
    expect(holds('s < "T"', data)).toBe(true)
    expect(holds("b = true and not (b = false)", data)).toBe(true)
    expect(holds("b > false", data)).toBe(false)
    expect(holds('d > "2025-05-31" and d < "2025-06-01T00:00:01Z"', data)).toBe(true)
    expect(holds("nested.x = 1", data)).toBe(true)
    // a missing field satisfies nothing but "= null", isNull and not
    expect(holds("missing = 1", data)).toBe(false)
    expect(holds("missing != 1", data)).toBe(false)
    expect(holds("missing = null and missing.isNull() and not (missing = 1)", data)).toBe(true)
    expect(holds("n != null and n.isNotNull()", data)).toBe(true)
    // timestamp is the event time: compare with epoch ms or a date-time string
    expect(holds(`timestamp >= ${NOW - 2 * HOUR}`, data)).toBe(true)
    expect(holds(`timestamp > "${new Date(NOW).toISOString()}"`, data)).toBe(false)
  })

  it("applies string functions with PQL's case-sensitivity flag", () => {
    const data = { t: "commerce.Purchases" }
    expect(holds('t.equals("commerce.purchases")', data)).toBe(false)
    expect(holds('t.equals("commerce.purchases", false)', data)).toBe(true)
    expect(holds('t.equals("commerce.Purchases", true)', data)).toBe(true)
    expect(holds('t.notEqualTo("x")', data)).toBe(true)
    expect(holds('t.contains("purch", false) and t.doesNotContain("view")', data)).toBe(true)
    expect(holds('t.startsWith("commerce.") and t.doesNotStartWith("web.")', data)).toBe(true)
    expect(holds('t.endsWith("purchases", false)', data)).toBe(true)
    expect(holds('t.endsWith("purchases")', data)).toBe(false)
    expect(holds('t.doesNotEndWith("Purchases")', data)).toBe(false)
    expect(holds('t like "commerce.%"', data)).toBe(true)
    expect(holds('t like "commerce._urchases"', data)).toBe(true)
    expect(holds('t like "web%"', data)).toBe(false)
    expect(holds('t in ["a", "commerce.Purchases"] and t not in ["b"]', data)).toBe(true)
    expect(holds('missing.doesNotContain("x")', data)).toBe(false)
  })

  it("reads arrays element by element", () => {
    const data = { items: [{ sku: "A", price: 5 }, { sku: "B", price: 20 }] }
    expect(holds('items.sku = "B"', data)).toBe(true)
    expect(holds('items.sku != "B"', data)).toBe(false)
    expect(holds('items.sku != "C"', data)).toBe(true)
    expect(holds("items.price > 10", data)).toBe(true)
  })

  it("places occurs relative to now", () => {
    const at = (ts: number, condition: string, data: Record<string, unknown> = {}) => holds(condition, data, ts)
    expect(at(NOW - 7 * DAY, "timestamp occurs <= 7 days before now")).toBe(true)
    expect(at(NOW - 7 * DAY - 1, "timestamp occurs <= 7 days before now")).toBe(false)
    expect(at(NOW - 7 * DAY, "timestamp occurs < 7 days before now")).toBe(false)
    expect(at(NOW + 1, "timestamp occurs <= 7 days before now")).toBe(false)
    expect(at(NOW - 8 * DAY, "timestamp occurs >= 7 days before now")).toBe(true)
    expect(at(NOW - 7 * DAY, "timestamp occurs > 7 days before now")).toBe(false)
    expect(at(NOW - 90 * 60_000, "timestamp occurs <= 2 hours before now and timestamp occurs > 1 hour before now")).toBe(true)
    // "= 1 day before now" is yesterday (UTC calendar day)
    expect(at(Date.UTC(2025, 5, 17, 0, 0), "timestamp occurs = 1 day before now")).toBe(true)
    expect(at(Date.UTC(2025, 5, 17, 23, 59), "timestamp occurs = 1 day before now")).toBe(true)
    expect(at(Date.UTC(2025, 5, 18, 0, 0), "timestamp occurs = 1 day before now")).toBe(false)
    // months follow the calendar
    expect(at(Date.UTC(2025, 4, 18, 12), "timestamp occurs <= 1 month before now")).toBe(true)
    expect(at(Date.UTC(2025, 4, 18, 11), "timestamp occurs <= 1 month before now")).toBe(false)
    // any date-time field can be used
    expect(at(NOW, "ship.date occurs <= 1 days before now", { ship: { date: new Date(NOW - HOUR).toISOString() } })).toBe(true)
    expect(at(NOW, "ship.date occurs <= 1 days before now", { ship: { date: "soon" } })).toBe(false)
  })

  it("computes calendar boundaries in UTC", () => {
    expect(Pql.startOf(NOW, "weeks")).toBe(Date.UTC(2025, 5, 15)) // Sunday
    expect(Pql.startOf(NOW, "months")).toBe(Date.UTC(2025, 5, 1))
    expect(Pql.before(Date.UTC(2025, 2, 31, 5), 1, "months")).toBe(Date.UTC(2025, 1, 28, 5))
    expect(Pql.before(NOW, 2, "years")).toBe(Date.UTC(2023, 5, 18, 12))
  })
})

describe("Pql.evaluate", () => {
  const events = [
    event(NOW - 5 * HOUR, { type: "buy", price: 10, page: "cart", when: "2025-06-10T00:00:00Z" }, "e1"),
    event(NOW - 3 * HOUR, { type: "view", price: 99, page: "home" }, "e2"),
    event(NOW - 2 * HOUR, { type: "buy", price: 25.5, page: "checkout", when: "2025-06-01T00:00:00Z" }, "e3"),
    event(NOW - 1 * HOUR, { type: "buy", page: "thanks" }, "e4"),
    event(NOW - 1 * HOUR, { type: "buy", price: "7", page: "thanks-2", tags: ["a", "b"] }, "e5")
  ]
  const run = (text: string) => Pql.evaluate(parsed(text), events, NOW)

  it("sum, count, min and max over the events that pass the filter", () => {
    expect(run('xEvent[type = "buy"].sum(price)')).toEqual({ value: 35.5 })
    expect(run('xEvent[type = "buy"].count()')).toEqual({ value: 4 })
    expect(run("xEvent.count()")).toEqual({ value: 5 })
    expect(run('xEvent[type = "buy"].min(price)')).toEqual({ value: 10 })
    expect(run("xEvent.max(price)")).toEqual({ value: 99 })
    // date-times compare as instants and come back as written
    expect(run("xEvent.min(when)")).toEqual({ value: "2025-06-01T00:00:00Z" })
    expect(run("xEvent.max(timestamp)")).toEqual({ value: new Date(NOW - HOUR).toISOString() })
    // nothing qualifies: no value at all
    expect(run('xEvent[type = "return"].count()')).toBeUndefined()
    expect(run('xEvent[type = "view"].sum(missing)')).toBeUndefined()
  })

  it("most recent, first and list keep the value and the time it came from", () => {
    // e4 and e5 share a time: the id breaks the tie; e5's value is an array
    expect(run('xEvent.topN(timestamp, 1).map({"timestamp": timestamp, "value": page}).head()')).toEqual({
      value: "thanks-2",
      timestamp: NOW - HOUR
    })
    expect(run('xEvent.topN(timestamp, 1).map({"timestamp": timestamp, "value": tags}).head()')).toEqual({
      value: ["a", "b"],
      timestamp: NOW - HOUR
    })
    expect(run('xEvent[type = "buy"].bottomN(timestamp, 1).map({"timestamp": timestamp, "value": page}).head()')).toEqual({
      value: "cart",
      timestamp: NOW - 5 * HOUR
    })
    // events without the field are skipped
    expect(run('xEvent.topN(timestamp, 1).map({"timestamp": timestamp, "value": price}).head()')).toEqual({
      value: "7",
      timestamp: NOW - HOUR
    })
    expect(run('xEvent.topN(timestamp, 3).map({"timestamp": timestamp, "value": page})')).toEqual({
      value: ["thanks-2", "thanks", "checkout"],
      timestamp: NOW - HOUR
    })
  })
})
