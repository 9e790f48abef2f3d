import { connect } from "node:net"
import type { TestProjectInlineConfiguration } from "vitest/config"

/**
 * The store's test matrix: every test of a project runs once on SQLite
 * (project `sqlite`) and once on PostgreSQL (project `postgres`, with
 * `RTCP_TEST_DIALECT=postgres`) when the server at `RTCP_TEST_DATABASE_URL`
 * answers. In CI it must answer: a missing server fails the run rather than
 * skipping half the matrix. `RTCP_TEST_DIALECT=sqlite` (or `postgres`) runs
 * one side only.
 */
export const dialectProjects = async (): Promise<Array<TestProjectInlineConfiguration>> => {
  const url = process.env.RTCP_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"
  const only = process.env.RTCP_TEST_DIALECT
  const sqlite: TestProjectInlineConfiguration = {
    extends: true,
    test: { name: "sqlite", env: { RTCP_TEST_DIALECT: "sqlite" } }
  }
  const postgres: TestProjectInlineConfiguration = {
    extends: true,
    // Every statement crosses a socket: a test takes a few times longer than on SQLite.
    test: { name: "postgres", env: { RTCP_TEST_DIALECT: "postgres", RTCP_TEST_DATABASE_URL: url }, testTimeout: 90_000 }
  }
  if (only === "sqlite") return [sqlite]
  const answers = await reachable(url)
  if (!answers) {
    const message = `PostgreSQL does not answer at ${url} (set RTCP_TEST_DATABASE_URL)`
    if (process.env.CI === "true" || process.env.CI === "1" || only === "postgres") throw new Error(`${message}: the postgres half of the test matrix cannot run`)
    console.warn(`${message}: running the SQLite half of the test matrix only`)
    return [sqlite]
  }
  return only === "postgres" ? [postgres] : [sqlite, postgres]
}

const reachable = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url)
    const socket = connect(Number(port || 5432), hostname)
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
    socket.setTimeout(2000, () => done(false))
  })
