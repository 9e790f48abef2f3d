/**
 * The part of the Profile Query Language (PQL) that computed attributes use:
 * a filter over a profile's experience events and one aggregate.
 *
 * ```
 * xEvent[<filter>].sum(<path>)        → SUM
 * xEvent[<filter>].count()            → COUNT
 * xEvent[<filter>].min(<path>)        → MIN    (numbers, or date-time strings)
 * xEvent[<filter>].max(<path>)        → MAX
 * xEvent[<filter>].topN(timestamp, 1).map({"timestamp": timestamp, "value": <path>}).head()     → MOST_RECENT
 * xEvent[<filter>].bottomN(timestamp, 1).map({"timestamp": timestamp, "value": <path>}).head()  → FIRST
 * xEvent[<filter>].topN(timestamp, N).map({"timestamp": timestamp, "value": <path>})            → LIST (N most recent)
 * ```
 *
 * A filter combines, with `and`, `or`, `not` and parentheses:
 * comparisons `path = | != | < | <= | > | >= literal`; string functions
 * `path.equals("x", caseSensitive?)` (also `notEqualTo`, `contains`,
 * `doesNotContain`, `startsWith`, `doesNotStartWith`, `endsWith`,
 * `doesNotEndWith`; case-sensitive unless the second argument is `false`);
 * `path like "%pattern_"`; `path in [..]` / `path not in [..]`;
 * `path.isNull()` / `path.isNotNull()`; and time conditions
 * `path occurs <= N days before now` (`<`, `<=`, `=`, `>=`, `>`; units
 * seconds to years).
 *
 * Everything else fails to parse with a message naming what is unsupported.
 * There is no maintained PQL library for TypeScript, so this is a small
 * tokenizer and a recursive-descent parser, plus the evaluator.
 *
 * Evaluation rules (Adobe documents none of them precisely):
 * - a path that crosses arrays yields every element's value; a comparison
 *   holds when any value satisfies it, a negative one (`!=`, `doesNot…`,
 *   `not in`) when no value equals; a missing field satisfies nothing but
 *   `= null`, `isNull()` and `not`;
 * - numbers compare as numbers, date-time strings (`2025-01-31…`) as instants,
 *   also against a number of epoch ms; other strings compare as strings;
 * - `timestamp` is the event's time (epoch ms) in a filter and its ISO string
 *   as a value;
 * - `occurs <= N units before now` holds for times in `[now − N units, now]`
 *   (months and years by the calendar, UTC); `=` means the same calendar unit
 *   as `now − N units`.
 *
 * @since 0.1.0
 */
import { Data, Either } from "effect"

// ---------------------------------------------------------------------------
// syntax tree
// ---------------------------------------------------------------------------

export type Comparator = "=" | "!=" | "<" | "<=" | ">" | ">="
export type Literal = string | number | boolean | null
export type TimeUnit = "seconds" | "minutes" | "hours" | "days" | "weeks" | "months" | "years"
export type StringFunction =
  | "equals"
  | "notEqualTo"
  | "contains"
  | "doesNotContain"
  | "startsWith"
  | "doesNotStartWith"
  | "endsWith"
  | "doesNotEndWith"

export type Filter =
  | { readonly _tag: "And"; readonly left: Filter; readonly right: Filter }
  | { readonly _tag: "Or"; readonly left: Filter; readonly right: Filter }
  | { readonly _tag: "Not"; readonly filter: Filter }
  | { readonly _tag: "Constant"; readonly value: boolean }
  | { readonly _tag: "Compare"; readonly path: string; readonly op: Comparator; readonly value: Literal }
  | {
      readonly _tag: "StringMatch"
      readonly path: string
      readonly fn: StringFunction
      readonly value: string
      readonly caseSensitive: boolean
    }
  | { readonly _tag: "Like"; readonly path: string; readonly pattern: string }
  | { readonly _tag: "In"; readonly path: string; readonly values: ReadonlyArray<Literal>; readonly negated: boolean }
  | { readonly _tag: "IsNull"; readonly path: string; readonly negated: boolean }
  | {
      readonly _tag: "Occurs"
      readonly path: string
      readonly op: Exclude<Comparator, "!=">
      readonly amount: number
      readonly unit: TimeUnit
    }

export type Aggregate =
  | { readonly _tag: "Sum"; readonly path: string }
  | { readonly _tag: "Count" }
  | { readonly _tag: "Min"; readonly path: string }
  | { readonly _tag: "Max"; readonly path: string }
  | { readonly _tag: "MostRecent"; readonly path: string }
  | { readonly _tag: "First"; readonly path: string }
  | { readonly _tag: "List"; readonly path: string; readonly size: number }

export interface Expression {
  /** Undefined when every event qualifies (`xEvent.sum(...)`). */
  readonly filter: Filter | undefined
  readonly aggregate: Aggregate
}

/** An expression this module cannot take; `position` is the offset in the text (0-based). */
export class PqlError extends Data.TaggedError("PqlError")<{ readonly message: string; readonly position: number }> {}

export const SUPPORTED_FUNCTIONS =
  "use sum, count, min, max or most recent (topN(timestamp, 1).map({\"timestamp\": timestamp, \"value\": <field>}).head())"

// ---------------------------------------------------------------------------
// tokenizer
// ---------------------------------------------------------------------------

type Token =
  | { readonly kind: "ident"; readonly text: string; readonly pos: number }
  | { readonly kind: "number"; readonly value: number; readonly text: string; readonly pos: number }
  | { readonly kind: "string"; readonly value: string; readonly text: string; readonly pos: number }
  | { readonly kind: "punct"; readonly text: "[" | "]" | "(" | ")" | "{" | "}" | "." | "," | ":"; readonly pos: number }
  | { readonly kind: "op"; readonly text: Comparator; readonly pos: number }
  | { readonly kind: "eof"; readonly text: ""; readonly pos: number }

const IDENT_START = /[A-Za-z_$]/
const IDENT_PART = /[A-Za-z0-9_$]/
const DIGIT = /[0-9]/
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/

const fail: (message: string, position: number) => never = (message, position) => {
  throw new PqlError({ message, position })
}

const tokenize = (text: string): Array<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    const pos = i
    if (IDENT_START.test(c)) {
      while (i < text.length && IDENT_PART.test(text[i]!)) i++
      tokens.push({ kind: "ident", text: text.slice(pos, i), pos })
      continue
    }
    if (DIGIT.test(c) || (c === "-" && DIGIT.test(text[i + 1] ?? "")) || (c === "." && DIGIT.test(text[i + 1] ?? "") && tokens.at(-1)?.kind !== "ident")) {
      const match = NUMBER.exec(text.slice(i))!
      i += match[0].length
      tokens.push({ kind: "number", value: Number(match[0]), text: match[0], pos })
      continue
    }
    if (c === '"' || c === "'") {
      i++
      let value = ""
      for (;;) {
        if (i >= text.length) fail(`the string starting at ${pos} is not closed`, pos)
        const d = text[i]!
        if (d === c) {
          i++
          break
        }
        if (d === "\\") {
          const e = text[i + 1]
          if (e === undefined) fail(`the string starting at ${pos} is not closed`, pos)
          if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16))
            i += 6
            continue
          }
          value += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e!
          i += 2
          continue
        }
        value += d
        i++
      }
      tokens.push({ kind: "string", value, text: text.slice(pos, i), pos })
      continue
    }
    const two = text.slice(i, i + 2)
    if (two === "<=" || two === ">=" || two === "!=" || two === "==") {
      tokens.push({ kind: "op", text: two === "==" ? "=" : two, pos })
      i += 2
      continue
    }
    if (two === "&&" || two === "||") fail(`"${two}" is not PQL: use ${two === "&&" ? "and" : "or"}`, pos)
    if (c === "=" || c === "<" || c === ">") {
      tokens.push({ kind: "op", text: c, pos })
      i++
      continue
    }
    if ("[](){}.,:".includes(c)) {
      tokens.push({ kind: "punct", text: c as "[", pos })
      i++
      continue
    }
    if ("+-*/%".includes(c)) fail(`arithmetic ("${c}") is not supported in computed attribute expressions`, pos)
    if (c === "!") fail(`"!" is not PQL: use not(...) or !=`, pos)
    fail(`unexpected character "${c}"`, pos)
  }
  tokens.push({ kind: "eof", text: "", pos: text.length })
  return tokens
}

// ---------------------------------------------------------------------------
// parser
// ---------------------------------------------------------------------------

const STRING_FUNCTIONS: ReadonlyArray<StringFunction> = [
  "equals",
  "notEqualTo",
  "contains",
  "doesNotContain",
  "startsWith",
  "doesNotStartWith",
  "endsWith",
  "doesNotEndWith"
]

const UNITS: Record<string, TimeUnit> = {
  second: "seconds",
  seconds: "seconds",
  minute: "minutes",
  minutes: "minutes",
  hour: "hours",
  hours: "hours",
  day: "days",
  days: "days",
  week: "weeks",
  weeks: "weeks",
  month: "months",
  months: "months",
  year: "years",
  years: "years"
}

const describe = (token: Token) => (token.kind === "eof" ? "the end of the expression" : `"${token.text}"`)

class Parser {
  private index = 0
  constructor(private readonly tokens: ReadonlyArray<Token>) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]!
  }
  private next(): Token {
    const token = this.peek()
    if (this.index < this.tokens.length - 1) this.index++
    return token
  }
  private isPunct(text: string, offset = 0) {
    const token = this.peek(offset)
    return token.kind === "punct" && token.text === text
  }
  private isWord(word: string, offset = 0) {
    const token = this.peek(offset)
    return token.kind === "ident" && token.text === word
  }
  private expectPunct(text: string, context: string) {
    const token = this.peek()
    if (token.kind !== "punct" || token.text !== text) fail(`expected "${text}" ${context}, found ${describe(token)}`, token.pos)
    return this.next()
  }
  private expectWord(word: string, context: string) {
    const token = this.peek()
    if (token.kind !== "ident" || token.text !== word) fail(`expected "${word}" ${context}, found ${describe(token)}`, token.pos)
    return this.next()
  }

  expression(): Expression {
    const start = this.peek()
    if (start.kind !== "ident" || start.text !== "xEvent") {
      if (start.kind === "eof") fail("the expression is empty: computed attributes aggregate xEvent[...]", start.pos)
      fail(
        `computed attributes aggregate experience events: the expression must start with xEvent, not ${describe(start)}`,
        start.pos
      )
    }
    this.next()
    let filter: Filter | undefined
    if (this.isPunct("[")) {
      this.next()
      if (this.isPunct("]")) fail("the event filter xEvent[...] is empty: leave out the brackets to take every event", this.peek().pos)
      filter = this.or()
      this.expectPunct("]", "to close the event filter")
    }
    if (!this.isPunct(".")) {
      const token = this.peek()
      if (token.kind === "eof") fail(`the expression needs an aggregate after xEvent[...]: ${SUPPORTED_FUNCTIONS}`, token.pos)
      fail(`expected "." and an aggregate after xEvent[...], found ${describe(token)}`, token.pos)
    }
    this.next()
    const aggregate = this.aggregate()
    const rest = this.peek()
    if (rest.kind !== "eof") {
      if (rest.kind === "op") {
        fail(
          `comparing the aggregate ("${rest.text}") is not supported: a computed attribute stores the aggregate itself`,
          rest.pos
        )
      }
      if (rest.kind === "punct" && rest.text === "." && this.peek(1).kind === "ident") {
        fail(`function ${this.peek(1).text} is not supported after the aggregate`, this.peek(1).pos)
      }
      fail(`unexpected ${describe(rest)} after the aggregate`, rest.pos)
    }
    return { filter, aggregate }
  }

  private aggregate(): Aggregate {
    const name = this.peek()
    if (name.kind !== "ident") fail(`expected an aggregate function, found ${describe(name)}: ${SUPPORTED_FUNCTIONS}`, name.pos)
    this.next()
    if (!this.isPunct("(")) fail(`expected "(" after ${name.text}`, this.peek().pos)
    switch (name.text) {
      case "sum":
      case "min":
      case "max": {
        this.next()
        if (this.isPunct(")")) fail(`${name.text}() needs the field to aggregate, e.g. ${name.text}(commerce.order.priceTotal)`, this.peek().pos)
        const path = this.path(`as the argument of ${name.text}`)
        if (this.isPunct(",")) fail(`${name.text} takes exactly one field`, this.peek().pos)
        this.expectPunct(")", `to close ${name.text}(`)
        return name.text === "sum" ? { _tag: "Sum", path } : name.text === "min" ? { _tag: "Min", path } : { _tag: "Max", path }
      }
      case "count": {
        this.next()
        if (!this.isPunct(")")) fail("count() takes no argument: it counts the events that pass the filter", this.peek().pos)
        this.next()
        return { _tag: "Count" }
      }
      case "topN":
      case "bottomN":
        return this.ranked(name.text)
      default:
        return fail(`function ${name.text} is not supported; ${SUPPORTED_FUNCTIONS}`, name.pos)
    }
  }

  /** `topN(timestamp, N).map({"timestamp": timestamp, "value": path})[.head()]` */
  private ranked(fn: "topN" | "bottomN"): Aggregate {
    this.next()
    const key = this.path(`as the ordering field of ${fn}`)
    if (key !== "timestamp") fail(`${fn} can only order events by timestamp, not by ${key}`, this.peek().pos)
    this.expectPunct(",", `and a count in ${fn}(timestamp, N)`)
    const count = this.peek()
    if (count.kind !== "number" || !Number.isInteger(count.value) || count.value < 1) {
      fail(`${fn}(timestamp, N) needs a whole number N of at least 1`, count.pos)
    }
    this.next()
    const size = (count as { value: number }).value
    this.expectPunct(")", `to close ${fn}(`)
    if (!(this.isPunct(".") && this.isWord("map", 1))) {
      fail(`${fn}(timestamp, ${size}) must be followed by .map({"timestamp": timestamp, "value": <field>})`, this.peek().pos)
    }
    this.next()
    this.next()
    this.expectPunct("(", "after map")
    const path = this.mapObject()
    this.expectPunct(")", "to close map(")
    if (this.isPunct(".") && this.isWord("head", 1)) {
      this.next()
      this.next()
      this.expectPunct("(", "after head")
      this.expectPunct(")", "head() takes no argument:")
      return fn === "topN" ? { _tag: "MostRecent", path } : { _tag: "First", path }
    }
    if (fn === "bottomN") fail("bottomN(...).map(...) must end with .head() (the first value); lists keep the most recent values (topN)", this.peek().pos)
    return { _tag: "List", path, size }
  }

  /** `{"timestamp": timestamp, "value": <path>}` in either order; returns the value path. */
  private mapObject(): string {
    this.expectPunct("{", 'to open map({"timestamp": timestamp, "value": <field>})')
    const entries = new Map<string, string>()
    for (;;) {
      const key = this.peek()
      if (key.kind !== "string" && key.kind !== "ident") fail(`expected a key ("timestamp" or "value") in map, found ${describe(key)}`, key.pos)
      this.next()
      const name = key.kind === "string" ? key.value : key.text
      if (name !== "timestamp" && name !== "value") fail(`map keys are "timestamp" and "value", not "${name}"`, key.pos)
      if (entries.has(name)) fail(`map has "${name}" twice`, key.pos)
      this.expectPunct(":", `after "${name}" in map`)
      entries.set(name, this.path(`as the "${name}" of map`))
      if (this.isPunct(",")) {
        this.next()
        continue
      }
      break
    }
    this.expectPunct("}", "to close the map object")
    if (entries.get("timestamp") !== "timestamp") fail('map needs "timestamp": timestamp', this.peek().pos)
    const value = entries.get("value")
    if (value === undefined) fail('map needs "value": <field>, the field to keep', this.peek().pos)
    return value!
  }

  /** A dot path; stops before `.name(` (a function call on the path). */
  private path(context: string): string {
    const first = this.peek()
    if (first.kind !== "ident") fail(`expected a field path ${context}, found ${describe(first)}`, first.pos)
    this.next()
    const parts = [(first as { text: string }).text]
    while (this.isPunct(".") && this.peek(1).kind === "ident" && !(this.peek(2).kind === "punct" && this.peek(2).text === "(")) {
      this.next()
      parts.push(this.next().text)
    }
    return parts.join(".")
  }

  private or(): Filter {
    let left = this.and()
    while (this.isWord("or")) {
      this.next()
      left = { _tag: "Or", left, right: this.and() }
    }
    return left
  }

  private and(): Filter {
    let left = this.unary()
    while (this.isWord("and")) {
      this.next()
      left = { _tag: "And", left, right: this.unary() }
    }
    return left
  }

  private unary(): Filter {
    if (this.isWord("not") && !this.isPunct(".", 1)) {
      this.next()
      return { _tag: "Not", filter: this.unary() }
    }
    return this.primary()
  }

  private primary(): Filter {
    const token = this.peek()
    if (token.kind === "punct" && token.text === "(") {
      this.next()
      const inner = this.or()
      this.expectPunct(")", "to close the parenthesis")
      return inner
    }
    if (token.kind === "ident" && (token.text === "true" || token.text === "false") && !this.isPunct(".", 1)) {
      this.next()
      return { _tag: "Constant", value: token.text === "true" }
    }
    if (token.kind === "ident") {
      if (token.text === "xEvent") fail("nested xEvent references are not supported inside the filter", token.pos)
      const path = this.path("")
      return this.predicate(path)
    }
    return fail(`expected a condition, found ${describe(token)}`, token.pos)
  }

  private predicate(path: string): Filter {
    const token = this.peek()
    if (token.kind === "op") {
      this.next()
      return { _tag: "Compare", path, op: token.text, value: this.literal(`after ${path} ${token.text}`) }
    }
    if (token.kind === "punct" && token.text === "." && this.peek(1).kind === "ident") {
      this.next()
      const fn = this.next() as { text: string; pos: number }
      this.expectPunct("(", `after ${fn.text}`)
      if (fn.text === "isNull" || fn.text === "isNotNull") {
        this.expectPunct(")", `${fn.text}() takes no argument:`)
        return { _tag: "IsNull", path, negated: fn.text === "isNotNull" }
      }
      if (!STRING_FUNCTIONS.includes(fn.text as StringFunction)) {
        fail(
          `function ${fn.text} is not supported in a filter; use comparisons, ${STRING_FUNCTIONS.join(", ")}, like, in, isNull, isNotNull or occurs`,
          fn.pos
        )
      }
      const value = this.peek()
      if (value.kind !== "string") fail(`${fn.text}(...) needs a string, found ${describe(value)}`, value.pos)
      this.next()
      let caseSensitive = true
      if (this.isPunct(",")) {
        this.next()
        const flag = this.peek()
        if (flag.kind !== "ident" || (flag.text !== "true" && flag.text !== "false")) {
          fail(`the second argument of ${fn.text} is true (case-sensitive) or false, found ${describe(flag)}`, flag.pos)
        }
        this.next()
        caseSensitive = flag.text === "true"
      }
      this.expectPunct(")", `to close ${fn.text}(`)
      return { _tag: "StringMatch", path, fn: fn.text as StringFunction, value: (value as { value: string }).value, caseSensitive }
    }
    if (this.isWord("occurs")) return this.occurs(path)
    if (this.isWord("like")) {
      this.next()
      const pattern = this.peek()
      if (pattern.kind !== "string") fail(`like needs a string pattern, found ${describe(pattern)}`, pattern.pos)
      this.next()
      return { _tag: "Like", path, pattern: (pattern as { value: string }).value }
    }
    if (this.isWord("in") || (this.isWord("not") && this.isWord("in", 1))) {
      const negated = this.isWord("not")
      if (negated) this.next()
      this.next()
      this.expectPunct("[", "to open the list after in")
      const values: Array<Literal> = []
      if (!this.isPunct("]")) {
        for (;;) {
          values.push(this.literal("in the list"))
          if (!this.isPunct(",")) break
          this.next()
        }
      }
      this.expectPunct("]", "to close the list")
      return { _tag: "In", path, values, negated }
    }
    return fail(
      `expected a condition on ${path} (=, !=, <, <=, >, >=, .equals(...), like, in, occurs ...), found ${describe(token)}`,
      token.pos
    )
  }

  private occurs(path: string): Filter {
    this.next()
    const op = this.peek()
    if (op.kind === "ident") {
      fail(`"occurs ${op.text}" is not supported; use occurs <= N days before now (or <, =, >=, >)`, op.pos)
    }
    if (op.kind !== "op" || op.text === "!=") fail(`expected <, <=, =, >= or > after occurs, found ${describe(op)}`, op.pos)
    this.next()
    const amount = this.peek()
    if (amount.kind !== "number" || !Number.isInteger(amount.value) || amount.value < 0) {
      fail(`expected a whole number of time units after occurs ${op.text}, found ${describe(amount)}`, amount.pos)
    }
    this.next()
    const unitToken = this.peek()
    const unit = unitToken.kind === "ident" ? UNITS[unitToken.text] : undefined
    if (unit === undefined) fail(`expected a time unit (seconds, minutes, hours, days, weeks, months, years), found ${describe(unitToken)}`, unitToken.pos)
    this.next()
    if (this.isWord("after")) fail('"after now" is not supported: computed attributes look back ("before now")', this.peek().pos)
    this.expectWord("before", "in occurs … before now")
    this.expectWord("now", "in occurs … before now")
    return {
      _tag: "Occurs",
      path,
      op: (op as { text: Exclude<Comparator, "!="> }).text,
      amount: (amount as { value: number }).value,
      unit: unit!
    }
  }

  private literal(context: string): Literal {
    const token = this.next()
    if (token.kind === "string") return token.value
    if (token.kind === "number") return token.value
    if (token.kind === "ident" && token.text === "true") return true
    if (token.kind === "ident" && token.text === "false") return false
    if (token.kind === "ident" && token.text === "null") return null
    if (token.kind === "ident") fail(`comparing two fields is not supported: expected a value ${context}, found ${describe(token)}`, token.pos)
    return fail(`expected a value (string, number, true, false or null) ${context}, found ${describe(token)}`, token.pos)
  }
}

/** Parses a computed attribute expression, or says what is wrong or unsupported. */
export const parse = (text: string): Either.Either<Expression, PqlError> => {
  try {
    return Either.right(new Parser(tokenize(text)).expression())
  } catch (error) {
    if (error instanceof PqlError) return Either.left(error)
    throw error
  }
}

/** `message` with where it happened, for API answers. */
export const describeError = (error: PqlError, text: string) =>
  `${error.message} (at character ${error.position + 1}${error.position < text.length ? `, near "${text.slice(error.position, error.position + 20)}"` : ""})`

export type MergeFunction = "SUM" | "COUNT" | "MIN" | "MAX" | "MOST_RECENT" | "FIRST" | "LIST"

/** AEP's `mergeFunction.value` of an expression. */
export const mergeFunction = (expression: Expression): MergeFunction => {
  switch (expression.aggregate._tag) {
    case "Sum":
      return "SUM"
    case "Count":
      return "COUNT"
    case "Min":
      return "MIN"
    case "Max":
      return "MAX"
    case "MostRecent":
      return "MOST_RECENT"
    case "First":
      return "FIRST"
    case "List":
      return "LIST"
  }
}

const DATE_LIKE_PATH = /(date|time|timestamp)$/i

/**
 * The XDM type of the result (`returnSchema.meta:xdmType`). Without a schema
 * registry the type of a field is guessed from its name: names ending in
 * date/time are date-time strings.
 */
export const returnType = (expression: Expression): string => {
  const aggregate = expression.aggregate
  switch (aggregate._tag) {
    case "Sum":
      return "number"
    case "Count":
      return "integer"
    case "Min":
    case "Max":
      return DATE_LIKE_PATH.test(aggregate.path) ? "string" : "number"
    case "MostRecent":
    case "First":
      return "string"
    case "List":
      return "array"
  }
}

// ---------------------------------------------------------------------------
// evaluation
// ---------------------------------------------------------------------------

/** One experience event as the evaluator sees it. */
export interface Event {
  /** Event time, epoch ms. */
  readonly ts: number
  readonly data: unknown
  /** Tie-breakers for events with the same time. */
  readonly datasetId?: string | undefined
  readonly id?: string | undefined
}

export interface Result {
  readonly value: unknown
  /** Epoch ms of the event the value came from (MOST_RECENT, FIRST). */
  readonly timestamp?: number | undefined
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Leaf values at `path`, flattening arrays; `many` tells whether an array was crossed. */
const segments = new Map<string, ReadonlyArray<string>>()
const split = (path: string) => {
  let parts = segments.get(path)
  if (parts === undefined) {
    parts = path.split(".")
    if (segments.size < 10_000) segments.set(path, parts)
  }
  return parts
}

const NOTHING: { readonly values: Array<unknown>; readonly many: boolean } = Object.freeze({ values: [] as Array<unknown>, many: false })

/** Leaf values at `path`, flattening arrays; `many` tells whether an array was crossed. */
export const valuesAt = (data: unknown, path: string): { readonly values: Array<unknown>; readonly many: boolean } => {
  const parts = split(path)
  // Fast path: plain objects all the way down.
  let value: unknown = data
  for (const part of parts) {
    if (Array.isArray(value)) return valuesThroughArrays(data, parts)
    if (!isObject(value)) return NOTHING
    value = value[part]
  }
  if (value === undefined) return NOTHING
  return Array.isArray(value) ? { values: [...value], many: true } : { values: [value], many: false }
}

const valuesThroughArrays = (data: unknown, parts: ReadonlyArray<string>) => {
  let current: Array<unknown> = [data]
  let many = false
  for (const part of parts) {
    const next: Array<unknown> = []
    for (const item of current) {
      if (Array.isArray(item)) {
        many = true
        for (const element of item) if (isObject(element) && element[part] !== undefined) next.push(element[part])
      } else if (isObject(item) && item[part] !== undefined) {
        next.push(item[part])
      }
    }
    current = next
  }
  const values: Array<unknown> = []
  for (const value of current) {
    if (Array.isArray(value)) {
      many = true
      values.push(...value)
    } else values.push(value)
  }
  return { values, many }
}

const iso = (ms: number) => new Date(ms).toISOString()

/** Values of `path` in a filter: `timestamp` is the event time in ms. */
const filterValues = (event: Event, path: string): Array<unknown> => {
  if (path === "timestamp") return [event.ts]
  const values = valuesAt(event.data, path).values
  return values.includes(null) ? values.filter((v) => v !== null) : values
}

/** Values of `path` as an aggregate reads them: `timestamp` is the event time as an ISO string. */
const aggregateValues = (event: Event, path: string): { readonly values: Array<unknown>; readonly many: boolean } => {
  if (path === "timestamp") return { values: [iso(event.ts)], many: false }
  const found = valuesAt(event.data, path)
  return found.values.includes(null) ? { values: found.values.filter((v) => v !== null), many: found.many } : found
}

const DATE_LIKE = /^\d{4}-\d{2}-\d{2}/

const instant = (value: unknown): number | undefined => {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined
  if (typeof value === "string" && DATE_LIKE.test(value)) {
    const ms = Date.parse(value)
    return Number.isNaN(ms) ? undefined : ms
  }
  return undefined
}

/** The pair to compare, or undefined when the types do not compare. */
const comparable = (actual: unknown, expected: Literal): [number, number] | [string, string] | [boolean, boolean] | undefined => {
  if (typeof actual === "number" && typeof expected === "number") return [actual, expected]
  if (typeof actual === "boolean" && typeof expected === "boolean") return [actual, expected]
  if (typeof actual === "string" && typeof expected === "string") {
    if (DATE_LIKE.test(actual) && DATE_LIKE.test(expected)) {
      const a = Date.parse(actual)
      const b = Date.parse(expected)
      if (!Number.isNaN(a) && !Number.isNaN(b)) return [a, b]
    }
    return [actual, expected]
  }
  if (typeof actual === "number" && typeof expected === "string" && DATE_LIKE.test(expected)) {
    const b = Date.parse(expected)
    return Number.isNaN(b) ? undefined : [actual, b]
  }
  if (typeof actual === "string" && typeof expected === "number" && DATE_LIKE.test(actual)) {
    const a = Date.parse(actual)
    return Number.isNaN(a) ? undefined : [a, expected]
  }
  return undefined
}

const holds = (actual: unknown, op: Comparator, expected: Literal): boolean => {
  const pair = comparable(actual, expected)
  if (pair === undefined) return false
  const [a, b] = pair as [number | string | boolean, number | string | boolean]
  if (op === "=") return a === b
  if (op === "!=") return a !== b
  // Booleans only compare for equality.
  if (typeof a === "boolean") return false
  switch (op) {
    case "<":
      return a < b
    case "<=":
      return a <= b
    case ">":
      return a > b
    case ">=":
      return a >= b
  }
}

const stringHolds = (actual: unknown, fn: StringFunction, expected: string, caseSensitive: boolean): boolean => {
  if (typeof actual !== "string") return false
  const a = caseSensitive ? actual : actual.toLowerCase()
  const b = caseSensitive ? expected : expected.toLowerCase()
  switch (fn) {
    case "equals":
    case "notEqualTo":
      return a === b
    case "contains":
    case "doesNotContain":
      return a.includes(b)
    case "startsWith":
    case "doesNotStartWith":
      return a.startsWith(b)
    case "endsWith":
    case "doesNotEndWith":
      return a.endsWith(b)
  }
}

const likeRegExp = (pattern: string) =>
  new RegExp(
    `^${[...pattern].map((c) => (c === "%" ? ".*" : c === "_" ? "." : c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("")}$`,
    "s"
  )

const UNIT_MS: Partial<Record<TimeUnit, number>> = {
  seconds: 1_000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 7 * 86_400_000
}

/** `now` moved back by `amount` units (calendar months and years, UTC). */
export const before = (now: number, amount: number, unit: TimeUnit): number => {
  const fixed = UNIT_MS[unit]
  if (fixed !== undefined) return now - amount * fixed
  const date = new Date(now)
  const months = unit === "years" ? amount * 12 : amount
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - months, 1))
  // Keep the day of month, clamped to the target month's length (Mar 31 − 1 month = Feb 28/29).
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate()
  target.setUTCDate(Math.min(date.getUTCDate(), lastDay))
  target.setUTCHours(date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds())
  return target.getTime()
}

/** Start of the calendar unit (UTC; weeks start on Sunday) that contains `ms`. */
export const startOf = (ms: number, unit: TimeUnit): number => {
  const d = new Date(ms)
  switch (unit) {
    case "seconds":
      return Math.floor(ms / 1000) * 1000
    case "minutes":
      return Math.floor(ms / 60_000) * 60_000
    case "hours":
      return Math.floor(ms / 3_600_000) * 3_600_000
    case "days":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    case "weeks":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - d.getUTCDay())
    case "months":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
    case "years":
      return Date.UTC(d.getUTCFullYear(), 0, 1)
  }
}

const occursHolds = (t: number, op: Exclude<Comparator, "!=">, amount: number, unit: TimeUnit, now: number): boolean => {
  const boundary = before(now, amount, unit)
  switch (op) {
    case "<=":
      return t >= boundary && t <= now
    case "<":
      return t > boundary && t <= now
    case ">=":
      return t <= boundary
    case ">":
      return t < boundary
    case "=": {
      const start = startOf(boundary, unit)
      return t >= start && t < before(start, -1, unit) && t <= now
    }
  }
}

/** Whether `event` passes `filter` at time `now` (epoch ms). */
export const matches = (filter: Filter, event: Event, now: number): boolean => {
  switch (filter._tag) {
    case "And":
      return matches(filter.left, event, now) && matches(filter.right, event, now)
    case "Or":
      return matches(filter.left, event, now) || matches(filter.right, event, now)
    case "Not":
      return !matches(filter.filter, event, now)
    case "Constant":
      return filter.value
    case "Compare": {
      const values = filterValues(event, filter.path)
      if (filter.value === null) return filter.op === "=" ? values.length === 0 : filter.op === "!=" ? values.length > 0 : false
      if (filter.op === "!=") return values.length > 0 && !values.some((v) => holds(v, "=", filter.value))
      return values.some((v) => holds(v, filter.op, filter.value))
    }
    case "StringMatch": {
      const values = filterValues(event, filter.path)
      const negative = filter.fn === "notEqualTo" || filter.fn.startsWith("doesNot")
      const hit = values.some((v) => stringHolds(v, filter.fn, filter.value, filter.caseSensitive))
      return negative ? values.some((v) => typeof v === "string") && !hit : hit
    }
    case "Like": {
      const pattern = likeRegExp(filter.pattern)
      return filterValues(event, filter.path).some((v) => typeof v === "string" && pattern.test(v))
    }
    case "In": {
      const values = filterValues(event, filter.path)
      const hit = values.some((v) => filter.values.some((expected) => expected !== null && holds(v, "=", expected)))
      return filter.negated ? values.length > 0 && !hit : hit
    }
    case "IsNull":
      return (filterValues(event, filter.path).length === 0) !== filter.negated
    case "Occurs":
      return filterValues(event, filter.path).some((v) => {
        const t = instant(v)
        return t !== undefined && occursHolds(t, filter.op, filter.amount, filter.unit, now)
      })
  }
}

/** Orders events by time, then dataset and id, so ties resolve the same way every run. */
const later = (a: Event, b: Event): boolean =>
  a.ts !== b.ts ? a.ts > b.ts : (a.datasetId ?? "") !== (b.datasetId ?? "") ? (a.datasetId ?? "") > (b.datasetId ?? "") : (a.id ?? "") > (b.id ?? "")

/** Folds qualifying events, in any order, into one value. */
export interface Accumulator {
  readonly add: (event: Event) => void
  /** Undefined when nothing contributed. */
  readonly result: () => Result | undefined
}

const extreme = (path: string, wantMin: boolean): Accumulator => {
  let best: { value: unknown; key: number | string } | undefined
  let kind: "number" | "instant" | "string" | undefined
  const keyOf = (value: unknown): { kind: "number" | "instant" | "string"; key: number | string } | undefined => {
    if (typeof value === "number" && Number.isFinite(value)) return { kind: "number", key: value }
    if (typeof value === "string") {
      const t = instant(value)
      return t === undefined ? { kind: "string", key: value } : { kind: "instant", key: t }
    }
    return undefined
  }
  return {
    add: (event) => {
      for (const value of aggregateValues(event, path).values) {
        const k = keyOf(value)
        if (k === undefined) continue
        // The first comparable value fixes the kind; values of another kind are skipped.
        kind ??= k.kind
        if (k.kind !== kind) continue
        if (best === undefined || (wantMin ? k.key < best.key : k.key > best.key)) best = { value, key: k.key }
      }
    },
    result: () => (best === undefined ? undefined : { value: best.value })
  }
}

const ranked = (path: string, wantLatest: boolean): Accumulator => {
  let best: { event: Event; value: unknown } | undefined
  return {
    add: (event) => {
      const found = aggregateValues(event, path)
      if (found.values.length === 0) return
      if (best === undefined || (wantLatest ? later(event, best.event) : later(best.event, event))) {
        best = { event, value: found.many ? found.values : found.values[0] }
      }
    },
    result: () => (best === undefined ? undefined : { value: best.value, timestamp: best.event.ts })
  }
}

export const accumulator = (aggregate: Aggregate): Accumulator => {
  switch (aggregate._tag) {
    case "Sum": {
      let sum = 0
      let any = false
      return {
        add: (event) => {
          for (const value of aggregateValues(event, aggregate.path).values) {
            if (typeof value === "number" && Number.isFinite(value)) {
              sum += value
              any = true
            }
          }
        },
        result: () => (any ? { value: sum } : undefined)
      }
    }
    case "Count": {
      let count = 0
      return { add: () => void count++, result: () => (count > 0 ? { value: count } : undefined) }
    }
    case "Min":
      return extreme(aggregate.path, true)
    case "Max":
      return extreme(aggregate.path, false)
    case "MostRecent":
      return ranked(aggregate.path, true)
    case "First":
      return ranked(aggregate.path, false)
    case "List": {
      const kept: Array<{ event: Event; value: unknown }> = []
      return {
        add: (event) => {
          const found = aggregateValues(event, aggregate.path)
          if (found.values.length === 0) return
          kept.push({ event, value: found.many ? found.values : found.values[0] })
          if (kept.length > aggregate.size * 4) {
            kept.sort((a, b) => (later(a.event, b.event) ? -1 : 1))
            kept.length = aggregate.size
          }
        },
        result: () => {
          if (kept.length === 0) return undefined
          const top = [...kept].sort((a, b) => (later(a.event, b.event) ? -1 : 1)).slice(0, aggregate.size)
          return { value: top.map((entry) => entry.value), timestamp: top[0]!.event.ts }
        }
      }
    }
  }
}

/** Evaluates an expression over one profile's events at time `now`. */
export const evaluate = (expression: Expression, events: Iterable<Event>, now: number): Result | undefined => {
  const acc = accumulator(expression.aggregate)
  for (const event of events) {
    if (expression.filter === undefined || matches(expression.filter, event, now)) acc.add(event)
  }
  return acc.result()
}
