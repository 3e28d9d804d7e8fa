import { homedir } from "node:os";
import { runCli } from "./program";

/** `labnet`: the process's own streams and environment. */
const code = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, env: process.env, home: homedir() },
  { completion: true },
);
process.exitCode = code;
