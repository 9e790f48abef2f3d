/**
 * Messages: every status line of the session (errors, results, with the
 * upstream's request id in full), newest first. The list shows one line
 * each; the message under the cursor is shown below it in full, wrapped.
 */
import { Box, Text } from "ink"
import { type Column, Table } from "../components/Table.js"
import { clock, plural } from "../format.js"
import { useApp } from "../runtime.js"
import { cursorOf, filterOf } from "../state/reducer.js"
import type { StatusMessage } from "../state/types.js"
import { theme } from "../theme.js"
import { TitleLine, useFreshness, type ViewProps } from "./common.js"

const mark = (message: StatusMessage) => (message.kind === "error" ? "✗" : message.kind === "busy" ? "…" : "✓")

const columns: ReadonlyArray<Column<StatusMessage>> = [
  { title: "Time", width: 8, value: (m) => clock(m.at), sort: (m) => m.at },
  { title: "", width: 1, value: mark, color: (m) => (m.kind === "error" ? theme.error : theme.ok) },
  { title: "Message", min: 20, value: (m) => m.text },
  { title: "Request id", width: 36, optional: true, value: (m) => m.requestId ?? "" }
]

/** Lines the full text of the selected message may take below the list. */
const DETAIL_LINES = 6

export const MessagesView = ({ width, height }: ViewProps) => {
  const { state } = useApp()
  useFreshness({ updatedAt: state.messages[0]?.at, loading: false })
  const filter = filterOf(state).trim().toLowerCase()
  const shown = filter === "" ? state.messages : state.messages.filter((m) => `${m.text} ${m.requestId ?? ""}`.toLowerCase().includes(filter))
  const selected = shown[Math.min(cursorOf(state), Math.max(0, shown.length - 1))]
  const detail = Math.min(DETAIL_LINES, Math.max(2, Math.floor(height / 3)))
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine panes={[]} active={0} width={width} right={`${plural(state.messages.length, "message")} this session, newest first`} />
      <Table
        rows={state.messages}
        columns={columns}
        width={width}
        height={height - 1 - detail}
        rowKey={(m) => `${m.at}/${m.text}`}
        empty="no message yet: results and errors of this session land here"
        yankRow={(m) => ({ what: "the message", text: `${m.text}${m.requestId ? `\nrequest id ${m.requestId}` : ""}` })}
      />
      <Box flexDirection="column" width={width} height={detail} overflow="hidden" borderStyle="single" borderTop borderBottom={false} borderLeft={false} borderRight={false} borderColor={theme.muted}>
        {selected ? (
          <Text wrap="wrap" {...(selected.kind === "error" ? { color: theme.error } : {})}>
            {`${clock(selected.at)} ${selected.text}${selected.requestId ? `  (request id ${selected.requestId})` : ""}`}
          </Text>
        ) : (
          <Text color={theme.muted}> </Text>
        )}
      </Box>
    </Box>
  )
}
