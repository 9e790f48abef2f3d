/**
 * Colours in one place, as `@inkjs/ui` themes its components: views and
 * components read roles, not colour names.
 */
export const theme = {
  accent: "cyan",
  title: "cyanBright",
  header: "blue",
  key: "yellow",
  muted: "gray",
  ok: "green",
  warn: "yellow",
  error: "red",
  busy: "magenta",
  selected: { backgroundColor: "cyan", color: "black" },
  json: { key: "cyan", string: "green", number: "yellow", boolean: "magenta", null: "gray" },
  bar: "cyan",
  barAlt: "magenta"
} as const

/** Colour of a job or attribute status. */
export const statusColor = (status: string | undefined): string | undefined => {
  switch ((status ?? "").toUpperCase()) {
    case "SUCCESS":
    case "SUCCEEDED":
    case "COMPLETED":
    case "PROCESSED":
    case "TASK_FINISHED":
      return theme.ok
    case "FAILED":
    case "ERROR":
    case "CANCELLED":
    case "DISABLED":
      return theme.error
    case "NEW":
    case "DRAFT":
      return theme.muted
    case "IN-PROGRESS":
    case "PROCESSING":
    case "INITIALIZING":
      return theme.warn
    default:
      return undefined
  }
}
