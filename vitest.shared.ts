import { defineConfig } from "vitest/config"

// Workspace packages resolve to their TypeScript sources through the
// "@rtcp/source" export condition, so tests never need a build step.
export const shared = defineConfig({
  resolve: { conditions: ["@rtcp/source"] },
  ssr: { resolve: { conditions: ["@rtcp/source"] } },
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 30_000,
    hookTimeout: 60_000
  }
})
