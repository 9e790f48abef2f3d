/**
 * Lines that scroll with the navigation keys (the overview, help): only the
 * lines that fit are rendered.
 */
import { Box } from "ink"
import { Fragment, type ReactNode } from "react"
import type { Action } from "../keymap.js"
import { useApp } from "../runtime.js"
import { cursorOf } from "../state/reducer.js"
import { useViewHandle } from "./handle.js"

export interface ScrollLinesProps {
  readonly lines: ReadonlyArray<ReactNode>
  readonly width: number
  readonly height: number
  readonly onAction?: ((action: Action) => boolean) | undefined
}

/** The cursor is the first line shown; it stops when the last line is on screen. */
export const ScrollLines = ({ lines, width, height, onAction }: ScrollLinesProps) => {
  const { state } = useApp()
  const positions = Math.max(1, lines.length - height + 1)
  const top = Math.min(cursorOf(state), positions - 1)
  useViewHandle({ count: positions, page: Math.max(1, height - 1), onAction })
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {lines.slice(top, top + height).map((line, i) => (
        <Fragment key={top + i}>{line}</Fragment>
      ))}
    </Box>
  )
}
