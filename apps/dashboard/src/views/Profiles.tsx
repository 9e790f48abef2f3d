/**
 * Profiles: look one up by namespace and id; see the merged profile as a
 * collapsible tree, its identities (the graph), its experience events as a
 * timeline paged in as you scroll, and its computed attributes; `p` merges
 * it again with the next merge policy to show what the policy changes.
 */
import { type Entity, Identity, type MergePolicy, Platform, type ProfileError, ProfileClient } from "@rtcp/core"
import { Box, Text } from "ink"
import { Cause, Chunk, Effect, Exit, type Fiber, FiberId, Option, Predicate, Scope, Stream } from "effect"
import { useCallback, useEffect, useMemo, useRef, useState } from "react"
import { type Column, Table } from "../components/Table.js"
import { Tree } from "../components/Tree.js"
import { dateTime, describeError, inline, namespaceCode, plural, shortId } from "../format.js"
import { ActionsOnly } from "../components/handle.js"
import { diffRoute, explainRoute } from "../state/routes.js"
import { useApp, useLiveData, useRuntime } from "../runtime.js"
import * as Forms from "../state/forms.js"
import { cursorOf, identityKey, pane, parseIdentityKey, route, type Identity as IdentityRef } from "../state/reducer.js"
import { viewSpec } from "../state/views.js"
import { theme } from "../theme.js"
import { type Services, Upstream } from "../upstream.js"
import { collect, TitleLine, useFreshness, type ViewProps } from "./common.js"

export const lookupForm = (identity?: IdentityRef): Forms.FormState =>
  Forms.make("lookup", "Look up a profile", [
    Forms.text("namespace", "Namespace", identity?.namespace ?? "Email", { required: true, placeholder: "Email, ECID, CRMID, Phone…" }),
    Forms.text("id", "Identity", identity?.id ?? "", { required: true, placeholder: "e.g. jane.doe@example.com" })
  ])

/** Detail ids of events opened from a timeline (an identity key never starts with `#`). */
export const EVENT_PREFIX = "#event:"

/** Events opened from the timeline, by id: the event detail shows what the timeline fetched. */
const openedEvents = new Map<string, Entity.ExperienceEvent>()

export const ProfilesView = (props: ViewProps) => {
  const { state } = useApp()
  const r = route(state)
  if (!r.detail) return <PickProfile {...props} target="profiles" hint=" i looks up a profile by namespace and identity · Enter opens one below · :profiles NAMESPACE ID" />
  if (r.detail.id.startsWith(EVENT_PREFIX)) return <EventDetail id={r.detail.id.slice(EVENT_PREFIX.length)} {...props} />
  return <ProfileDetail identity={parseIdentityKey(r.detail.id)} {...props} />
}

const EventDetail = ({ id, width, height }: ViewProps & { readonly id: string }) => {
  const event = openedEvents.get(id)
  useFreshness({ updatedAt: undefined, loading: false })
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine panes={[]} active={0} width={width} right={event ? `${dateTime(event.timestamp)} · ${String(event.entity.eventType ?? "")}` : id} />
      {event ? (
        <Tree value={event} width={width} height={height - 1} />
      ) : (
        <Text color={theme.muted}>This event is no longer loaded: go back (Esc) and open it again.</Text>
      )}
    </Box>
  )
}

// ---------------------------------------------------------------------------
// lookup (the view's root)
// ---------------------------------------------------------------------------

interface LookupRow extends IdentityRef {
  readonly source: string
}

const lookupColumns: ReadonlyArray<Column<LookupRow>> = [
  { title: "Namespace", width: 12, value: (r) => r.namespace },
  { title: "Identity", value: (r) => r.id },
  { title: "", width: 8, value: (r) => r.source, color: () => theme.muted }
]

/** Recent and example profiles to open: in the profile view, the diff or the explanation. */
export const PickProfile = ({ width, height, target, hint }: ViewProps & { readonly target: "profiles" | "diff" | "explain"; readonly hint: string }) => {
  const { state, dispatch } = useApp()
  const upstream = useLiveData("upstreamExamples", () => Effect.map(Upstream, (info) => info.examples), { live: false })
  const rows = useMemo(() => {
    const seen = new Set(state.recents.map(identityKey))
    return [
      ...state.recents.map((r) => ({ ...r, source: "recent" })),
      ...(upstream.data ?? []).filter((e) => !seen.has(identityKey(e))).map((e) => ({ ...e, source: "example" }))
    ]
  }, [state.recents, upstream.data])
  useFreshness({ updatedAt: upstream.updatedAt, loading: false })
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate" color={theme.muted}>
        {hint}
      </Text>
      <Table
        rows={rows}
        columns={lookupColumns}
        width={width}
        height={height - 1}
        rowKey={(r) => `${r.source}/${identityKey(r)}`}
        empty="no profile looked up yet: press i"
        onAction={(action, row) => {
          switch (action) {
            case "lookup":
              if (target !== "profiles") return false
              dispatch({ type: "formOpen", form: lookupForm(row ? { namespace: row.namespace, id: "" } : undefined), write: false })
              return true
            case "open":
              if (!row) dispatch({ type: "formOpen", form: lookupForm(), write: false })
              else if (target === "profiles") dispatch({ type: "request", intent: { kind: "lookupProfile", namespace: row.namespace, id: row.id } })
              else dispatch({ type: "push", route: target === "diff" ? diffRoute(row) : explainRoute(row) })
              return true
            default:
              return false
          }
        }}
      />
    </Box>
  )
}

// ---------------------------------------------------------------------------
// one profile
// ---------------------------------------------------------------------------

interface IdentityEntry {
  readonly namespace: string
  readonly id: string
  readonly primary: boolean
  readonly state: string
  /** Where the graph showed it: the merged profile, or only its experience events. */
  readonly seenIn?: "profile" | "events" | undefined
}

/** Experience events read to find the identities only they carry (a device's second ECID). */
const EVENT_SCAN = 200

/** Identities the profile's experience events carry (each event's `identityMap`). */
export const identitiesInEvents = (identity: IdentityRef, mergePolicyId: string | undefined) =>
  Effect.flatMap(ProfileClient.ProfileClient, (client) =>
    collect(
      client.experienceEvents(Identity.make(identity.namespace, identity.id), { limit: 100, ...(mergePolicyId ? { mergePolicyId } : {}) }),
      EVENT_SCAN
    )
  ).pipe(Effect.map((events) => events.flatMap((event) => identitiesOf(event.entity as Record<string, unknown>))))

/**
 * The identity graph as one list: the merged profile's identities, then
 * those only its events name. Namespaces are compared as AEP does (case
 * aside) and shown with their AEP code.
 */
export const mergeIdentities = (profile: ReadonlyArray<IdentityEntry>, events: ReadonlyArray<IdentityEntry>): ReadonlyArray<IdentityEntry> => {
  const key = (i: IdentityEntry) => `${i.namespace.toLowerCase()}:${i.id}`
  const seen = new Set(profile.map(key))
  const extra: Array<IdentityEntry> = []
  for (const entry of events) {
    if (seen.has(key(entry))) continue
    seen.add(key(entry))
    extra.push({ ...entry, primary: false, seenIn: "events" })
  }
  return [...profile.map((entry) => ({ ...entry, seenIn: "profile" as const })), ...extra].map((entry) => ({ ...entry, namespace: namespaceCode(entry.namespace) }))
}

/** The identity graph as the merged entity lists it (`identityMap`, else `identities`). */
export const identitiesOf = (entity: Record<string, unknown>): ReadonlyArray<IdentityEntry> => {
  const map = entity.identityMap
  if (Predicate.isRecord(map)) {
    return Object.entries(map).flatMap(([namespace, list]) =>
      Array.isArray(list)
        ? list.filter(Predicate.isRecord).map((item) => ({
            namespace,
            id: String(item.id ?? ""),
            primary: item.primary === true,
            state: typeof item.authenticatedState === "string" ? item.authenticatedState : ""
          }))
        : []
    )
  }
  const list = entity.identities
  return Array.isArray(list)
    ? list.filter(Predicate.isRecord).map((item) => ({
        namespace: Predicate.isRecord(item.namespace) ? String(item.namespace.code ?? "") : "",
        id: String(item.id ?? ""),
        primary: item.primary === true,
        state: ""
      }))
    : []
}

interface ComputedValue {
  readonly name: string
  readonly value: unknown
  readonly timestamp: string
}

/** Computed attribute values (`withCA`): `_<tenant>.SystemComputedAttributes.<name>`. */
export const computedOf = (entity: Record<string, unknown>): ReadonlyArray<ComputedValue> =>
  Object.entries(entity)
    .filter(([key, value]) => key.startsWith("_") && Predicate.isRecord(value))
    .flatMap(([, tenant]) => {
      const bag = (tenant as Record<string, unknown>).SystemComputedAttributes
      return Predicate.isRecord(bag)
        ? Object.entries(bag).map(([name, v]) => ({
            name,
            value: Predicate.isRecord(v) && "value" in v ? v.value : v,
            timestamp: Predicate.isRecord(v) && typeof v.timestamp === "string" ? v.timestamp : ""
          }))
        : []
    })

const identityColumns: ReadonlyArray<Column<IdentityEntry>> = [
  { title: "Namespace", width: 12, value: (i) => i.namespace },
  { title: "Identity", value: (i) => i.id },
  { title: "Primary", width: 7, value: (i) => (i.primary ? "✓" : ""), color: () => theme.ok },
  { title: "State", width: 13, optional: true, value: (i) => i.state },
  { title: "Seen in", width: 14, optional: true, value: (i) => (i.seenIn === "events" ? "events only" : (i.seenIn ?? "")) }
]

const computedColumns: ReadonlyArray<Column<ComputedValue>> = [
  { title: "Computed attribute", width: 24, value: (c) => c.name },
  { title: "Value", value: (c) => inline(c.value) },
  { title: "Evaluated", width: 24, optional: true, value: (c) => c.timestamp }
]

const get = (value: unknown, path: ReadonlyArray<string>): unknown =>
  path.reduce<unknown>((current, key) => (Predicate.isRecord(current) ? current[key] : undefined), value)

/** One line about an event: the page, the order, or the products. */
export const eventSummary = (event: Entity.ExperienceEvent): string => {
  const e = event.entity
  const page = get(e, ["web", "webPageDetails", "name"])
  if (typeof page === "string") return page
  const total = get(e, ["commerce", "order", "priceTotal"])
  const items = get(e, ["productListItems"])
  const names = Array.isArray(items) ? items.map((item) => get(item, ["name"])).filter((n) => typeof n === "string") : []
  if (total !== undefined) return `${total} ${String(get(e, ["commerce", "order", "currencyCode"]) ?? "")}${names.length ? ` · ${names.join(", ")}` : ""}`.trim()
  if (names.length > 0) return names.join(", ")
  return inline(e, 60)
}

const eventColumns: ReadonlyArray<Column<Entity.ExperienceEvent>> = [
  { title: "Time", width: 19, value: (e) => dateTime(e.timestamp), sort: (e) => e.timestamp },
  { title: "Event type", width: 30, value: (e) => String(e.entity.eventType ?? "") },
  { title: "Detail", min: 20, value: eventSummary },
  { title: "Id", width: 16, optional: true, value: (e) => e.entityId }
]

interface EventPages {
  readonly events: ReadonlyArray<Entity.ExperienceEvent>
  readonly done: boolean
  readonly loading: boolean
  readonly error: unknown
}

/**
 * The core's `experienceEvents` stream, pulled one page at a time: the
 * stream follows `_links.next`; the view asks for the next page when the
 * cursor gets near the last loaded event.
 */
const useEventPages = (identity: IdentityRef, mergePolicyId: string | undefined, sandbox: string, pageSize: number) => {
  const runtime = useRuntime()
  const [pages, setPages] = useState<EventPages>({ events: [], done: false, loading: true, error: undefined })
  const pull = useRef<Effect.Effect<Chunk.Chunk<Entity.ExperienceEvent>, Option.Option<ProfileError.ProfileError>, Services> | undefined>(undefined)
  const inflight = useRef<Fiber.RuntimeFiber<unknown, unknown> | undefined>(undefined)
  const generation = useRef(0)

  const loadMore = useCallback(() => {
    const current = pull.current
    if (!current || inflight.current) return
    const mine = generation.current
    setPages((p) => ({ ...p, loading: true }))
    const fiber = runtime.runFork(Platform.withSandbox(current, sandbox))
    inflight.current = fiber
    fiber.addObserver((exit) => {
      if (generation.current !== mine) return
      inflight.current = undefined
      if (Exit.isSuccess(exit)) {
        setPages((p) => ({ ...p, events: [...p.events, ...Chunk.toReadonlyArray(exit.value)], loading: false, error: undefined }))
      } else if (Cause.isInterruptedOnly(exit.cause)) {
        setPages((p) => ({ ...p, loading: false }))
      } else {
        // The pull fails with None at the end of the stream, Some(error) on a failure.
        const failure = Cause.failureOption(exit.cause as Cause.Cause<Option.Option<unknown>>)
        const error = Option.isSome(failure) ? Option.getOrUndefined(failure.value) : Cause.squash(exit.cause)
        setPages((p) => ({ ...p, loading: false, done: true, error }))
      }
    })
  }, [runtime, sandbox])

  const key = `${sandbox}/${identityKey(identity)}/${mergePolicyId ?? ""}/${pageSize}`
  useEffect(() => {
    generation.current++
    const mine = generation.current
    setPages({ events: [], done: false, loading: true, error: undefined })
    pull.current = undefined
    inflight.current = undefined
    const scope = Effect.runSync(Scope.make())
    const stream = Stream.unwrap(
      Effect.map(ProfileClient.ProfileClient, (client) =>
        client.experienceEvents(Identity.make(identity.namespace, identity.id), {
          limit: pageSize,
          orderby: "-timestamp",
          ...(mergePolicyId ? { mergePolicyId } : {})
        })
      )
    )
    const opening = runtime.runFork(Stream.toPull(stream).pipe(Scope.extend(scope)))
    opening.addObserver((exit) => {
      if (generation.current !== mine || Exit.isFailure(exit)) return
      pull.current = exit.value
      loadMore()
    })
    return () => {
      generation.current++
      opening.unsafeInterruptAsFork(FiberId.none)
      inflight.current?.unsafeInterruptAsFork(FiberId.none)
      inflight.current = undefined
      Effect.runFork(Scope.close(scope, Exit.void))
    }
    // The key covers identity, merge policy and sandbox (and so loadMore).
  }, [key, runtime])

  return { ...pages, loadMore }
}

const ProfileDetail = ({ identity, width, height }: ViewProps & { readonly identity: IdentityRef }) => {
  const { state, dispatch, eventPageSize } = useApp()
  const active = pane(state)
  const policyId = state.profilePolicy
  const key = identityKey(identity)
  const profile = useLiveData(
    `profile/${key}/${policyId ?? "default"}`,
    () =>
      Effect.flatMap(ProfileClient.ProfileClient, (client) =>
        client.getProfile(Identity.make(identity.namespace, identity.id), { withCA: true, ...(policyId ? { mergePolicyId: policyId } : {}) })
      ),
    // Not found under this merge policy is an answer, shown in the view, not a failure.
    { quiet: (error) => Predicate.isTagged(error, "NotFound") }
  )
  const policies = useLiveData("profilePolicies", () => Effect.flatMap(ProfileClient.ProfileClient, (client) => collect(client.mergePolicies(), 200)), {
    live: false
  })
  const events = useEventPages(identity, policyId, state.sandbox, eventPageSize)
  useFreshness(profile)

  const entity = profile.data?.entity
  const notFound = Predicate.isTagged(profile.error, "NotFound")
  const policyName = (id: string | undefined, list: ReadonlyArray<MergePolicy.MergePolicy>) => {
    const fallback = list.find((p) => p.default === true)
    const shown = id ?? fallback?.id
    const found = list.find((p) => p.id === shown)
    if (!found) return id === undefined ? "default" : shortId(id, 12)
    return `${found.name ?? found.id}${found.default === true ? " (default)" : ""}`
  }
  const onAction = (action: string) => {
    switch (action) {
      case "cyclePolicy":
        dispatch({
          type: "cycleProfilePolicy",
          policies: (policies.data ?? []).map((p) => ({ id: p.id, name: p.name ?? p.id, default: p.default === true }))
        })
        return true
      case "lookup":
        dispatch({ type: "formOpen", form: lookupForm({ namespace: identity.namespace, id: "" }), write: false })
        return true
      case "delete":
        dispatch({ type: "request", intent: { kind: "deleteProfile", namespace: identity.namespace, id: identity.id } })
        return true
      case "diff":
        dispatch({ type: "push", route: diffRoute(identity) })
        return true
      case "explain":
        dispatch({ type: "push", route: explainRoute(identity) })
        return true
      default:
        return false
    }
  }

  const eventIdentities = useLiveData(
    `profileEventIdentities/${key}/${policyId ?? "default"}`,
    () => identitiesInEvents(identity, policyId),
    { live: false, quiet: () => true }
  )
  const identities = useMemo(() => (entity ? mergeIdentities(identitiesOf(entity), eventIdentities.data ?? []) : []), [entity, eventIdentities.data])
  const computed = useMemo(() => (entity ? computedOf(entity) : []), [entity])
  const info = profile.data
    ? `XID ${shortId(profile.data.entityId, 14)} · ${plural(profile.data.sources?.length ?? 0, "source")} · ${plural(identities.length, "identity", "identities")} · modified ${profile.data.lastModifiedAt ?? "–"}`
    : notFound
      ? `not found under merge policy ${policyName(policyId, policies.data ?? [])}: no profile has ${identity.namespace}:${identity.id} when merged this way (p tries the next policy)`
      : profile.error
        ? `✗ ${describeError(profile.error)}`
        : "loading…"

  const cursor = cursorOf(state)
  const bodyHeight = height - 2
  useEffect(() => {
    // Near the end of what is loaded (within a page of rows), fetch the next page.
    if (active === 2 && !events.done && !events.loading && cursor >= events.events.length - Math.max(1, Math.floor(bodyHeight / 2))) events.loadMore()
  }, [active, cursor, events, bodyHeight])

  let body
  if (active === 0) {
    body = entity ? (
      <Tree value={entity} width={width} height={bodyHeight} onAction={onAction} yankAll={() => ({ what: "the profile as JSON", text: JSON.stringify(profile.data, null, 2) })} />
    ) : (
      <ActionsOnly onAction={onAction}>
        <Text color={theme.muted}>{notFound ? "no profile under this merge policy: p merges with the next one" : profile.error ? "no profile to show" : "loading…"}</Text>
      </ActionsOnly>
    )
  } else if (active === 1) {
    body = (
      <Table rows={identities} columns={identityColumns} width={width} height={bodyHeight} rowKey={(i) => `${i.namespace}:${i.id}`} onAction={onAction} loading={profile.loading} empty="no identity" />
    )
  } else if (active === 2) {
    body = (
      <Table
        rows={events.events}
        columns={eventColumns}
        width={width}
        height={bodyHeight}
        rowKey={(e) => e.entityId}
        onAction={(action, event) => {
          if (action === "open" && event) {
            if (openedEvents.size > 1000) openedEvents.clear()
            openedEvents.set(event.entityId, event)
            dispatch({ type: "push", route: { view: "profiles", detail: { id: `${EVENT_PREFIX}${event.entityId}`, label: `event ${event.entityId}` } } })
            return true
          }
          return onAction(action)
        }}
        loading={events.loading}
        empty={events.error ? `✗ ${describeError(events.error)}` : "no experience event"}
      />
    )
  } else {
    body = (
      <Table
        rows={computed}
        columns={computedColumns}
        width={width}
        height={bodyHeight}
        rowKey={(c) => c.name}
        onAction={onAction}
        loading={profile.loading}
        empty="no computed attribute value (see Computed attributes, 5)"
      />
    )
  }
  const eventNote = active === 2 ? ` · ${events.events.length}${events.done ? "" : "+"} events` : ""
  return (
    <Box flexDirection="column" width={width} height={height}>
      <TitleLine
        panes={viewSpec("profiles").detailPanes}
        active={active}
        width={width}
        right={`policy ${policyName(policyId, policies.data ?? [])}${(policies.data?.length ?? 0) > 1 ? " (p)" : ""}${eventNote}`}
      />
      <Text wrap="truncate" color={notFound ? theme.warn : profile.error ? theme.error : theme.muted}>
        {info}
      </Text>
      {body}
    </Box>
  )
}
