/**
 * The fuzzer as a script:
 *
 *   npm run fuzz -w @rtcp/local-platform -- --seed 20261204 --requests 10000
 *
 * Starts the service in this process (in-memory store, demo data, admin on)
 * on a loopback port, sends the requests four at a time, prints the status
 * histogram and every 5xx or unanswered request, and exits 1 if there was any.
 */
import { fuzz, prepare, withTarget } from "./fuzz.js"

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`)
  const value = index === -1 ? undefined : Number(process.argv[index + 1])
  return value === undefined || !Number.isInteger(value) ? fallback : value
}

const seed = arg("seed", Date.now() % 1_000_000_000)
const requests = arg("requests", 10_000)
const concurrency = arg("concurrency", 4)

const report = await withTarget(arg("profiles", 200), async (baseUrl, identities) => {
  const { auth, known } = await prepare(baseUrl)
  const started = Date.now()
  const result = await fuzz({
    baseUrl,
    seed,
    requests,
    concurrency,
    auth,
    known: { ...known, identities },
    progress: (sent) => console.error(`${sent} sent, ${((Date.now() - started) / 1000).toFixed(0)} s`)
  })
  return { ...result, seconds: (Date.now() - started) / 1000 }
})

console.log(JSON.stringify({ seed: report.seed, requests: report.requests, seconds: report.seconds, statuses: report.statuses }, null, 2))
for (const slow of report.slow) console.log("slow", JSON.stringify(slow))
for (const failure of report.failures) console.log(JSON.stringify(failure))
process.exitCode = report.failures.length > 0 ? 1 : 0
