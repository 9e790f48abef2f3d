/**
 * The table on its own, with 10,000 rows, driven by the app's own key
 * handling (`keyActions`, the reducer, the keymap): only the rows that fit
 * are rendered, and every movement key lands where it should.
 */
import { Box, useInput } from "ink"
import { render } from "ink-testing-library"
import { useMemo, useReducer, useRef, useState } from "react"
import { describe, expect, it } from "vitest"
import { keyActions, splitChunk } from "../../src/input.js"
import { HandleProvider, useHandleRef } from "../../src/components/handle.js"
import { type Column, Table } from "../../src/components/Table.js"
import { AppProvider } from "../../src/runtime.js"
import { initialState, reducer } from "../../src/state/reducer.js"
import { frame, keys, press, resize, until, waitFor, waitForGone, waitForInput } from "../support/harness.js"

interface Row {
  readonly id: number
  readonly name: string
  readonly size: number
}

const rows: ReadonlyArray<Row> = Array.from({ length: 10_000 }, (_, i) => ({
  id: i,
  name: `row ${String(i).padStart(5, "0")}`,
  size: (i * 7919) % 10_007
}))

const columns: ReadonlyArray<Column<Row>> = [
  { title: "Name", value: (r) => r.name },
  { title: "Size", width: 8, align: "right", value: (r) => String(r.size), sort: (r) => r.size },
  { title: "Note", width: 30, optional: true, value: (r) => (r.id % 2 === 0 ? "even" : "odd") }
]

const Harness = ({ height }: { height: number }) => {
  const [state, dispatch] = useReducer(reducer, initialState({ sandbox: "prod", view: "policies" }))
  const handle = useHandleRef()
  const stateRef = useRef(state)
  stateRef.current = state
  const [size] = useState({ columns: 80, rows: height + 2 })
  useInput((input, key) => {
    let current = stateRef.current
    for (const [chunk, k] of splitChunk(input, key)) {
      for (const action of keyActions(current, chunk, k, { handle: handle.current, helpMax: 0 })) {
        current = reducer(current, action)
        dispatch(action)
      }
    }
    stateRef.current = current
  })
  const value = useMemo(() => ({ state, dispatch, refreshMs: 0, size, setFreshness: () => undefined, setOffered: () => undefined, eventPageSize: 25 }), [state, size])
  return (
    <AppProvider value={value}>
      <HandleProvider handle={handle}>
        <Box flexDirection="column">
          <Table rows={rows} columns={columns} width={80} height={height} rowKey={(r) => String(r.id)} />
        </Box>
      </HandleProvider>
    </AppProvider>
  )
}

describe("a table of 10,000 rows", () => {
  it("renders only what fits and moves with j/k, g/G and PgUp/PgDn", async () => {
    const instance = render(<Harness height={12} />)
    resize(instance, 80, 14)
    try {
      await waitForInput(instance)
      await waitFor(instance, "row 00000")
      expect(frame(instance).split("\n")).toHaveLength(12)
      expect(frame(instance)).not.toContain("row 00011")
      await press(instance, "G")
      await waitFor(instance, "row 09999")
      expect(frame(instance).split("\n")).toHaveLength(12)
      await press(instance, "g")
      await waitFor(instance, "row 00000")
      await press(instance, keys.pageDown, keys.pageDown, keys.pageDown)
      await waitFor(instance, "row 00033")
      await press(instance, keys.pageUp)
      await waitFor(instance, "row 00022")
      await press(instance, "j", "j", keys.down, "k")
      await waitFor(instance, "row 00024")
    } finally {
      instance.unmount()
    }
  })

  it("filters and sorts all 10,000 rows", async () => {
    const instance = render(<Harness height={12} />)
    resize(instance, 80, 14)
    try {
      await waitForInput(instance)
      await press(instance, "/", ..."row 0999", keys.enter)
      await waitFor(instance, "row 09990", "row 09999")
      await waitForGone(instance, "row 00000")
      await press(instance, keys.escape)
      await waitFor(instance, "row 00000")
      // Sort by size (second column), then reverse.
      await press(instance, "o", "o")
      await waitFor(instance, "SIZE▲")
      await until(instance, () => /row \d{5}\s+0\s/.test(frame(instance)), "the smallest size first")
      await press(instance, "O")
      await waitFor(instance, "SIZE▼", "10006")
    } finally {
      instance.unmount()
    }
  })
})
