/**
 * Where the dashboard's `ProfileClient` points: Adobe (the `AEP_*`
 * variables), any URL (`--upstream`, the proxy included), or a local profile
 * service started in this process on a free loopback port with the demo
 * data. Each choice is one `Layer` that the dashboard's `ManagedRuntime`
 * builds lazily, so the first frame never waits for it, and tears down when
 * the dashboard exits (which stops the local service).
 *
 * @since 0.1.0
 */
import { HttpApiBuilder, type HttpClient, HttpServer } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { AccessToken, AepConfig, Platform, ProfileClient, Retry } from "@rtcp/core"
import type { Server } from "@rtcp/local-platform"
import * as LocalExtensions from "./extensions.js"
import { type ConfigError, Context, Duration, Effect, Layer, Option, Predicate, Redacted } from "effect"
import { createServer } from "node:http"

export type UpstreamKind = "local" | "url" | "adobe"

export interface UpstreamInfo {
  readonly kind: UpstreamKind
  /** Platform base URL the client calls. */
  readonly url: string
  readonly orgId: string
  /** The sandbox the dashboard starts in. */
  readonly sandbox: string
  /** Data folder of the local service. */
  readonly directory?: string | undefined
  /** The local service's admin endpoints (the request inspector) are on. */
  readonly admin?: boolean | undefined
  /** Identities worth offering in the profile lookup (the demo customer on the local service). */
  readonly examples: ReadonlyArray<{ readonly namespace: string; readonly id: string }>
}

export class Upstream extends Context.Tag("@rtcp/dashboard/Upstream")<Upstream, UpstreamInfo>() {}

/** What a view can ask of the runtime. */
export type Services = ProfileClient.ProfileClient | LocalExtensions.LocalExtensions | Upstream

export type UpstreamLayer = Layer.Layer<Services, unknown>

/**
 * The local service's documented demo credential (`demoClient` of
 * `@rtcp/local-platform`, asserted equal by a test). Spelled out here so that
 * `--upstream` and the first frame do not wait for the local platform to load:
 * it is imported only when the dashboard starts the local service.
 */
export const demoClient = {
  clientId: "rtcp-local",
  clientSecret: Redacted.make("rtcp-local-secret"),
  orgId: "RTCPLOCAL@AdobeOrg"
} as const

/** The demo customer of `@rtcp/seed`, under the identities the demo data gives her. */
export const demoExamples: ReadonlyArray<{ readonly namespace: string; readonly id: string }> = [
  { namespace: "Email", id: "jane.doe@example.com" },
  { namespace: "CRMID", id: "crm-0000000" },
  { namespace: "ECID", id: "50710734271416325302186483425107286113" }
]

/** The client for a Platform at `url` that issues tokens at `imsUrl` (the demo credential by default). */
const clientFor = (settings: Platform.PlatformSettings, auth: Layer.Layer<AccessToken.AccessToken, never, HttpClient.HttpClient>) =>
  Layer.merge(ProfileClient.layer, LocalExtensions.layer).pipe(Layer.provide(Layer.merge(auth, Platform.layer(settings))))

/** The demo credential of the local service, against a Platform (and IMS) at `url`. */
export const demoCredential = (url: string, sandbox: string) =>
  clientFor(
    {
      platformUrl: url,
      imsUrl: url,
      orgId: demoClient.orgId,
      apiKey: demoClient.clientId,
      sandbox
    },
    AccessToken.layerOAuth({
      clientId: demoClient.clientId,
      clientSecret: demoClient.clientSecret,
      imsUrl: url
    })
  )

/** The `AEP_*` credential; `platformUrl` overrides `AEP_PLATFORM_URL` (for `--upstream`). */
export const aepCredential = (overrides: { readonly platformUrl?: string | undefined; readonly sandbox?: string | undefined }) =>
  Layer.unwrapEffect(
    Effect.map(AepConfig.config, ({ credentials, settings: configured }) => {
      const settings: Platform.PlatformSettings = {
        ...configured,
        ...(overrides.platformUrl === undefined ? {} : { platformUrl: overrides.platformUrl }),
        ...(overrides.sandbox === undefined ? {} : { sandbox: overrides.sandbox })
      }
      const auth = AccessToken.layerCredentials(credentials, settings.imsUrl)
      const info: UpstreamInfo = {
        kind: overrides.platformUrl === undefined ? "adobe" : "url",
        url: settings.platformUrl,
        orgId: settings.orgId,
        sandbox: settings.sandbox,
        examples: []
      }
      return Layer.merge(clientFor(settings, auth), Layer.succeed(Upstream, info))
    })
  )

export interface LocalOptions {
  /** Data folder, or ":memory:". */
  readonly directory: string
  readonly sandbox: string
  /** Demo customers to seed (once per data folder); 0 seeds nothing. */
  readonly profiles: number
  readonly host?: string | undefined
  /** 0 (the default) picks a free port. */
  readonly port?: number | undefined
  /** Passed to the service (tests use fault rules to make it misbehave). */
  readonly service?: Partial<Server.ServiceOptions> | undefined
}

/**
 * The local profile service on a loopback port with the demo data, and a
 * client for it that authenticates with the demo credential at the
 * service's own IMS. Seeding happens before the port opens, so the first
 * request already sees the data.
 */
export const local = (options: LocalOptions) =>
  Layer.unwrapEffect(
    Effect.promise(() => import("@rtcp/local-platform")).pipe(
      Effect.map(({ seedDemo, Server }) => {
        const server = HttpApiBuilder.serve().pipe(
          Layer.provide(
            Layer.effectDiscard(
              options.profiles > 0 ? Effect.asVoid(seedDemo({ sandbox: options.sandbox, profiles: options.profiles })) : Effect.void
            ).pipe(Layer.provideMerge(Server.layer({ ...options.service, directory: options.directory })))
          ),
          Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port ?? 0, host: options.host ?? "127.0.0.1" }))
        )
        return Layer.unwrapEffect(
          Effect.map(HttpServer.HttpServer, (http) => {
            const address = http.address
            const url =
              address._tag === "TcpAddress"
                ? `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`
                : `http://localhost`
            const info: UpstreamInfo = {
              kind: "local",
              url,
              orgId: demoClient.orgId,
              sandbox: options.sandbox,
              directory: options.directory,
              admin: options.service?.admin === true,
              examples: options.profiles > 0 ? demoExamples : []
            }
            return Layer.merge(demoCredential(url, options.sandbox), Layer.succeed(Upstream, info))
          })
        ).pipe(Layer.provide(server))
      })
    )
  )

/** `--upstream URL`: the `AEP_*` credential when one is set, else the local demo credential. */
export const remote = (url: string, sandbox: string | undefined) =>
  Layer.unwrapEffect(
    Effect.map(AepConfig.isConfigured, (configured) =>
      configured
        ? aepCredential({ platformUrl: url, sandbox })
        : Layer.merge(
            demoCredential(url, sandbox ?? "prod"),
            Layer.succeed(Upstream, {
              kind: "url",
              url,
              orgId: demoClient.orgId,
              sandbox: sandbox ?? "prod",
              examples: demoExamples
            } satisfies UpstreamInfo)
          )
    )
  )

/**
 * `--upstream URL --proxy-key KEY`: an rtcp proxy, which takes its caller's
 * key as the bearer token (and as `x-api-key`); it holds the org and the
 * Adobe credential itself, so neither is sent.
 */
export const proxyCredential = (url: string, key: Redacted.Redacted<string>, sandbox: string | undefined) =>
  Layer.merge(
    clientFor(
      { platformUrl: url, imsUrl: url, orgId: PROXY_ORG, apiKey: Redacted.value(key), sandbox: sandbox ?? "prod" },
      AccessToken.layerStatic(key)
    ),
    Layer.succeed(Upstream, {
      kind: "url",
      url,
      orgId: PROXY_ORG,
      sandbox: sandbox ?? "prod",
      examples: demoExamples
    } satisfies UpstreamInfo)
  )

/** What the header shows as the org behind a proxy (the proxy never forwards a caller's org). */
const PROXY_ORG = "(the proxy's)"

export interface ChooseOptions {
  readonly upstream: Option.Option<string>
  readonly sandbox: Option.Option<string>
  readonly directory: string
  readonly profiles: number
  /** The caller key of an rtcp proxy at `upstream`. */
  readonly proxyKey?: Option.Option<Redacted.Redacted<string>> | undefined
}

/**
 * `AEP_*` set → Adobe; `--upstream URL` → that URL; else the local service.
 * The platform's `HttpClient` (Node) is provided here: apps bring the
 * platform layer, the core stays platform-neutral.
 */
export const choose = (options: ChooseOptions): Effect.Effect<{ readonly kind: UpstreamKind; readonly layer: UpstreamLayer }, ConfigError.ConfigError> =>
  Effect.map(AepConfig.isConfigured, (configured) => {
    const sandbox = Option.getOrUndefined(options.sandbox)
    const proxyKey = options.proxyKey ?? Option.none()
    const chosen: { kind: UpstreamKind; layer: Layer.Layer<Services, unknown, HttpClient.HttpClient> } = Option.isSome(options.upstream)
      ? {
          kind: "url",
          layer: Option.isSome(proxyKey)
            ? proxyCredential(normalizeUrl(options.upstream.value), proxyKey.value, sandbox)
            : remote(normalizeUrl(options.upstream.value), sandbox)
        }
      : configured
        ? { kind: "adobe", layer: aepCredential({ sandbox }) }
        : {
            kind: "local",
            // The inspector (admin endpoints) is on: the service listens on loopback for this dashboard only.
            layer: local({ directory: options.directory, sandbox: sandbox ?? "prod", profiles: options.profiles, service: { admin: true } })
          }
    return { kind: chosen.kind, layer: chosen.layer.pipe(Layer.provide(NodeHttpClient.layerUndici)) }
  })

export const normalizeUrl = (url: string) => url.replace(/\/+$/, "")

/** How long the start-up check waits for the upstream. */
export const PROBE_TIMEOUT = Duration.seconds(5)

/**
 * One call at start (a token, then the first page of merge policies, no
 * retries, at most `PROBE_TIMEOUT`), so that an upstream that does not
 * answer, or refuses the credential, is said in one line before the
 * dashboard draws, rather than as a view waiting on retries. Succeeds with
 * the line to print when the dashboard cannot work, `undefined` otherwise
 * (other errors, a 5xx for one, are left to the views to show in place).
 */
export const probe = (options: { readonly proxyKey: boolean }): Effect.Effect<string | undefined, never, Services> =>
  Effect.gen(function* () {
    const info = yield* Upstream
    const client = yield* ProfileClient.ProfileClient
    const outcome = yield* client.listMergePolicies({ limit: 1 }).pipe(
      Effect.provideService(Retry.CurrentRetryPolicy, Retry.none),
      Effect.timeoutFail({ duration: PROBE_TIMEOUT, onTimeout: () => "timeout" as const }),
      Effect.either
    )
    if (outcome._tag === "Right") return undefined
    const error = outcome.left
    const where = `the upstream ${info.url}`
    if (error === "timeout") return `${where} did not answer within ${Duration.format(PROBE_TIMEOUT)}: check the URL, or leave out --upstream to use the local service`
    if (Predicate.isTagged(error, "TransportError")) {
      return `${where} does not answer (${error.message}): check the URL and that it runs, or leave out --upstream to use the local service`
    }
    if (Predicate.isTagged(error, "Unauthorized") || Predicate.isTagged(error, "Forbidden")) {
      const said = oneLine(error.message)
      if (options.proxyKey) return `${where} refused the key given with --proxy-key (${error.status}: ${said})`
      if (/client_id must be the key's name|proxy key/i.test(`${said} ${JSON.stringify(error.body ?? "")}`)) {
        return `${where} is an rtcp proxy: give your proxy key with --proxy-key KEY (or RTCP_PROXY_KEY)`
      }
      return `${where} refused the credential (${error.status}: ${said}): for an rtcp proxy give --proxy-key KEY; for Adobe check the AEP_* variables`
    }
    if (Predicate.isTagged(error, "NotFound")) {
      return `${where} answered 404 to GET /data/core/ups/config/mergePolicies: give the Platform base URL (e.g. http://127.0.0.1:8080 or the proxy's)`
    }
    return undefined
  })

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim()
