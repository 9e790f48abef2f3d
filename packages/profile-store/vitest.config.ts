import { mergeConfig } from "vitest/config"
import { dialectProjects } from "../../vitest.dialects.js"
import { shared } from "../../vitest.shared.js"

// The whole suite on SQLite and, where a server answers, on PostgreSQL.
export default mergeConfig(shared, { test: { projects: await dialectProjects() } })
