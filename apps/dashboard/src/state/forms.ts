/**
 * Forms: small modal dialogs that collect the fields of a create or edit
 * and turn them into an {@link Intent}. A form is data (kind, fields,
 * focus); `toIntent` validates it, so forms are tested without rendering.
 */
import type { Intent } from "./intents.js"

export interface Choice {
  readonly value: string
  readonly label: string
}

export interface Field {
  readonly name: string
  readonly label: string
  readonly kind: "text" | "choice"
  readonly value: string
  /** For `choice`. */
  readonly options?: ReadonlyArray<Choice> | undefined
  readonly placeholder?: string | undefined
  readonly required?: boolean | undefined
  /**
   * For `text`: values to pick with ←/→ (shown by label, sent by value).
   * With `list`, → adds the next one to a comma-separated list and ← takes
   * the last one off; without, ←/→ replace the value.
   */
  readonly suggestions?: ReadonlyArray<Choice> | undefined
  readonly list?: boolean | undefined
}

export type FormKind = "lookup" | "policy" | "deleteJob" | "exportJob" | "attribute" | "destination" | "projection"

export interface FormState {
  readonly kind: FormKind
  readonly title: string
  readonly fields: ReadonlyArray<Field>
  readonly focus: number
  readonly error?: string | undefined
  /** Extra values the form carries (the id of what an edit replaces). */
  readonly context?: Readonly<Record<string, string>> | undefined
}

export const text = (name: string, label: string, value = "", extra: Partial<Field> = {}): Field => ({
  name,
  label,
  kind: "text",
  value,
  ...extra
})

export const choice = (name: string, label: string, options: ReadonlyArray<Choice | string>, value?: string, extra: Partial<Field> = {}): Field => {
  const normalized = options.map((option) => (typeof option === "string" ? { value: option, label: option } : option))
  return { name, label, kind: "choice", options: normalized, value: value ?? normalized[0]?.value ?? "", ...extra }
}

export const make = (kind: FormKind, title: string, fields: ReadonlyArray<Field>, context?: Record<string, string>): FormState => ({
  kind,
  title,
  fields,
  focus: 0,
  ...(context === undefined ? {} : { context })
})

export const valuesOf = (form: FormState): Record<string, string> =>
  Object.fromEntries(form.fields.map((field) => [field.name, field.value.trim()]))

// ---------------------------------------------------------------------------
// editing (pure)
// ---------------------------------------------------------------------------

const mapFocused = (form: FormState, f: (field: Field) => Field): FormState => ({
  ...form,
  error: undefined,
  fields: form.fields.map((field, index) => (index === form.focus ? f(field) : field))
})

export const focusBy = (form: FormState, delta: number): FormState => {
  const count = form.fields.length
  return count === 0 ? form : { ...form, focus: (((form.focus + delta) % count) + count) % count }
}

export const typeText = (form: FormState, input: string): FormState =>
  mapFocused(form, (field) => (field.kind === "text" ? { ...field, value: field.value + input } : field))

export const backspace = (form: FormState): FormState =>
  mapFocused(form, (field) => (field.kind === "text" ? { ...field, value: [...field.value].slice(0, -1).join("") } : field))

export const clearField = (form: FormState): FormState =>
  mapFocused(form, (field) => (field.kind === "text" ? { ...field, value: "" } : field))

const splitList = (value: string) => value.split(",").map((s) => s.trim()).filter((s) => s !== "")

/** A text field's picks: the next suggestion (or, for a list, adds the next unused one / takes the last off). */
const pick = (field: Field, delta: number): Field => {
  const options = field.suggestions ?? []
  if (options.length === 0) return field
  if (field.list) {
    const chosen = splitList(field.value)
    if (delta < 0) return { ...field, value: chosen.slice(0, -1).join(", ") }
    const used = new Set(chosen.map((c) => c.toLowerCase()))
    const next = options.find((o) => !used.has(o.label.toLowerCase()) && !used.has(o.value.toLowerCase()))
    return next ? { ...field, value: [...chosen, next.label].join(", ") } : field
  }
  const index = options.findIndex((o) => o.label === field.value || o.value === field.value)
  const next = index < 0 ? (delta > 0 ? 0 : options.length - 1) : (((index + delta) % options.length) + options.length) % options.length
  return { ...field, value: options[next]!.label }
}

/** The value a picked label stands for (a dataset name → its id); typed values pass as they are. */
export const resolvePick = (field: Field | undefined, value: string): string =>
  field?.suggestions?.find((o) => o.label.toLowerCase() === value.toLowerCase())?.value ?? value

/** Moves a choice field to its next (or previous) option; picks a suggestion in a text field that has them. */
export const cycle = (form: FormState, delta: number): FormState =>
  mapFocused(form, (field) => {
    if (field.kind === "text") return pick(field, delta)
    if (field.kind !== "choice" || !field.options || field.options.length === 0) return field
    const index = field.options.findIndex((option) => option.value === field.value)
    const next = (((index + delta) % field.options.length) + field.options.length) % field.options.length
    return { ...field, value: field.options[next]!.value }
  })

// ---------------------------------------------------------------------------
// submit
// ---------------------------------------------------------------------------

const required = (values: Record<string, string>, form: FormState): string | undefined => {
  const missing = form.fields.find((field) => field.required && values[field.name] === "")
  return missing ? `${missing.label} is required` : undefined
}

/** Edge destination TTL, in seconds, as the Edge Projection API takes it. */
export const TTL_MIN = 600
export const TTL_MAX = 604_800

const positiveInt = (value: string, label: string): number | string => {
  const n = Number(value)
  return Number.isInteger(n) && n > 0 ? n : `${label} must be a whole number above 0`
}

/** The intent a submitted form asks for, or the message to show in the form. */
export const toIntent = (form: FormState): Intent | { readonly error: string } => {
  const values = valuesOf(form)
  const missing = required(values, form)
  if (missing) return { error: missing }
  switch (form.kind) {
    case "lookup":
      return { kind: "lookupProfile", namespace: values.namespace!, id: values.id! }
    case "policy": {
      const mergeType = values.attributeMerge === "dataSetPrecedence" ? ("dataSetPrecedence" as const) : ("timestampOrdered" as const)
      const orderField = form.fields.find((f) => f.name === "order")
      const order = splitList(values.order ?? "").map((entry) => resolvePick(orderField, entry))
      if (mergeType === "dataSetPrecedence" && order.length === 0) {
        return { error: "dataSetPrecedence needs the dataset order: → adds datasets by name, highest precedence first" }
      }
      const input = {
        name: values.name!,
        schema: { name: values.schema || "_xdm.context.profile" },
        identityGraph: { type: values.identityGraph === "none" ? ("none" as const) : ("pdg" as const) },
        attributeMerge: mergeType === "dataSetPrecedence" ? { type: mergeType, order } : { type: mergeType },
        isActiveOnEdge: values.isActiveOnEdge === "true",
        default: values.default === "true"
      }
      return form.context?.id ? { kind: "replacePolicy", id: form.context.id, input } : { kind: "createPolicy", input }
    }
    case "deleteJob": {
      const datasetId = values.dataset!
      const datasetName = form.fields.find((f) => f.name === "dataset")?.options?.find((o) => o.value === datasetId)?.label
      return {
        kind: "createDeleteJob",
        datasetId,
        ...(datasetName && datasetName !== datasetId ? { datasetName } : {}),
        ...(values.batchId ? { batchId: values.batchId } : {})
      }
    }
    case "exportJob": {
      const datasetField = form.fields.find((f) => f.name === "datasetId")
      const datasetId = resolvePick(datasetField, values.datasetId!)
      const mergePolicyId = resolvePick(form.fields.find((f) => f.name === "mergePolicyId"), values.mergePolicyId!)
      const datasetName = datasetField?.suggestions?.find((o) => o.value === datasetId)?.label
      return {
        kind: "createExportJob",
        ...(datasetName && datasetName !== datasetId ? { datasetName } : {}),
        request: {
          ...(values.fields ? { fields: values.fields } : {}),
          mergePolicy: { id: mergePolicyId },
          destination: { datasetId, segmentPerBatch: false },
          schema: { name: values.schema || "_xdm.context.profile" }
        }
      }
    }
    case "attribute": {
      const count = positiveInt(values.lookback ?? "", "Lookback")
      if (typeof count === "string") return { error: count }
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(values.name!)) {
        return { error: "Name must start with a letter and hold letters, digits and _ only" }
      }
      return {
        kind: "createAttribute",
        input: {
          name: values.name!,
          displayName: values.displayName || values.name!,
          description: values.description ?? "",
          expression: { type: "PQL", format: "pql/text", value: values.expression! },
          duration: { count, unit: values.unit as "HOURS" | "DAYS" | "WEEKS" | "MONTHS" },
          status: values.status === "NEW" ? "NEW" : "DRAFT"
        }
      }
    }
    case "destination": {
      const dataCenters = values.dataCenters!.split(",").map((s) => s.trim().toUpperCase()).filter((s) => s !== "")
      if (dataCenters.length === 0) return { error: "Name at least one data center (OR1, VA5, NLD1)" }
      const ttl = values.ttl ? positiveInt(values.ttl, "TTL") : undefined
      if (typeof ttl === "string") return { error: ttl }
      if (ttl !== undefined && (ttl < TTL_MIN || ttl > TTL_MAX)) {
        return { error: `TTL is in seconds: ${TTL_MIN} to ${TTL_MAX} (10 minutes to 7 days); ${ttl} is out of range` }
      }
      return {
        kind: "createDestination",
        input: {
          type: values.type || "EDGE",
          dataCenters,
          ...(ttl === undefined ? {} : { ttl }),
          ...(values.replicationPolicy ? { replicationPolicy: values.replicationPolicy } : {})
        }
      }
    }
    case "projection":
      return {
        kind: "createProjection",
        schemaName: values.schemaName || "_xdm.context.profile",
        input: {
          name: values.name!,
          selector: values.selector!,
          destinationId: values.destinationId!,
          ...(values.mergePolicyId ? { mergePolicyId: values.mergePolicyId } : {})
        }
      }
  }
}
