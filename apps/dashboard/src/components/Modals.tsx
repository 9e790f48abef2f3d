/**
 * Modals: help (generated from the keymap and the command registry), the
 * confirmation of destructive actions, and forms. While one is open live
 * refresh pauses.
 */
import { Box, Text } from "ink"
import type { ReactNode } from "react"
import { commands } from "../commands/registry.js"
import { fit, truncate } from "../format.js"
import { helpSections } from "../keymap.js"
import type { FormState } from "../state/forms.js"
import type { ViewId } from "../state/views.js"
import { theme } from "../theme.js"

// ---------------------------------------------------------------------------
// help
// ---------------------------------------------------------------------------

const commandLabel = (command: (typeof commands)[number]) => `:${command.id}${command.args ? ` ${command.args}` : ""}`
/** Key and command columns as wide as their longest entry: nothing of a key or a command is ever cut. */
const KEY_WIDTH = 16
const COMMAND_WIDTH = Math.max(...commands.map((command) => commandLabel(command).length)) + 2
/** Below this, one column: two would cut the descriptions. */
const TWO_COLUMNS = 160

/** Words on lines of at most `width` cells (a word longer than that is cut). */
export const wrapWords = (text: string, width: number): ReadonlyArray<string> => {
  if (width <= 0) return [""]
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(" ")) {
    const next = line === "" ? word : `${line} ${word}`
    if (next.length <= width) line = next
    else {
      if (line !== "") lines.push(line)
      line = truncate(word, width)
    }
  }
  lines.push(line)
  return lines
}

/** A key (or command) and its description, continued under itself when it is longer than the line. */
const entryLines = (key: string, label: string, description: string, labelWidth: number, width: number): ReadonlyArray<ReactNode> =>
  wrapWords(description, Math.max(10, width - labelWidth)).map((part, i) => (
    <Text key={`${key}/${i}`} wrap="truncate">
      <Text color={theme.key}>{fit(i === 0 ? label : "", labelWidth)}</Text>
      {part}
    </Text>
  ))

const sectionLines = (view: ViewId, width: number): Array<Array<ReactNode>> => {
  const blocks: Array<Array<ReactNode>> = helpSections(view).map((section) => [
    <Text key="t" bold color={theme.accent}>
      {section.title}
    </Text>,
    ...section.rows.flatMap((row, i) => entryLines(String(i), row.keys, row.description, KEY_WIDTH, width))
  ])
  blocks.push([
    <Text key="t" bold color={theme.accent}>
      Commands
    </Text>,
    ...commands.flatMap((command) =>
      entryLines(
        command.id,
        commandLabel(command),
        `${command.description}${command.aliases.length ? ` (${command.aliases.map((a) => `:${a}`).join(" ")})` : ""}`,
        COMMAND_WIDTH,
        width
      )
    )
  ])
  return blocks
}

/** Help as lines: two columns when the terminal is wide enough. */
export const helpLines = (view: ViewId, width: number): ReadonlyArray<ReactNode> => {
  const twoColumns = width >= TWO_COLUMNS
  const columnWidth = twoColumns ? Math.floor((width - 2) / 2) : width
  const blocks = sectionLines(view, columnWidth)
  const stack = (list: Array<Array<ReactNode>>) => list.flatMap((block, i) => (i === 0 ? block : [<Text key={`gap-${i}`}> </Text>, ...block]))
  if (!twoColumns) return stack(blocks).map((line, i) => <Box key={i}>{line}</Box>)
  // Split the blocks where the two columns come out about even.
  const total = blocks.reduce((sum, block) => sum + block.length + 1, 0)
  let acc = 0
  let split = blocks.length
  for (let i = 0; i < blocks.length; i++) {
    acc += blocks[i]!.length + 1
    if (acc >= total / 2) {
      split = i + 1
      break
    }
  }
  const left = stack(blocks.slice(0, split))
  const right = stack(blocks.slice(split))
  return Array.from({ length: Math.max(left.length, right.length) }, (_, i) => (
    <Box key={i} width={width}>
      <Box width={columnWidth} marginRight={2}>
        {left[i] ?? <Text> </Text>}
      </Box>
      <Box width={columnWidth}>{right[i] ?? <Text> </Text>}</Box>
    </Box>
  ))
}

export const HelpOverlay = ({ view, width, height, scroll }: { view: ViewId; width: number; height: number; scroll: number }) => {
  const lines = helpLines(view, width)
  const body = Math.max(1, height - 1)
  const top = Math.min(scroll, Math.max(0, lines.length - body))
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text wrap="truncate" color={theme.muted}>
        {fit(`Help: keys of this view and commands${lines.length > body ? ` (j/k scroll, ${top + 1}-${Math.min(lines.length, top + body)} of ${lines.length})` : ""} · Esc closes`, width)}
      </Text>
      {lines.slice(top, top + body)}
    </Box>
  )
}

// ---------------------------------------------------------------------------
// confirmation
// ---------------------------------------------------------------------------

export const ConfirmDialog = ({ message, width, height }: { message: string; width: number; height: number }) => {
  const boxWidth = Math.min(width, Math.max(40, Math.min(72, message.length + 6)))
  return (
    <Box width={width} height={height} alignItems="center" justifyContent="center">
      <Box flexDirection="column" borderStyle="round" borderColor={theme.error} paddingX={1} width={boxWidth}>
        <Text bold color={theme.error}>
          Confirm
        </Text>
        <Text wrap="wrap">{message}?</Text>
        <Text> </Text>
        <Text>
          <Text color={theme.key} bold>
            y
          </Text>{" "}
          yes, do it{"    "}
          <Text color={theme.key} bold>
            n / Esc
          </Text>{" "}
          no
        </Text>
      </Box>
    </Box>
  )
}

// ---------------------------------------------------------------------------
// forms
// ---------------------------------------------------------------------------

export const FormDialog = ({ form, width, height }: { form: FormState; width: number; height: number }) => {
  const boxWidth = Math.min(width, 76)
  const labelWidth = Math.min(18, Math.max(...form.fields.map((f) => f.label.length)) + 1)
  const valueWidth = Math.max(4, boxWidth - 4 - labelWidth - 2)
  return (
    <Box width={width} height={height} alignItems="center" justifyContent="center">
      <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1} width={boxWidth}>
        <Text bold color={theme.accent}>
          {form.title}
        </Text>
        {form.fields.map((field, i) => {
          const focused = i === form.focus
          const options = field.options ?? []
          const current = options.find((o) => o.value === field.value)
          const shown =
            field.kind === "choice"
              ? `‹ ${current?.label ?? field.value} ›${options.length > 1 ? ` ${options.findIndex((o) => o.value === field.value) + 1}/${options.length}` : ""}`
              : field.value === "" && !focused
                ? (field.placeholder ?? "")
                : field.value
          const tail = field.kind === "text" && [...shown].length >= valueWidth ? [...shown].slice(-(valueWidth - 1)).join("") : shown
          return (
            <Text key={field.name} wrap="truncate">
              <Text color={focused ? theme.key : theme.muted} bold={focused}>
                {focused ? "›" : " "}
                {fit(field.label, labelWidth)}
              </Text>{" "}
              <Text {...(field.value === "" && !focused && field.kind === "text" ? { color: theme.muted } : {})}>{tail}</Text>
              {focused && field.kind === "text" ? <Text inverse> </Text> : null}
            </Text>
          )
        })}
        {(() => {
          const field = form.fields[form.focus]
          if (!field || field.kind !== "text" || !field.suggestions || field.suggestions.length === 0) return null
          return (
            <Text color={theme.muted} wrap="truncate">
              {`${field.list ? "→ adds, ← removes" : "←/→ picks"}: ${field.suggestions.map((o) => o.label).join(" · ")}`}
            </Text>
          )
        })()}
        {form.error ? (
          <Text color={theme.error} wrap="truncate">
            {form.error}
          </Text>
        ) : (
          <Text> </Text>
        )}
        <Text color={theme.muted} wrap="truncate">
          Tab/↑↓ field · ←/→ choice or pick · Enter submit · Esc cancel
        </Text>
      </Box>
    </Box>
  )
}
