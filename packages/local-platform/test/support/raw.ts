import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect } from "effect"
import { authHeaders } from "./harness.js"

export interface RawAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: any
}

/** One raw request against the test service; the body is parsed when it is JSON. */
export const raw = (
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  url: string,
  options: { readonly headers?: Record<string, string>; readonly body?: string; readonly auth?: boolean; readonly sandbox?: string } = {}
) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const auth = options.auth === false ? {} : yield* authHeaders(options.sandbox)
    let request = HttpClientRequest.make(method)(url).pipe(HttpClientRequest.setHeaders({ ...auth, ...options.headers }))
    if (options.body !== undefined) {
      request = HttpClientRequest.bodyText(request, options.body, options.headers?.["content-type"] ?? "application/json")
    }
    const response = yield* client.execute(request)
    const text = yield* response.text
    let body: unknown = text
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers as Record<string, string>, body: body as any } satisfies RawAnswer
  }).pipe(Effect.scoped)

export const json = (value: unknown) => ({ body: JSON.stringify(value), headers: { "content-type": "application/json" } })
