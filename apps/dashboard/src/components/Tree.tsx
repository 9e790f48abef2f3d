/**
 * A collapsible tree of a JSON value (a merged profile, a merge policy…),
 * windowed like the table. Top-level nodes start unfolded; `→`/`l`/Space
 * unfold, `←`/`h` fold or jump to the parent, Enter toggles. With a filter,
 * every node whose path or value matches is shown with its ancestors.
 */
import { Box, Text } from "ink"
import { useMemo } from "react"
import { fit, inline, truncate } from "../format.js"
import type { Action } from "../keymap.js"
import { useApp } from "../runtime.js"
import { cursorOf, expandedOf, filterOf } from "../state/reducer.js"
import { theme } from "../theme.js"
import { useViewHandle, type Yanked } from "./handle.js"
import { windowStart } from "./Table.js"

export interface TreeNode {
  readonly path: string
  readonly depth: number
  readonly key: string
  readonly value: unknown
  readonly kind: "object" | "array" | "leaf"
  readonly size: number
}

const kindOf = (value: unknown): TreeNode["kind"] =>
  Array.isArray(value) ? "array" : value !== null && typeof value === "object" ? "object" : "leaf"

const entriesOf = (value: unknown): ReadonlyArray<readonly [string, unknown]> =>
  Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>)

const nodeOf = (key: string, value: unknown, path: string, depth: number): TreeNode => {
  const kind = kindOf(value)
  return { path, depth, key, value, kind, size: kind === "leaf" ? 0 : entriesOf(value).length }
}

/** Paths unfolded when the user has not folded anything yet: the first level. */
export const defaultExpanded = (root: unknown): ReadonlyArray<string> =>
  kindOf(root) === "leaf" ? [] : entriesOf(root).filter(([, v]) => kindOf(v) !== "leaf").map(([k]) => k)

/** The visible nodes, depth first. */
export const flatten = (root: unknown, expanded: ReadonlySet<string>, filter = ""): ReadonlyArray<TreeNode> => {
  const out: Array<TreeNode> = []
  if (kindOf(root) === "leaf") return out
  const needle = filter.trim().toLowerCase()
  if (needle === "") {
    const walk = (value: unknown, prefix: string, depth: number) => {
      for (const [key, child] of entriesOf(value)) {
        const path = prefix === "" ? key : `${prefix}.${key}`
        const node = nodeOf(key, child, path, depth)
        out.push(node)
        if (node.kind !== "leaf" && expanded.has(path)) walk(child, path, depth + 1)
      }
    }
    walk(root, "", 0)
    return out
  }
  // Filtering: keep matches and their ancestors, whatever is folded.
  const walk = (value: unknown, prefix: string, depth: number): Array<TreeNode> => {
    const kept: Array<TreeNode> = []
    for (const [key, child] of entriesOf(value)) {
      const path = prefix === "" ? key : `${prefix}.${key}`
      const node = nodeOf(key, child, path, depth)
      const below = node.kind === "leaf" ? [] : walk(child, path, depth + 1)
      const self = path.toLowerCase().includes(needle) || (node.kind === "leaf" && String(child).toLowerCase().includes(needle))
      if (self || below.length > 0) kept.push(node, ...below)
    }
    return kept
  }
  return walk(root, "", 0)
}

const parentPath = (path: string) => (path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : undefined)

export interface TreeProps {
  readonly value: unknown
  readonly width: number
  readonly height: number
  readonly onAction?: ((action: Action, node: TreeNode | undefined) => boolean) | undefined
  readonly empty?: string | undefined
  /** What `Y` copies (default: the whole value as JSON). */
  readonly yankAll?: (() => Yanked) | undefined
}

export const Tree = (props: TreeProps) => {
  const { state, dispatch } = useApp()
  const filter = filterOf(state)
  const stored = expandedOf(state)
  const expanded = useMemo(() => new Set(stored ?? defaultExpanded(props.value)), [stored, props.value])
  const nodes = useMemo(() => flatten(props.value, expanded, filter), [props.value, expanded, filter])
  const cursor = Math.min(cursorOf(state), Math.max(0, nodes.length - 1))
  const page = Math.max(1, props.height)

  useViewHandle({
    count: nodes.length,
    page,
    yank: (scope, now) => {
      if (scope === "all") return props.yankAll?.() ?? { what: "the whole tree as JSON", text: JSON.stringify(props.value, null, 2) }
      const list = filterOf(now) === filter ? nodes : flatten(props.value, expanded, filterOf(now))
      const node = list[Math.min(cursorOf(now), Math.max(0, list.length - 1))]
      if (!node) return undefined
      return { what: node.path, text: node.kind === "leaf" ? String(node.value) : JSON.stringify(node.value, null, 2) }
    },
    onAction: (action, now) => {
      // The node under the cursor as of this key, with the folds and the filter as of this key too.
      const storedNow = expandedOf(now)
      const folds = storedNow === stored ? expanded : new Set(storedNow ?? defaultExpanded(props.value))
      const list = folds === expanded && filterOf(now) === filter ? nodes : flatten(props.value, folds, filterOf(now))
      const node = list[Math.min(cursorOf(now), Math.max(0, list.length - 1))]
      const toggle = (target: TreeNode, open: boolean) => {
        const next = new Set(folds)
        if (open) next.add(target.path)
        else next.delete(target.path)
        dispatch({ type: "setExpanded", paths: [...next] })
      }
      if (props.onAction?.(action, node)) return true
      if (!node) return false
      switch (action) {
        case "open":
          if (node.kind === "leaf") return false
          toggle(node, !folds.has(node.path))
          return true
        case "expand":
          if (node.kind !== "leaf" && !folds.has(node.path)) toggle(node, true)
          return true
        case "collapse": {
          if (node.kind !== "leaf" && folds.has(node.path)) {
            toggle(node, false)
            return true
          }
          const parent = parentPath(node.path)
          const index = parent === undefined ? -1 : list.findIndex((n) => n.path === parent)
          if (index >= 0) dispatch({ type: "setCursor", index })
          return true
        }
        default:
          return false
      }
    }
  })

  const start = windowStart(cursor, nodes.length, page)
  const slice = nodes.slice(start, start + page)
  return (
    <Box flexDirection="column" width={props.width} height={props.height} overflow="hidden">
      {slice.length === 0 ? (
        <Text color={theme.muted}>{props.empty ?? (filter ? "no match" : "empty")}</Text>
      ) : (
        slice.map((node, i) => (
          <TreeLine key={node.path} node={node} open={expanded.has(node.path) || filter !== ""} selected={start + i === cursor} width={props.width} />
        ))
      )}
    </Box>
  )
}

const valueColor = (value: unknown): string =>
  typeof value === "string"
    ? theme.json.string
    : typeof value === "number"
      ? theme.json.number
      : typeof value === "boolean"
        ? theme.json.boolean
        : theme.json.null

const TreeLine = ({ node, open, selected, width }: { node: TreeNode; open: boolean; selected: boolean; width: number }) => {
  const indent = "  ".repeat(node.depth)
  const marker = node.kind === "leaf" ? "  " : open ? "▾ " : "▸ "
  const head = `${indent}${marker}${node.key}`
  const rest =
    node.kind === "leaf"
      ? `: ${inline(node.value, width)}`
      : node.kind === "array"
        ? ` [${node.size}]`
        : ` {${node.size}}`
  if (selected) {
    return (
      <Text wrap="truncate" backgroundColor={theme.selected.backgroundColor} color={theme.selected.color}>
        {fit(head + rest, width)}
      </Text>
    )
  }
  return (
    <Text wrap="truncate">
      <Text color={theme.json.key}>{truncate(head, width)}</Text>
      <Text color={node.kind === "leaf" ? valueColor(node.value) : theme.muted}>{truncate(rest, Math.max(0, width - head.length))}</Text>
    </Text>
  )
}
