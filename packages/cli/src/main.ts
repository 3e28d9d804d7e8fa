import { homedir } from "node:os";
import { runCli } from "./program";

/** `labnet`: the process's own streams and environment. */
const code = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, env: process.env, home: homedir() },
  { completion: true },
);
process.exitCode = code;
// The command is done: an idle keep-alive socket or a library's timer must not hold the shell
// prompt (stdout and stderr are synchronous on Linux ttys, files and pipes, so nothing is lost).
setTimeout(() => process.exit(code), 1_000).unref();
