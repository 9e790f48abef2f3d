import { Command, Options, ValidationError } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { type Console, Effect, FiberRef } from "effect"
import { createServer } from "node:net"
import { CommandLine } from "../src/index.js"

const command = Command.make(
  "demo",
  {
    port: CommandLine.port("port", { default: 8080, description: "Port" }),
    seed: Options.choice("seed", ["demo", "none"]).pipe(Options.withDefault("none" as const)),
    count: Options.integer("count").pipe(Options.withDefault(1))
  },
  () => Effect.void
)

const silent = () => Effect.void
const silentConsole = { error: silent, log: silent } as unknown as Console.Console

/** The ValidationError @effect/cli fails with for `args`, described in one line. */
const describe1 = (...args: ReadonlyArray<string>) =>
  Command.run(command, { name: "demo", version: "0" })(["node", "demo", ...args]).pipe(
    Effect.flip,
    Effect.map((error) => {
      if (!ValidationError.isValidationError(error)) throw new Error(`not a ValidationError: ${String(error)}`)
      return CommandLine.describeValidationError(error, args, CommandLine.usageOf(command))
    }),
    // @effect/cli prints its own copy of the error; these tests only read the value.
    Effect.withConsole(silentConsole),
    Effect.provide(NodeContext.layer)
  )

describe("CommandLine.describeValidationError", () => {
  it.effect("names the flag of a value that does not parse", () =>
    Effect.gen(function* () {
      expect(yield* describe1("--count", "many")).toBe("--count many: not an integer")
      expect(yield* describe1("--count=many")).toBe("--count many: not an integer")
      expect(yield* describe1("--port", "abc")).toBe("--port abc: not an integer")
      expect(yield* describe1("--port", "70000")).toBe("--port 70000 is not a port: use a whole number from 0 to 65535 (0 picks a free one)")
      expect(yield* describe1("--seed", "lots")).toBe("--seed lots: use one of demo, none")
    })
  )
  it.effect("says which flag is unknown", () =>
    Effect.gen(function* () {
      expect(yield* describe1("--bogus")).toBe("unknown flag --bogus (--help lists the flags)")
      expect(yield* describe1("--bogus=1")).toBe("unknown flag --bogus (--help lists the flags)")
      expect(yield* describe1("stray")).toBe("unexpected argument 'stray' (--help lists what is accepted)")
    })
  )
})

describe("CommandLine helpers", () => {
  it("parsePort takes 0 to 65535 only", () => {
    expect(CommandLine.parsePort("0", "--port")).toBe(0)
    expect(CommandLine.parsePort("65535", "--port")).toBe(65_535)
    for (const bad of ["65536", "-1", "8.5", "", "0x50"]) expect(() => CommandLine.parsePort(bad, "--port")).toThrow(/is not a port/)
  })
  it("stripAnsi removes colours and bold", () => {
    expect(CommandLine.stripAnsi("\u001b[0;1m--port\u001b[0m integer")).toBe("--port integer")
  })
  it.effect("ensurePortFree names a port in use", () =>
    Effect.gen(function* () {
      const server = createServer()
      const port = yield* Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as { port: number }).port)))
      })
      const error = yield* Effect.flip(CommandLine.ensurePortFree(port, "127.0.0.1"))
      expect(error.message).toBe(`port ${port} is already in use on 127.0.0.1: stop what uses it or pick another (0 picks a free one)`)
      yield* Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
      yield* CommandLine.ensurePortFree(port, "127.0.0.1")
      yield* CommandLine.ensurePortFree(0, "127.0.0.1")
    })
  )
})

describe("CommandLine.run", () => {
  const levelOf = (...args: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      let seen = ""
      const probe = Command.make("demo", { port: CommandLine.port("port", { default: 8080, description: "Port" }) }, () =>
        Effect.gen(function* () {
          seen = (yield* FiberRef.get(FiberRef.currentMinimumLogLevel)).label
        })
      )
      yield* CommandLine.run(probe, { name: "demo", version: "0" })(["node", "demo", ...args])
      return seen
    }).pipe(Effect.provide(NodeContext.layer))

  it.effect("takes --log-level after the command's own flags, as before them", () =>
    Effect.gen(function* () {
      expect(yield* levelOf("--port", "0", "--log-level", "debug")).toBe("DEBUG")
      expect(yield* levelOf("--port=0", "--log-level=warning")).toBe("WARN")
      expect(yield* levelOf("--log-level", "debug", "--port", "0")).toBe("DEBUG")
      expect(yield* levelOf("--port", "0")).toBe("INFO")
    })
  )
  it("hoistLogLevel moves the flag and its value only", () => {
    expect(CommandLine.hoistLogLevel(["node", "p", "--a", "1", "--log-level", "debug", "--b"])).toEqual(["node", "p", "--log-level", "debug", "--a", "1", "--b"])
    expect(CommandLine.hoistLogLevel(["node", "p", "--a", "--log-level=all"])).toEqual(["node", "p", "--log-level=all", "--a"])
    expect(CommandLine.hoistLogLevel(["node", "p", "--a"])).toEqual(["node", "p", "--a"])
  })
})
