/**
 * Computed attributes: table, detail, create (a PQL expression over a
 * lookback) and delete (asks first).
 */
import { type ComputedAttribute, ProfileClient } from "@rtcp/core"
import { Box } from "ink"
import { Effect } from "effect"
import { useMemo } from "react"
import { type Column, Table } from "../components/Table.js"
import { dateTime, parseTime, plural } from "../format.js"
import type { Action } from "../keymap.js"
import { useApp, useLiveData } from "../runtime.js"
import * as Forms from "../state/forms.js"
import { route } from "../state/reducer.js"
import { statusColor } from "../theme.js"
import { collect, DetailTree, TitleLine, useFreshness, type ViewProps } from "./common.js"

const lookback = (a: ComputedAttribute.ComputedAttribute) =>
  a.duration ? `${a.duration.count} ${a.duration.unit.toLowerCase().replace(/s$/, a.duration.count === 1 ? "" : "s")}` : ""

const columns: ReadonlyArray<Column<ComputedAttribute.ComputedAttribute>> = [
  { title: "Name", width: 22, value: (a) => a.name },
  { title: "Display name", optional: true, value: (a) => a.displayName ?? "" },
  { title: "Status", width: 10, value: (a) => a.status, color: (a) => statusColor(a.status) },
  { title: "Lookback", width: 9, value: lookback, sort: (a) => (a.duration?.count ?? 0) * ({ HOURS: 1, DAYS: 24, WEEKS: 168, MONTHS: 720 }[a.duration?.unit ?? "HOURS"] ?? 1) },
  { title: "Expression", min: 20, value: (a) => a.expression.value },
  { title: "Updated", width: 19, optional: true, value: (a) => dateTime(parseTime(a.updateEpoch)), sort: (a) => parseTime(a.updateEpoch) ?? 0 }
]

export const attributeForm = (): Forms.FormState =>
  Forms.make("attribute", "New computed attribute", [
    Forms.text("name", "Name", "", { required: true, placeholder: "e.g. purchases90d" }),
    Forms.text("displayName", "Display name", "", { placeholder: "defaults to the name" }),
    Forms.text("description", "Description", ""),
    Forms.text("expression", "PQL expression", "", {
      required: true,
      placeholder: 'e.g. xEvent[eventType = "commerce.purchases"].count()'
    }),
    Forms.text("lookback", "Lookback", "1", { required: true, placeholder: "hours 1–24, days 1–7, weeks 1–4, months 1–6" }),
    Forms.choice("unit", "Lookback unit", ["MONTHS", "WEEKS", "DAYS", "HOURS"]),
    Forms.choice("status", "Status", ["DRAFT", "NEW"])
  ])

export const ComputedAttributesView = (props: ViewProps) => {
  const { state } = useApp()
  const r = route(state)
  return r.detail ? <AttributeDetail id={r.detail.id} {...props} /> : <AttributeList {...props} />
}

const useAttributeActions = () => {
  const { dispatch } = useApp()
  return (action: Action, attribute: ComputedAttribute.ComputedAttribute | undefined) => {
    switch (action) {
      case "create":
        dispatch({ type: "formOpen", form: attributeForm(), write: true })
        return true
      case "delete":
        if (attribute) dispatch({ type: "request", intent: { kind: "deleteAttribute", id: attribute.id, name: attribute.name } })
        return true
      default:
        return false
    }
  }
}

const AttributeList = ({ width, height }: ViewProps) => {
  const { dispatch } = useApp()
  const query = useLiveData("computedAttributes", () => Effect.flatMap(ProfileClient.ProfileClient, (client) => collect(client.computedAttributes())))
  useFreshness(query)
  const rows = useMemo(() => query.data ?? [], [query.data])
  const act = useAttributeActions()
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine panes={[]} active={0} width={width} right={plural(rows.length, "computed attribute")} />
      <Table
        rows={rows}
        columns={columns}
        width={width}
        height={height - 1}
        rowKey={(a) => a.id}
        loading={query.loading}
        failed={query.error !== undefined && query.data === undefined}
        empty="no computed attribute (n creates one)"
        onAction={(action, attribute) => {
          if (action === "open") {
            if (attribute) dispatch({ type: "push", route: { view: "attributes", detail: { id: attribute.id, label: attribute.name } } })
            return true
          }
          return act(action, attribute)
        }}
      />
    </Box>
  )
}

const AttributeDetail = ({ id, width, height }: ViewProps & { readonly id: string }) => {
  const query = useLiveData(`computedAttribute/${id}`, () => Effect.flatMap(ProfileClient.ProfileClient, (client) => client.getComputedAttribute(id)))
  const act = useAttributeActions()
  const attribute = query.data
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine panes={[]} active={0} width={width} right={attribute ? `${attribute.status} · ${attribute.expression.value}` : id} />
      <DetailTree query={query} value={attribute} width={width} height={height - 1} onAction={(action) => act(action, attribute)} />
    </Box>
  )
}
