/**
 * rtcp as another team gets it: every package and app packed with `npm pack`,
 * the tarballs installed into a project outside the workspace, a strict
 * `module: nodenext` TypeScript program compiled against the published types
 * and run with plain node against `rtcp-service` started from its installed
 * bin, and a vitest test that uses the emulator library.
 *
 * Nothing here uses the network: the install runs `--offline` from the npm
 * cache that `npm ci` filled. A fresh project has no lock and npm would ask
 * the registry for every package's metadata, so the project gets a lock
 * derived from the workspace's (the same versions the workspace tests), with
 * the tarballs in the places of the workspace links.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify, stripVTControlCharacters } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, "../../..")
const fixture = resolve(here, "../fixture")

/** What is published, by workspace folder. */
const published = [
  "packages/core",
  "packages/profile-store",
  "packages/local-platform",
  "packages/seed",
  "packages/command-line",
  "apps/profile-service",
  "apps/proxy",
  "apps/dashboard"
] as const

/** Third-party packages the consumer itself imports or runs, at the workspace's versions. */
const consumerDependencies = ["effect", "@effect/platform"]
const consumerDevDependencies = ["typescript", "@types/node", "vitest", "@effect/vitest"]

const installedVersion = (name: string): string =>
  JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version

/** The child processes of this test see no workspace condition, no tsx and no test runner's options. */
const plainEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  delete env.NODE_OPTIONS
  for (const key of Object.keys(env)) if (key.startsWith("VITEST") || key === "TSX_TSCONFIG_PATH") delete env[key]
  return env
}

interface Packed {
  readonly name: string
  readonly filename: string
  readonly size: number
  readonly files: ReadonlyArray<string>
}

let work: string
let project: string
let tarballs: Array<Packed> = []

const pack = async (folder: string): Promise<Packed> => {
  // The build ran before this test (Nx: the test target depends on every package's build); prepack would run it again.
  const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", join(work, "tarballs")], {
    cwd: join(root, folder),
    env: plainEnv()
  })
  const [result] = JSON.parse(stdout) as Array<{ name: string; filename: string; size: number; files: Array<{ path: string }> }>
  return { name: result!.name, filename: result!.filename, size: result!.size, files: result!.files.map((file) => file.path) }
}

/**
 * Where the registry keeps a package's tarball. A lock written with
 * `omit-lockfile-registry-resolved` has no such address, and npm would then
 * ask the registry for the package's metadata first, which an offline
 * install cannot (ENOTCACHED) once that metadata was ever cached in another
 * form; with the address the tarball comes from the cache by its integrity.
 */
const registry = (process.env.npm_config_registry ?? "https://registry.npmjs.org/").replace(/\/?$/, "/")
const tarballUrl = (path: string, version: string) => {
  const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length)
  return `${registry}${name}/-/${name.split("/").pop()}-${version}.tgz`
}

/**
 * The workspace lock, re-rooted at the consumer: every registry package of
 * the workspace at its place (npm prunes what the consumer does not reach),
 * and the tarballs instead of the workspace links.
 */
const consumerLock = (manifest: { dependencies: Record<string, string>; devDependencies: Record<string, string> }) => {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"))
  const packages: Record<string, any> = { "": { name: "consumer", version: "0.0.0", ...manifest } }
  for (const [path, entry] of Object.entries<any>(lock.packages)) {
    if (!path.startsWith("node_modules/") || entry.link === true) continue
    packages[path] = entry.resolved === undefined && entry.integrity !== undefined ? { ...entry, resolved: tarballUrl(path, entry.version) } : entry
  }
  for (const tarball of tarballs) {
    const manifestOf = JSON.parse(readFileSync(join(root, "node_modules", tarball.name, "package.json"), "utf8"))
    packages[`node_modules/${tarball.name}`] = {
      version: manifestOf.version,
      resolved: `file:../tarballs/${tarball.filename}`,
      license: manifestOf.license,
      ...(manifestOf.dependencies ? { dependencies: manifestOf.dependencies } : {}),
      ...(manifestOf.bin ? { bin: manifestOf.bin } : {}),
      ...(manifestOf.engines ? { engines: manifestOf.engines } : {})
    }
  }
  return { name: "consumer", version: "0.0.0", lockfileVersion: 3, requires: true, packages }
}

const waitForListening = (child: ChildProcess): Promise<string> =>
  new Promise((resolveUrl, reject) => {
    let output = ""
    const timer = setTimeout(() => reject(new Error(`rtcp-service did not say where it listens within 60 s:\n${output}`)), 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /Listening on (http:\/\/[\d.]+:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolveUrl(match[1]!)
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`rtcp-service exited with ${code} before listening:\n${output}`))
    })
  })

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "rtcp-consumer-"))
  project = join(work, "project")
  mkdirSync(join(work, "tarballs"))
  const started = performance.now()
  tarballs = await Promise.all(published.map(pack))
  const packed = performance.now()

  cpSync(fixture, project, { recursive: true })
  const manifest = {
    private: true,
    type: "module",
    dependencies: {
      ...Object.fromEntries(tarballs.map((tarball) => [tarball.name, `file:../tarballs/${tarball.filename}`])),
      ...Object.fromEntries(consumerDependencies.map((name) => [name, installedVersion(name)]))
    },
    devDependencies: Object.fromEntries(consumerDevDependencies.map((name) => [name, installedVersion(name)]))
  }
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "0.0.0", ...manifest }, null, 2))
  writeFileSync(join(project, "package-lock.json"), JSON.stringify(consumerLock(manifest), null, 2))
  // better-sqlite3 compiles from source: no prebuilt download (there is no network), headers from npm's nodedir.
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: project,
    env: plainEnv({ npm_config_build_from_source: "true" }),
    maxBuffer: 64 * 1024 * 1024
  }).catch((error) => {
    throw new Error(`npm install of the tarballs failed:\n${error.stdout}\n${error.stderr}`)
  })
  const seconds = (ms: number) => (ms / 1000).toFixed(1)
  console.info(`packed ${tarballs.length} tarballs in ${seconds(packed - started)} s, installed them in ${seconds(performance.now() - packed)} s`)
})

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

describe("the published packages", () => {
  it("hold their build, their sources for the maps, and no tests", () => {
    for (const tarball of tarballs) {
      expect(tarball.files, tarball.name).toContain("package.json")
      expect(tarball.files.some((file) => file.startsWith("dist/") && file.endsWith(".js")), tarball.name).toBe(true)
      expect(tarball.files.filter((file) => file.startsWith("test/") || file.includes(".test.")), tarball.name).toEqual([])
    }
    const core = tarballs.find((tarball) => tarball.name === "@rtcp/core")!
    expect(core.files).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts", "dist/index.d.ts.map", "dist/index.js.map", "src/index.ts"]))
  })

  it("depend on versions, never on the workspace", () => {
    for (const tarball of tarballs) {
      const manifest = JSON.parse(readFileSync(join(project, "node_modules", tarball.name, "package.json"), "utf8"))
      for (const [name, range] of Object.entries<string>(manifest.dependencies ?? {})) {
        expect(range, `${tarball.name} -> ${name}`).toMatch(/^[~^]?\d+\.\d+\.\d+/)
      }
    }
  })

  it("compile into a strict nodenext TypeScript program, which reads Jane Doe from rtcp-service with plain node", async () => {
    await run(process.execPath, [join(project, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: project, env: plainEnv() }).catch(
      (error) => {
        throw new Error(`tsc failed:\n${error.stdout}\n${error.stderr}`)
      }
    )
    expect(existsSync(join(project, "dist/readJane.js"))).toBe(true)

    const service = spawn(join(project, "node_modules/.bin/rtcp-service"), ["--port", "0", "--data", ":memory:", "--seed", "demo", "--seed-profiles", "100"], {
      cwd: project,
      env: plainEnv(),
      stdio: ["ignore", "pipe", "pipe"]
    })
    try {
      const baseUrl = await waitForListening(service)
      const { stdout } = await run(process.execPath, ["dist/readJane.js"], {
        cwd: project,
        env: plainEnv({
          AEP_PLATFORM_URL: baseUrl,
          AEP_IMS_URL: baseUrl,
          AEP_CLIENT_ID: "rtcp-local",
          AEP_CLIENT_SECRET: "rtcp-local-secret",
          AEP_ORG_ID: "RTCPLOCAL@AdobeOrg"
        })
      })
      const jane = JSON.parse(stdout)
      expect(jane.entity.person.name).toMatchObject({ lastName: "Doe" })
      expect(JSON.stringify(jane.entity.identities ?? jane.entity)).toContain("jane.doe@example.com")
    } finally {
      service.kill("SIGTERM")
    }
  })

  it("run another team's vitest test on the emulator library", async () => {
    const { stdout } = await run(process.execPath, [join(project, "node_modules/vitest/vitest.mjs"), "run", "--reporter=verbose"], {
      cwd: project,
      env: plainEnv({ CI: "true", NO_COLOR: "1" })
    }).catch((error) => {
      throw new Error(`the consumer's vitest run failed:\n${error.stdout}\n${error.stderr}`)
    })
    const report = stripVTControlCharacters(stdout)
    expect(report).toMatch(/reads Jane Doe/)
    expect(report).toMatch(/Tests\s+2 passed/)
  })

  it("run their bins with plain node", async () => {
    for (const [bin, args] of [
      ["rtcp-service", ["--help"]],
      ["rtcp-proxy", ["--help"]],
      ["rtcp", ["--help"]]
    ] as const) {
      const { stdout } = await run(join(project, "node_modules/.bin", bin), [...args], { cwd: project, env: plainEnv() })
      expect(stdout, bin).toMatch(/USAGE/)
    }
  })
})
