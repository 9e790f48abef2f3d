/**
 * Copying (`y`, `Y`, `:link`): through the terminal's clipboard with OSC 52
 * where the terminal is known to accept it, else into a file whose path the
 * status line gives. Which terminals accept OSC 52 cannot be asked, so it
 * is decided from the environment; `RTCP_CLIPBOARD=osc52|file` overrides.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export type Copied = { readonly via: "osc52" } | { readonly via: "file"; readonly path: string }

export interface ClipboardTarget {
  readonly write: (data: string) => unknown
  readonly isTTY?: boolean | undefined
}

/** Terminals that set the clipboard on OSC 52 by default. */
const osc52Programs = ["iTerm.app", "WezTerm", "vscode", "ghostty", "Apple_Terminal_OSC52"]
const osc52Terms = /^(xterm-kitty|alacritty|foot|wezterm|xterm-ghostty|contour)/

export const supportsOsc52 = (env: NodeJS.ProcessEnv, target: ClipboardTarget): boolean => {
  if (env.RTCP_CLIPBOARD === "osc52") return true
  if (env.RTCP_CLIPBOARD === "file") return false
  if (target.isTTY !== true) return false
  // tmux and screen drop OSC 52 from programs unless told otherwise (set-clipboard on): a file is sure to work.
  if (env.TMUX || env.STY) return false
  return osc52Programs.includes(env.TERM_PROGRAM ?? "") || osc52Terms.test(env.TERM ?? "")
}

export const osc52 = (text: string): string => `\u001b]52;c;${Buffer.from(text, "utf8").toString("base64")}\u0007`

/** Where copies go when the clipboard cannot be reached. */
export const defaultDirectory = (env: NodeJS.ProcessEnv): string => env.RTCP_YANK_DIR ?? join(tmpdir(), "rtcp")

let counter = 0

export const copy = (text: string, options: { readonly target: ClipboardTarget; readonly env?: NodeJS.ProcessEnv; readonly directory?: string | undefined; readonly now: number }): Copied => {
  const env = options.env ?? process.env
  if (supportsOsc52(env, options.target)) {
    options.target.write(osc52(text))
    return { via: "osc52" }
  }
  const directory = options.directory ?? defaultDirectory(env)
  mkdirSync(directory, { recursive: true })
  const stamp = new Date(options.now).toISOString().replace(/[:.]/g, "-")
  const path = join(directory, `rtcp-copy-${stamp}-${++counter}.txt`)
  writeFileSync(path, text.endsWith("\n") ? text : `${text}\n`)
  return { via: "file", path }
}
