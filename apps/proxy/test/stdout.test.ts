import { afterEach, describe, expect, it, vi } from "vitest"
import { writeLine } from "../src/stdout.js"

describe("stdout", () => {
  afterEach(() => vi.restoreAllMocks())

  it("writes the lines of one turn in one write, in order, and the next turn's in the next", async () => {
    const writes: Array<string> = []
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: any) => {
      writes.push(String(chunk))
      return true
    })
    writeLine('{"n":1}')
    writeLine('{"n":2}')
    expect(writes).toEqual([])
    await new Promise((resolve) => setImmediate(resolve))
    writeLine('{"n":3}')
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toEqual(['{"n":1}\n{"n":2}\n', '{"n":3}\n'])
  })
})
