/**
 * The service as a child process on a loopback port, as a user runs it, and
 * a small authenticated fetch against it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const app = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

export interface RunningService {
  readonly child: ChildProcess
  readonly baseUrl: string
  /** Everything the process printed so far. */
  readonly output: () => string
  readonly exited: Promise<number | null>
}

/** Starts `src/main.ts` with `args` (plus `--port 0`) and resolves once it listens. */
export const startService = (args: ReadonlyArray<string>): Promise<RunningService> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=@rtcp/source", "--import", "tsx", "src/main.ts", "--port", "0", ...args], {
      cwd: app,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`the service did not start within 60s:\n${output}`))
    }, 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const url = /Listening on (http:\/\/[^\s"]+)/.exec(output)?.[1]
      if (url !== undefined) {
        clearTimeout(timer)
        child.stdout!.off("data", onData)
        child.stdout!.on("data", (more: Buffer) => void (output += more.toString()))
        resolve({ child, baseUrl: url.replace(/\/$/, ""), output: () => output, exited })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", (chunk: Buffer) => void (output += chunk.toString()))
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`the service exited (${code}) before listening:\n${output}`))
    })
  })

export const demo = { clientId: "rtcp-local", clientSecret: "rtcp-local-secret", orgId: "RTCPLOCAL@AdobeOrg" }

/** A fetch with the gateway headers of the demo client. */
export const platform = async (baseUrl: string, sandbox = "prod") => {
  const tokenAnswer = await fetch(`${baseUrl}/ims/token/v3`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: demo.clientId, client_secret: demo.clientSecret })
  })
  const token = ((await tokenAnswer.json()) as { access_token: string }).access_token
  return async (method: string, path: string, body?: unknown, contentType = "application/json") => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        "x-api-key": demo.clientId,
        "x-gw-ims-org-id": demo.orgId,
        "x-sandbox-name": sandbox,
        ...(body === undefined ? {} : { "content-type": contentType })
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = text === "" ? undefined : JSON.parse(text)
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed as any }
  }
}
