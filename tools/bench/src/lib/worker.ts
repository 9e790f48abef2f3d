/** The worker side of `child.ts`. */
import { createServer } from "node:net"

const MARK = "\u0001"

const write = (line: string) => new Promise<void>((resolve) => process.stdout.write(`${line}\n`, () => resolve()))

const readArgs = async () => {
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString("utf8").trim()
  return text === "" ? {} : JSON.parse(text)
}

/** A worker never outlives the benchmark that started it. */
const exitWithParent = () => {
  const parent = process.ppid
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1)
  }, 1000).unref()
}

/** Runs `main` with the JSON arguments read from stdin and reports its result. */
export const workerMain = <A, R>(main: (args: A) => Promise<R>) => {
  exitWithParent()
  readArgs().then((args: A) => main(args)).then(
    async (result) => {
      await write(`${MARK}RESULT ${JSON.stringify(result)}`)
      process.exit(0)
    },
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}

/** A server worker: says READY with `info`, and on SIGTERM reports `onStop()` and exits. */
export const serveUntilStopped = async (info: unknown, onStop: () => unknown = resources) => {
  process.on("SIGTERM", async () => {
    await write(`${MARK}RESULT ${JSON.stringify(onStop())}`)
    process.exit(0)
  })
  await write(`${MARK}READY ${JSON.stringify(info)}`)
}

/** Peak resident memory and CPU time of this process so far. */
export const resources = () => {
  const usage = process.resourceUsage()
  return { maxRssMb: usage.maxRSS / 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }
}

/** Starts timing; the function it returns gives the wall and CPU (user + system) time since, in ms. */
export const stopwatch = () => {
  const wall = performance.now()
  const cpu = process.cpuUsage()
  return () => {
    const used = process.cpuUsage(cpu)
    return { wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 }
  }
}

/** A free loopback port. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
