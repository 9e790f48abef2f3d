/**
 * Entry point of `npm start`. Loading Effect, Ink and the local platform
 * takes seconds under tsx, so before any of it loads this writes one line
 * saying the dashboard is starting; the first other output (the dashboard
 * entering the alternate screen, `--help`, an error) erases it first.
 * Nothing else happens here: see `cli.tsx`.
 */
const interactive = process.stdout.isTTY === true && process.stdin.isTTY === true

if (interactive) {
  const write = process.stdout.write.bind(process.stdout) as typeof process.stdout.write
  const restore = () => {
    process.stdout.write = write
    write("\r\u001b[2K")
  }
  process.stdout.write = ((...args: Parameters<typeof write>) => {
    restore()
    return write(...args)
  }) as typeof process.stdout.write
  write("\u001b[1;36m rtcp \u001b[0m\u001b[90mstarting the dashboard…\u001b[0m")
}

await import("./cli.js")

export {}
