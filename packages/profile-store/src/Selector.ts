/**
 * Edge projection selectors: which fields of the merged profile a projection
 * sends to the edge.
 *
 * Syntax (AEP's edge projection guide):
 *
 * - a comma-separated list of paths, with no spaces: `emails,person`;
 * - dot notation for nesting: `person.name.firstName`;
 * - parentheses select sub-fields of a path, and nest:
 *   `addresses(type,city.country)` is `addresses.type,addresses.city.country`;
 * - paths are relative to the root of the record; a parent path selects its
 *   whole subtree.
 *
 * `parse` checks a selector and says what is wrong and where (1-based
 * position); `select` applies one to a record: selecting inside an array
 * keeps that part of every element, and the parents of a selected leaf are
 * kept without their other children.
 *
 * @since 0.1.0
 */
import { Data, Either } from "effect"

/** One selected path and, when it has parentheses, its selected sub-fields. */
export interface Field {
  /** Dot-separated segments, as written: `person.name`. */
  readonly path: string
  readonly children: ReadonlyArray<Field>
}

export interface Selector {
  /** The selector as written. */
  readonly source: string
  readonly fields: ReadonlyArray<Field>
  /** Every selected path, parentheses expanded, in order, without repeats: `addresses.type`, `addresses.city.country`. */
  readonly paths: ReadonlyArray<string>
}

export class SelectorError extends Data.TaggedError("SelectorError")<{
  readonly selector: string
  /** 1-based position of the problem in `selector`. */
  readonly position: number
  readonly message: string
}> {}

/** Characters of one field name: XDM names are letters, digits and `_` (tenant fields start with one); `-`, `@`, `$` and `:` are tolerated. */
const NAME_CHAR = /[A-Za-z0-9_\-@$:]/

const EXAMPLE = "e.g. emails,person(name.firstName)"

const show = (c: string) => (c === "" ? "the end" : `"${c}"`)

const unexpected = (c: string) =>
  `unexpected "${c}": field names use letters, digits and "_"; use "." for nesting, "," between fields and parentheses for sub-fields`

/** Parses a selector, or says precisely what is wrong with it. */
export const parse = (selector: string): Either.Either<Selector, SelectorError> => {
  const fail = (position: number, message: string) =>
    Either.left(new SelectorError({ selector, position, message: `${message} (position ${position} of "${selector}")` }))

  if (typeof selector !== "string" || selector.length === 0) {
    return Either.left(
      new SelectorError({ selector: String(selector ?? ""), position: 1, message: `the selector is empty: list at least one field, ${EXAMPLE}` })
    )
  }
  const space = selector.search(/\s/)
  if (space >= 0) {
    return fail(space + 1, 'a selector must not contain spaces: write "emails,person" rather than "emails, person"')
  }

  let i = 0
  const peek = () => selector[i] ?? ""

  // path := name ("." name)*
  const parsePath = (): Either.Either<string, SelectorError> => {
    const segments: Array<string> = []
    for (;;) {
      const start = i
      while (i < selector.length && NAME_CHAR.test(selector[i]!)) i++
      if (i === start) {
        const c = peek()
        if (c === ".") {
          return segments.length === 0
            ? fail(i + 1, 'a path cannot start with "."')
            : fail(i + 1, 'empty field name between two dots')
        }
        if (c === "," || c === "") {
          return segments.length === 0
            ? fail(i + 1, `expected a field name, found ${show(c)}${c === "," ? " (two commas in a row, or a leading comma?)" : ""}`)
            : fail(i + 1, `a path cannot end with ".": add the field name after it`)
        }
        if (c === "(") {
          return segments.length === 0
            ? fail(i + 1, 'expected a field name before "(": parentheses select sub-fields of a path, e.g. person(firstName)')
            : fail(i + 1, 'a path cannot end with "." before "("')
        }
        if (c === ")") {
          return segments.length === 0
            ? fail(i + 1, 'expected a field name before ")" (empty item or trailing comma inside parentheses?)')
            : fail(i + 1, 'a path cannot end with "." before ")"')
        }
        return fail(i + 1, unexpected(c))
      }
      segments.push(selector.slice(start, i))
      if (peek() !== ".") return Either.right(segments.join("."))
      i++
    }
  }

  // list := item ("," item)* ; item := path ["(" list ")"]
  const parseList = (depth: number, open: number): Either.Either<Array<Field>, SelectorError> => {
    const fields: Array<Field> = []
    for (;;) {
      const path = parsePath()
      if (Either.isLeft(path)) return Either.left(path.left)
      let children: Array<Field> = []
      if (peek() === "(") {
        const at = i + 1
        i++
        if (peek() === ")") return fail(at, `empty parentheses after "${path.right}": list the sub-fields, e.g. ${path.right}(a,b)`)
        if (peek() === "") return fail(at, 'missing ")" to close this "("')
        const inner = parseList(depth + 1, at)
        if (Either.isLeft(inner)) return inner
        children = inner.right
        // parseList(depth + 1) only returns when it met the closing ")".
        i++
        const next = peek()
        if (next !== "," && next !== "" && next !== ")") {
          return fail(
            i + 1,
            next === "."
              ? `a path cannot continue after ")": write ${path.right}(a.b) instead of ${path.right}(a).b`
              : `expected "," or ")" after ")", found ${show(next)}`
          )
        }
      }
      fields.push({ path: path.right, children })
      const c = peek()
      if (c === ",") {
        i++
        continue
      }
      if (c === ")") {
        if (depth === 0) return fail(i + 1, 'unmatched ")"')
        return Either.right(fields)
      }
      if (c === "") {
        if (depth > 0) return fail(open, 'missing ")" to close this "("')
        return Either.right(fields)
      }
      return fail(i + 1, unexpected(c))
    }
  }

  const fields = parseList(0, 0)
  if (Either.isLeft(fields)) return Either.left(fields.left)
  return Either.right({ source: selector, fields: fields.right, paths: expand(fields.right) })
}

/** The selected paths with parentheses expanded (`a(b,c.d)` → `a.b`, `a.c.d`), without repeats. */
export const expand = (fields: ReadonlyArray<Field>): ReadonlyArray<string> => {
  const out: Array<string> = []
  const walk = (prefix: string, list: ReadonlyArray<Field>) => {
    for (const field of list) {
      const path = prefix === "" ? field.path : `${prefix}.${field.path}`
      if (field.children.length === 0) out.push(path)
      else walk(path, field.children)
    }
  }
  walk("", fields)
  return [...new Set(out)]
}

/** A message for a selector, or `undefined` when it is valid. */
export const check = (selector: string): string | undefined =>
  Either.match(parse(selector), { onLeft: (error) => error.message, onRight: () => undefined })

// ---------------------------------------------------------------------------
// Applying a selector
// ---------------------------------------------------------------------------

interface Node {
  /** A path ends here: the whole subtree is selected. */
  whole: boolean
  readonly children: Map<string, Node>
}

const trie = (paths: ReadonlyArray<string>): Node => {
  const root: Node = { whole: false, children: new Map() }
  for (const path of paths) {
    let node = root
    for (const segment of path.split(".")) {
      let next = node.children.get(segment)
      if (next === undefined) {
        next = { whole: false, children: new Map() }
        node.children.set(segment, next)
      }
      node = next
    }
    node.whole = true
  }
  return root
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const apply = (value: unknown, node: Node): unknown => {
  if (node.whole) return value
  if (Array.isArray(value)) {
    const kept = value.map((item) => apply(item, node)).filter((item) => item !== undefined)
    return kept.length === 0 ? undefined : kept
  }
  if (!isRecord(value)) return undefined
  const out: Record<string, unknown> = {}
  for (const [key, child] of node.children) {
    if (!(key in value)) continue
    const selected = apply(value[key], child)
    if (selected !== undefined) out[key] = selected
  }
  return Object.keys(out).length === 0 ? undefined : out
}

/** The part of `record` that `selector` selects (`{}` when nothing matches). */
export const select = (record: unknown, selector: Selector): Record<string, unknown> => {
  const selected = apply(record, trie(selector.paths))
  return isRecord(selected) ? selected : {}
}
