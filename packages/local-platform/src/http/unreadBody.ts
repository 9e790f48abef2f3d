/**
 * A request refused for its size (413) is answered before its body is read.
 * Node then closes the connection as soon as the answer is written, while the
 * client is still sending: the client sees a broken pipe (EPIPE) instead of
 * the 413 (Node 24 does this for every client that sends `Connection: close`).
 * So the rest of the body is read and thrown away first, up to a bound, and
 * the answer says `Connection: close`.
 */
import { type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Duration, Effect } from "effect"

/** Past this many discarded bytes the client may see the connection cut instead of the answer. */
export const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024
/** Nor is a slow client waited for longer than this. */
export const DISCARD_WITHIN = Duration.seconds(15)

/** Reads and drops what is left of the request body; done at its end, at the bound, or when the client hangs up. */
export const discardUnreadBody = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const incoming = NodeHttpServerRequest.toIncomingMessage(request)
    if (incoming.complete || incoming.readableEnded || incoming.destroyed) return resume(Effect.void)
    let bytes = 0
    const stop = () => {
      incoming.off("data", onData)
      incoming.off("end", finish)
      incoming.off("close", finish)
      incoming.off("error", finish)
    }
    const finish = () => {
      stop()
      resume(Effect.void)
    }
    const onData = (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > DISCARD_LIMIT_BYTES) finish()
    }
    incoming.on("data", onData)
    incoming.once("end", finish)
    incoming.once("close", finish)
    incoming.once("error", finish)
    incoming.resume()
    return Effect.sync(stop)
  }).pipe(Effect.timeoutOption(DISCARD_WITHIN), Effect.asVoid)

/** A 413 goes out once the body is drained, and closes the connection; other answers are left alone. */
export const whenTooLarge = (
  request: HttpServerRequest.HttpServerRequest,
  response: HttpServerResponse.HttpServerResponse
): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
  response.status === 413
    ? Effect.as(discardUnreadBody(request), HttpServerResponse.setHeader(response, "connection", "close"))
    : Effect.succeed(response)
