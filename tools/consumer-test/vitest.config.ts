import { mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

// Packing, installing (better-sqlite3 compiles from source) and compiling take minutes, not seconds.
export default mergeConfig(shared, { test: { testTimeout: 120_000, hookTimeout: 900_000 } })
