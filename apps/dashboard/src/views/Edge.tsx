/**
 * Edge projections: destinations (where profiles are replicated) and
 * projection configurations (which fields go there). Tables, details,
 * create and delete.
 */
import { type EdgeProjection, ProfileClient } from "@rtcp/core"
import { Box } from "ink"
import { Effect } from "effect"
import { useMemo } from "react"
import { type Column, Table } from "../components/Table.js"
import { plural, shortId } from "../format.js"
import type { Action } from "../keymap.js"
import { useApp, useLiveData } from "../runtime.js"
import * as Forms from "../state/forms.js"
import { pane, route } from "../state/reducer.js"
import { viewSpec } from "../state/views.js"
import { DetailTree, TitleLine, useFreshness, type ViewProps } from "./common.js"

const destinationColumns: ReadonlyArray<Column<EdgeProjection.Destination>> = [
  { title: "Id", width: 38, value: (d) => d.id },
  { title: "Type", width: 6, value: (d) => d.type },
  { title: "Data centers", value: (d) => d.dataCenters.join(",") },
  { title: "TTL (s)", width: 7, align: "right", optional: true, value: (d) => (d.ttl === undefined ? "" : String(d.ttl)), sort: (d) => d.ttl ?? 0 },
  { title: "Replication", width: 11, optional: true, value: (d) => d.replicationPolicy ?? "" },
  { title: "Ver", width: 3, align: "right", value: (d) => String(d.version), sort: (d) => d.version }
]

const projectionColumns: ReadonlyArray<Column<EdgeProjection.Projection>> = [
  { title: "Name", width: 20, value: (p) => p.name },
  { title: "Schema", width: 20, optional: true, value: (p) => p.schemaName },
  { title: "Selector", min: 16, value: (p) => p.selector },
  { title: "Destination", width: 10, value: (p) => shortId(p.destinationId, 8), sort: (p) => p.destinationId },
  { title: "Ver", width: 3, align: "right", value: (p) => String(p.version), sort: (p) => p.version }
]

export const destinationForm = (): Forms.FormState =>
  Forms.make("destination", "New edge destination", [
    Forms.text("dataCenters", "Data centers", "OR1,VA5", { required: true, placeholder: "OR1, VA5, NLD1" }),
    Forms.text("ttl", "TTL (seconds)", "", { placeholder: `optional: ${Forms.TTL_MIN}–${Forms.TTL_MAX} (10 min to 7 days)` }),
    Forms.choice("replicationPolicy", "Replication", ["PROACTIVE", "REACTIVE"]),
    Forms.text("type", "Type", "EDGE")
  ])

export const projectionForm = (destinations: ReadonlyArray<EdgeProjection.Destination>): Forms.FormState =>
  Forms.make("projection", "New edge projection", [
    Forms.text("name", "Name", "", { required: true, placeholder: "e.g. loyalty-on-edge" }),
    Forms.text("selector", "Selector", "", { required: true, placeholder: "e.g. person.name,loyalty(tier,points)" }),
    Forms.choice(
      "destinationId",
      "Destination",
      destinations.map((d) => ({ value: d.id, label: `${shortId(d.id, 12)} ${d.dataCenters.join(",")}` }))
    ),
    Forms.text("schemaName", "Schema", "_xdm.context.profile"),
    Forms.text("mergePolicyId", "Merge policy id", "", { placeholder: "optional: the default one otherwise" })
  ])

export const EdgeView = (props: ViewProps) => {
  const { state } = useApp()
  const r = route(state)
  if (r.detail) {
    const at = r.detail.id.indexOf(":")
    const kind = r.detail.id.slice(0, at)
    const id = r.detail.id.slice(at + 1)
    return kind === "projection" ? <ProjectionDetail id={id} {...props} /> : <DestinationDetail id={id} {...props} />
  }
  return <EdgeLists {...props} />
}

const useDestinations = () =>
  useLiveData("destinations", () =>
    Effect.flatMap(ProfileClient.ProfileClient, (client) => Effect.map(client.listDestinations(), (list) => list._embedded.projectionDestinations))
  )

const EdgeLists = ({ width, height }: ViewProps) => {
  const { state, dispatch } = useApp()
  const active = pane(state)
  const destinations = useDestinations()
  const projections = useLiveData("projections", () =>
    Effect.flatMap(ProfileClient.ProfileClient, (client) => Effect.map(client.listProjections(), (list) => list._embedded.projectionConfigs))
  )
  useFreshness(active === 0 ? destinations : projections)
  const destinationRows = useMemo(() => destinations.data ?? [], [destinations.data])
  const projectionRows = useMemo(() => projections.data ?? [], [projections.data])
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine
        panes={viewSpec("edge").panes}
        active={active}
        width={width}
        right={active === 0 ? plural(destinationRows.length, "destination") : plural(projectionRows.length, "projection")}
      />
      {active === 0 ? (
        <Table
          rows={destinationRows}
          columns={destinationColumns}
          width={width}
          height={height - 1}
          rowKey={(d) => d.id}
          loading={destinations.loading}
          failed={destinations.error !== undefined && destinations.data === undefined}
          empty="no edge destination (n creates one)"
          onAction={(action: Action, destination) => {
            switch (action) {
              case "create":
                dispatch({ type: "formOpen", form: destinationForm(), write: true })
                return true
              case "open":
                if (destination) dispatch({ type: "push", route: { view: "edge", detail: { id: `destination:${destination.id}`, label: `destination ${shortId(destination.id, 12)}` } } })
                return true
              case "delete":
                if (destination) dispatch({ type: "request", intent: { kind: "deleteDestination", id: destination.id } })
                return true
              default:
                return false
            }
          }}
        />
      ) : (
        <Table
          rows={projectionRows}
          columns={projectionColumns}
          width={width}
          height={height - 1}
          rowKey={(p) => p.id}
          loading={projections.loading}
          failed={projections.error !== undefined && projections.data === undefined}
          empty="no edge projection (n creates one)"
          onAction={(action: Action, projection) => {
            switch (action) {
              case "create":
                if (destinationRows.length === 0) {
                  dispatch({ type: "status", status: { kind: "error", text: "a projection needs a destination: create one on the Destinations pane first" }, at: Date.now() })
                } else {
                  dispatch({ type: "formOpen", form: projectionForm(destinationRows), write: true })
                }
                return true
              case "open":
                if (projection) dispatch({ type: "push", route: { view: "edge", detail: { id: `projection:${projection.id}`, label: `projection ${projection.name}` } } })
                return true
              case "delete":
                if (projection) dispatch({ type: "request", intent: { kind: "deleteProjection", id: projection.id, name: projection.name } })
                return true
              default:
                return false
            }
          }}
        />
      )}
    </Box>
  )
}

const DestinationDetail = ({ id, width, height }: ViewProps & { readonly id: string }) => {
  const { dispatch } = useApp()
  const query = useLiveData(`destination/${id}`, () => Effect.flatMap(ProfileClient.ProfileClient, (client) => client.getDestination(id)))
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine panes={[]} active={0} width={width} right={query.data ? `${query.data.type} · ${query.data.dataCenters.join(", ")} · version ${query.data.version}` : id} />
      <DetailTree
        query={query}
        value={query.data}
        width={width}
        height={height - 1}
        onAction={(action) => {
          if (action !== "delete") return false
          dispatch({ type: "request", intent: { kind: "deleteDestination", id } })
          return true
        }}
      />
    </Box>
  )
}

const ProjectionDetail = ({ id, width, height }: ViewProps & { readonly id: string }) => {
  const { dispatch } = useApp()
  const query = useLiveData(`projection/${id}`, () => Effect.flatMap(ProfileClient.ProfileClient, (client) => client.getProjection(id)))
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine panes={[]} active={0} width={width} right={query.data ? `${query.data.schemaName} · ${query.data.selector}` : id} />
      <DetailTree
        query={query}
        value={query.data}
        width={width}
        height={height - 1}
        onAction={(action) => {
          if (action !== "delete" || !query.data) return false
          dispatch({ type: "request", intent: { kind: "deleteProjection", id, name: query.data.name } })
          return true
        }}
      />
    </Box>
  )
}
