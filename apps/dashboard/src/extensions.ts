/**
 * The local service's admin extension the dashboard reads: the request
 * inspector (`GET /rtcp/admin/requests`), through the core's `LocalAdmin`
 * client. Adobe has no such endpoint: it answers 404 (`NotFound`), which
 * the Requests view turns into "this needs the local service with --admin".
 * (The explanation of a profile is `ProfileClient.explainProfile`.)
 */
import type { HttpClient } from "@effect/platform"
import { LocalAdmin, type Platform } from "@rtcp/core"
import { Context, Effect, Layer } from "effect"

/** One request the local service answered (the core's `LocalAdmin` client decodes it). */
export type InspectedRequest = LocalAdmin.InspectedRequest

export class LocalExtensions extends Context.Tag("@rtcp/dashboard/LocalExtensions")<LocalExtensions, LocalAdmin.LocalAdminService>() {}

/** The inspector's client over the client's own HTTP client and Platform settings. */
export const layer: Layer.Layer<LocalExtensions, never, HttpClient.HttpClient | Platform.Platform> = Layer.effect(LocalExtensions, LocalAdmin.make)

export const requests = (query: { readonly limit?: number | undefined; readonly since?: number | undefined }) =>
  Effect.flatMap(LocalExtensions, (admin) => admin.requests(query))
