/**
 * Starts `rtcp-service` as a process, as a user would. The one place that says
 * how: today through tsx from the sources; when the bin runs compiled
 * JavaScript, change `command` alone.
 */
import { CommandLineTest } from "@rtcp/command-line"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export type Finished = CommandLineTest.Finished
export type Running = CommandLineTest.Running

const app = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

export const command: CommandLineTest.CommandSpec = {
  executable: process.execPath,
  args: ["--conditions=@rtcp/source", "--import", "tsx", "src/main.ts"],
  cwd: app
}

type Options = CommandLineTest.RunOptions & { readonly command?: CommandLineTest.CommandSpec }

/** Runs the command line to its end (killed after `timeoutMs`); never rejects on a non-zero exit. */
export const cli = (args: ReadonlyArray<string>, options: Options = {}) => CommandLineTest.run(options.command ?? command, args, options)

/** Starts the command line and resolves once stdout matches `ready`. */
export const start = (args: ReadonlyArray<string>, ready: RegExp, options: Options = {}) =>
  CommandLineTest.start(options.command ?? command, args, ready, options)

export const expectUsageError = CommandLineTest.expectUsageError
