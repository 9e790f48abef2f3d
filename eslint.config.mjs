// Lint rules for every project, and the module boundaries of the workspace.
//
// Boundaries are derived from the Nx project tags in each package.json
// ("nx": { "tags": [...] }), so the tags are the single source of truth:
// a project's tags decide which imports ESLint refuses in its sources.
import { readFileSync, readdirSync, existsSync } from "node:fs"
import { join } from "node:path"
import tseslint from "typescript-eslint"

const root = import.meta.dirname
const projects = ["packages", "apps", "tools"].flatMap((dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .map((name) => join(dir, name))
        .filter((path) => existsSync(join(root, path, "package.json")))
        .map((path) => {
          const pkg = JSON.parse(readFileSync(join(root, path, "package.json"), "utf8"))
          return { path, name: pkg.name, tags: pkg.nx?.tags ?? [] }
        })
    : []
)

const nodeBuiltins = ["node:*", "fs", "path", "os", "http", "https", "net", "child_process", "crypto", "url", "stream", "worker_threads"]
const uiAndServer = ["hono", "hono/*", "@hono/*", "ink", "ink-*", "@inkjs/*", "react", "react/*"]

// What a project carrying a tag may not import.
const constraints = {
  // The core runs in Node, Bun, Deno, browsers and workers: no Node-only
  // module, no platform layer, no UI or server framework.
  "platform:any": {
    patterns: [...nodeBuiltins, "@effect/platform-node", "@effect/platform-node/*", "@effect/sql*", "better-sqlite3", ...uiAndServer],
    message: "@rtcp/core must stay platform-neutral: apps provide Node layers, UI and servers."
  },
  // Apps compose packages and never each other.
  "type:app": {
    patterns: projects.filter((p) => p.tags.includes("type:app")).map((p) => p.name),
    message: "Apps depend on packages, never on each other."
  },
  // Libraries serve apps; they never import one, nor a tool (a published
  // package cannot depend on something that is not published).
  "type:lib": {
    patterns: projects.filter((p) => p.tags.includes("type:app") || p.tags.includes("type:tool")).map((p) => p.name),
    message: "A library never imports an app or a tool."
  },
  "type:store": {
    patterns: [
      ...uiAndServer,
      "@effect/platform/HttpApiBuilder",
      "@effect/platform/HttpServer*",
      "@effect/platform-node",
      ...projects.filter((p) => p.tags.includes("type:app") || p.tags.includes("type:tool")).map((p) => p.name)
    ],
    message: "@rtcp/profile-store knows nothing about HTTP and never imports an app or a tool."
  },
  // Packages never depend on apps or tools.
  "type:core": {
    patterns: projects.filter((p) => !p.tags.includes("type:core")).map((p) => p.name),
    message: "@rtcp/core depends on no other project."
  }
}

const boundaryConfigs = projects.flatMap((project) =>
  project.tags
    .filter((tag) => constraints[tag] && constraints[tag].patterns.some((name) => name !== project.name))
    .map((tag) => ({
      files: [`${project.path}/src/**/*.{ts,tsx}`],
      rules: {
        "no-restricted-imports": [
          "error",
          {
            patterns: [
              {
                group: constraints[tag].patterns.filter((name) => name !== project.name),
                message: constraints[tag].message
              }
            ]
          }
        ]
      }
    }))
)

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", ".nx/**", ".rtcp/**", "bench/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-namespace": "off"
    }
  },
  // The store types its SQL rows (src/migrations/rows.ts): no `any` there.
  {
    files: ["packages/profile-store/src/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "error" }
  },
  ...boundaryConfigs
)
