/**
 * View tests run the real dashboard (`App`) in ink-testing-library against
 * a real local profile service on a loopback port, through the core's
 * client: nothing is mocked. The harness waits for input to be ready and
 * for content to appear, as Shopify CLI's `testing/ui.ts` does, but by
 * polling for a condition instead of sleeping a fixed time.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { AccessToken, Platform, ProfileClient, Retry } from "@rtcp/core"
import { ImsTokens, type Server } from "@rtcp/local-platform"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Redacted } from "effect"
import { render } from "ink-testing-library"
import { App, type AppProps } from "../../src/App.js"
import type { DashboardRuntime } from "../../src/runtime.js"
import { layer as LocalExtensionsLayer } from "../../src/extensions.js"
import { local, Upstream, type Services, type UpstreamKind } from "../../src/upstream.js"

export type Rendered = ReturnType<typeof render>

const quiet = Logger.minimumLogLevel(LogLevel.None)

/** A local service (in-memory store) with `profiles` demo customers, and the dashboard's runtime for it. */
export const startService = async (
  options: {
    readonly profiles?: number
    readonly service?: Partial<Server.ServiceOptions>
    /** What the dashboard is told the upstream is ("adobe": views that need the local service say so, and call nothing). */
    readonly kind?: UpstreamKind
  } = {}
) => {
  const service = local({ directory: ":memory:", sandbox: "prod", profiles: options.profiles ?? 100, service: options.service }).pipe(
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.provide(quiet)
  )
  const kind = options.kind
  const told =
    kind === undefined ? service : Layer.merge(service, Layer.effect(Upstream, Effect.map(Upstream, (info) => ({ ...info, kind }))).pipe(Layer.provide(service)))
  const layer = told.pipe(
    Layer.merge(quiet),
    // One attempt: error tests want the error, not five retries of it.
    Layer.merge(Layer.succeed(Retry.CurrentRetryPolicy, Retry.none))
  )
  const runtime: DashboardRuntime = ManagedRuntime.make(layer as Layer.Layer<Services>)
  const info = await runtime.runPromise(Upstream)
  return { runtime, info, run: <A, E>(effect: Effect.Effect<A, E, Services>) => runtime.runPromise(effect) }
}

/** A runtime whose client sends a token the service never issued (every call answers 401). */
export const withBadToken = (url: string): DashboardRuntime => withStaticToken(url, "not-a-token")

/** A runtime whose client calls the Platform at `url` with a fixed token (no IMS), as an `--upstream URL` dashboard would. */
export const withStaticToken = (url: string, token: string): DashboardRuntime =>
  ManagedRuntime.make(
    Layer.mergeAll(
      Layer.merge(ProfileClient.layer, LocalExtensionsLayer).pipe(
        Layer.provide(
          Layer.merge(
            AccessToken.layerStatic(Redacted.make(token)),
            Platform.layer({
              platformUrl: url,
              imsUrl: url,
              orgId: ImsTokens.demoClient.orgId,
              apiKey: ImsTokens.demoClient.clientId,
              sandbox: "prod"
            })
          )
        ),
        Layer.provide(NodeHttpClient.layerUndici)
      ),
      Layer.succeed(Upstream, { kind: "url", url, orgId: ImsTokens.demoClient.orgId, sandbox: "prod", examples: [] }),
      Layer.succeed(Retry.CurrentRetryPolicy, Retry.none),
      quiet
    ) as Layer.Layer<Services>
  )

// ---------------------------------------------------------------------------
// rendering
// ---------------------------------------------------------------------------

export const strip = (text: string | undefined): string => (text ?? "").replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "")

export const frame = (instance: Rendered): string => strip(instance.lastFrame())

/** ink-testing-library's stdout is 100 columns and has no rows: give it a size, and tell Ink. */
export const resize = (instance: Rendered, columns: number, rows: number) => {
  Object.defineProperty(instance.stdout, "columns", { configurable: true, get: () => columns })
  Object.defineProperty(instance.stdout, "rows", { configurable: true, get: () => rows })
  instance.stdout.emit("resize")
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls until `check` holds; fails with what the screen showed. */
export const until = async (instance: Rendered | undefined, check: () => boolean, what: string, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (check()) return
    await sleep(20)
  }
  throw new Error(`timed out waiting for ${what}; the screen was:\n${instance ? frame(instance) : ""}`)
}

/** Waits for every text to be on screen. */
export const waitFor = (instance: Rendered, ...texts: ReadonlyArray<string | RegExp>) =>
  until(
    instance,
    () => {
      const screen = frame(instance)
      return texts.every((text) => (typeof text === "string" ? screen.includes(text) : text.test(screen)))
    },
    texts.map(String).join(", ")
  )

export const waitForGone = (instance: Rendered, text: string) => until(instance, () => !frame(instance).includes(text), `"${text}" to disappear`)

/** Ink listens to stdin only once its input hook is mounted: wait for that, not for a fixed time. */
export const waitForInput = (instance: Rendered) =>
  until(instance, () => instance.stdin.listenerCount("readable") > 0, "the input handler")

export const keys = {
  up: "\u001b[A",
  down: "\u001b[B",
  right: "\u001b[C",
  left: "\u001b[D",
  pageDown: "\u001b[6~",
  pageUp: "\u001b[5~",
  enter: "\r",
  escape: "\u001b",
  tab: "\t",
  backspace: "\u007f",
  ctrlC: "\u0003",
  ctrlU: "\u0015"
} as const

/** Sends keys one at a time, letting Ink handle each before the next. */
export const press = async (instance: Rendered, ...sequence: ReadonlyArray<string>) => {
  for (const key of sequence) {
    instance.stdin.write(key)
    // A lone Esc is only known to be Esc after a tick (it may start a sequence).
    await sleep(key === keys.escape ? 30 : 10)
  }
}

/** Types text into a prompt or form, character by character. */
export const type = (instance: Rendered, text: string) => press(instance, ...[...text])

export interface Mounted {
  readonly instance: Rendered
  readonly cleanup: () => void
}

/** The dashboard at a given size, ready for keys. */
export const mount = async (
  runtime: DashboardRuntime,
  props: Partial<Omit<AppProps, "runtime">> & { readonly columns?: number; readonly rows?: number } = {}
): Promise<Mounted> => {
  const { columns = 100, rows = 30, ...rest } = props
  const instance = render(<App runtime={runtime} kind="local" sandbox="prod" refreshMs={0} {...rest} />)
  resize(instance, columns, rows)
  await waitForInput(instance)
  await waitFor(instance, " rtcp ")
  return {
    instance,
    cleanup: () => {
      instance.unmount()
      instance.cleanup()
    }
  }
}

/** Every line of the frame fits the width, and the frame leaves the terminal's last line free. */
export const fits = (instance: Rendered, columns: number, rows: number) => {
  const lines = frame(instance).split("\n")
  const widest = Math.max(...lines.map((line) => [...line].length))
  return { lines: lines.length, widest, ok: lines.length <= rows - 1 && widest <= columns }
}

export const runEffect = <A, E>(runtime: DashboardRuntime, effect: Effect.Effect<A, E, Services>) => runtime.runPromise(effect)

/** The local service samples a few seconds after ingestion settles; reports 404 until then. */
export const waitForSample = async (runtime: DashboardRuntime) => {
  const sampled = () =>
    runtime.runPromise(
      Effect.flatMap(ProfileClient.ProfileClient, (client) => client.getDatasetReport()).pipe(
        Effect.as(true),
        Effect.orElseSucceed(() => false)
      )
    )
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (await sampled()) return
    await sleep(200)
  }
  throw new Error("the local service never sampled")
}
