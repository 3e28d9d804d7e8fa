/**
 * The reaper of a bench that starts a Labnet stack (provision, labs): started detached (its own
 * session, so a terminal's Ctrl-C does not reach it) with the run's host namespace as its argument
 * and a pipe from the run on stdin.
 * When the pipe closes without the run having written `done` (the run was killed: the bench
 * harness SIGKILLs it on Ctrl-C), it ends the run's gateway, executor, Redis and Postgres and
 * removes the resolver files the executor wrote; the harness removes the namespaces, and the
 * logs stay for the next run's sweep.
 */
import { cleanUpRun, STACK_RUN } from "./run-dir";

const hostNetns = process.argv[2] ?? "";
if (!STACK_RUN.test(hostNetns)) {
  process.stderr.write(`reaper: not a stack bench namespace: ${JSON.stringify(hostNetns)}\n`);
  process.exit(2);
}

let received = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  received += chunk;
});
let finishing = false;
const finish = () => {
  if (finishing) {
    return;
  }
  finishing = true;
  if (received.includes("done")) {
    process.exit(0);
  }
  cleanUpRun(hostNetns, { keepLogs: true, namespaces: false })
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      process.stderr.write(`reaper: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
};
process.stdin.on("end", finish);
process.stdin.on("error", finish);
