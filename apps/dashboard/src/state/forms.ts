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
}

export type FormKind = "lookup" | "policy" | "deleteJob" | "attribute" | "destination" | "projection"

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

/** Moves a choice field to its next (or previous) option. */
export const cycle = (form: FormState, delta: number): FormState =>
  mapFocused(form, (field) => {
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
      const order = (values.order ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")
      if (mergeType === "dataSetPrecedence" && order.length === 0) {
        return { error: "dataSetPrecedence needs the dataset order (dataset ids, highest precedence first)" }
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
