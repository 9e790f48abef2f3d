/**
 * The two gateways of the proxy benchmark, each started as its users start
 * it: the rtcp proxy by its command line (`apps/proxy/src/main.ts`, the
 * `npm run proxy` entry) and nginx from the Debian package as a plain
 * reverse proxy. Both log every request to a file, as they would in
 * production, and listen on loopback only.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Context } from "./benchmark.js"
import { sleep } from "./stats.js"
import { freePort } from "./worker.js"

export interface Gateway {
  readonly url: string
  /** Peak resident memory of the gateway's processes so far, in MB. */
  readonly maxRssMb: () => number
  /** CPU time of the gateway's processes so far (user and system), in ms: per request, a figure the machine's noise moves less than throughput. */
  readonly cpuMs: () => number
  readonly stop: () => Promise<void>
}

const peakRssMb = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
    return kb / 1024
  } catch {
    return 0
  }
}

const TICKS_PER_SECOND = 100

const cpuMsOf = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  try {
    // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesised command name.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND
  } catch {
    return 0
  }
}

const stopChild = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000)
    child.once("exit", () => {
      clearTimeout(killer)
      resolve()
    })
    child.kill("SIGTERM")
  })

/** Polls `url` until `ready` holds for its answer; fails with `details()` if the process exits or time runs out. */
const waitFor = async (
  url: string,
  what: string,
  child: ChildProcess,
  details: () => string,
  { ready = (response: Response) => response.ok, timeoutMs = 60_000 }: { readonly ready?: (response: Response) => boolean; readonly timeoutMs?: number } = {}
) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${details()}`)
    try {
      if (ready(await fetch(url))) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs / 1000} s: ${details()}`)
    await sleep(100)
  }
}

const tail = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-20).join("\n") : "")

// ---------------------------------------------------------------------------
// The rtcp proxy
// ---------------------------------------------------------------------------

/** The caller key of the benchmark: read access to every sandbox and a rate limit no load here reaches. */
export const PROXY_KEY = "rtcp-bench-caller-key"

export interface ProxyGateway extends Gateway {
  readonly opsUrl: string
  /** Calls the proxy made to Platform so far (every attempt), IMS not counted: its `/metrics`. */
  readonly upstreamCalls: () => Promise<number>
}

export const startProxy = async (
  context: Context,
  options: {
    readonly upstream: string
    readonly cacheTtl: string
    readonly name: string
    /** Extra node flags (`--cpu-prof`). */
    readonly nodeArgs?: ReadonlyArray<string> | undefined
    /** Replicas sharing state: the Redis URL and key prefix. */
    readonly redis?: { readonly url: string; readonly prefix: string } | undefined
    /** Extra proxy flags. */
    readonly args?: ReadonlyArray<string> | undefined
  }
): Promise<ProxyGateway> => {
  const dir = join(context.cacheDir, "proxy", options.name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const keys = join(dir, "proxy-keys.json")
  writeFileSync(
    keys,
    JSON.stringify({
      keys: [
        {
          name: "bench",
          sha256: createHash("sha256").update(PROXY_KEY).digest("hex"),
          sandboxes: ["*"],
          access: "read",
          rateLimit: { points: 1_000_000_000, duration: 1 }
        }
      ]
    })
  )
  const port = await freePort()
  const opsPort = await freePort()
  const logFile = join(dir, "proxy.log")
  const log = openSync(logFile, "w")
  // No AEP_* variables: the proxy must use the local service given as --upstream, never an org of the machine's environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AEP_") && !name.startsWith("RTCP_PROXY_")))
  const child = spawn(
    process.execPath,
    [
      "--conditions=@rtcp/source",
      "--import",
      "tsx",
      ...(options.nodeArgs ?? []),
      join(context.root, "apps", "proxy", "src", "main.ts"),
      // First: @effect/cli only recognises its built-in --log-level before the command's own flags ("Invalid subcommand" after them).
      "--log-level",
      "warning",
      "--port",
      String(port),
      "--ops-port",
      String(opsPort),
      "--upstream",
      options.upstream,
      "--keys",
      keys,
      "--cache-ttl",
      options.cacheTtl,
      ...(options.redis === undefined ? [] : ["--redis", options.redis.url, "--redis-prefix", options.redis.prefix]),
      ...(options.args ?? [])
    ],
    { cwd: context.root, env, stdio: ["ignore", log, log] }
  )
  closeSync(log)
  const url = `http://127.0.0.1:${port}`
  const opsUrl = `http://127.0.0.1:${opsPort}`
  try {
    await waitFor(`${opsUrl}/readyz`, "the proxy", child, () => tail(logFile))
  } catch (error) {
    await stopChild(child)
    throw error
  }
  return {
    url,
    opsUrl,
    maxRssMb: () => peakRssMb(child.pid),
    cpuMs: () => cpuMsOf(child.pid),
    upstreamCalls: async () => {
      const text = await (await fetch(`${opsUrl}/metrics`)).text()
      let total = 0
      for (const line of text.split("\n")) {
        if (!line.startsWith("rtcp_proxy_upstream_requests_total{")) continue
        if (/endpoint="\/ims/.test(line)) continue
        total += Number(line.slice(line.lastIndexOf(" ") + 1))
      }
      return total
    },
    stop: () => stopChild(child)
  }
}

// ---------------------------------------------------------------------------
// nginx
// ---------------------------------------------------------------------------

/** The nginx binary of the Debian package, or undefined when it is not installed. */
export const nginxBinary = (): string | undefined => {
  for (const candidate of ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"]) {
    if (existsSync(candidate)) return candidate
  }
  try {
    return execFileSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" }).trim() || undefined
  } catch {
    return undefined
  }
}

export const nginxVersion = (binary: string): string => {
  // `nginx -v` prints on stderr.
  const { stderr, stdout } = spawnSync(binary, ["-v"], { encoding: "utf8" })
  return `${stdout ?? ""}${stderr ?? ""}`.trim() || "nginx (version unknown)"
}

/**
 * A plain reverse proxy: one worker process (the rtcp proxy is one Node
 * process; both then get one core), HTTP/1.1 keep-alive to the upstream,
 * the default access log to a file, no cache.
 */
export const startNginx = async (context: Context, options: { readonly upstream: string; readonly binary: string }): Promise<Gateway> => {
  const prefix = join(context.cacheDir, "nginx")
  rmSync(prefix, { recursive: true, force: true })
  mkdirSync(join(prefix, "logs"), { recursive: true })
  const port = await freePort()
  const upstream = new URL(options.upstream)
  const conf = join(prefix, "nginx.conf")
  writeFileSync(
    conf,
    `worker_processes 1;
pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "logs", "error.log")} warn;
events { worker_connections 1024; }
http {
  access_log ${join(prefix, "logs", "access.log")};
  client_body_temp_path ${join(prefix, "body")};
  proxy_temp_path ${join(prefix, "proxy")};
  fastcgi_temp_path ${join(prefix, "fastcgi")};
  uwsgi_temp_path ${join(prefix, "uwsgi")};
  scgi_temp_path ${join(prefix, "scgi")};
  upstream profile_service {
    server ${upstream.hostname}:${upstream.port};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://profile_service;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`
  )
  const logFile = join(prefix, "logs", "error.log")
  const child = spawn(options.binary, ["-p", prefix, "-c", conf, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const url = `http://127.0.0.1:${port}`
  try {
    // Any answer means it listens; the upstream's 401 for a bare GET / is fine.
    await waitFor(url, "nginx", child, () => `${stderr}${tail(logFile)}`, { ready: () => true, timeoutMs: 20_000 })
  } catch (error) {
    await stopChild(child)
    throw error
  }
  const workerPid = () => {
    try {
      const children = execFileSync("pgrep", ["-P", String(child.pid)], { encoding: "utf8" }).trim().split("\n")
      return Number(children[0])
    } catch {
      return undefined
    }
  }
  const worker = workerPid()
  return {
    url,
    maxRssMb: () => peakRssMb(child.pid) + peakRssMb(worker),
    cpuMs: () => cpuMsOf(child.pid) + cpuMsOf(worker),
    // nginx stops gracefully on SIGQUIT; SIGTERM is its fast shutdown, enough here.
    stop: () => stopChild(child)
  }
}
