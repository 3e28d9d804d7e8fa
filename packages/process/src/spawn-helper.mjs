// The process starter (spawner.ts): a small Node process that starts commands for a large one.
// Starting a process copies the page tables of the one that starts it: ~1.4 ms of CPU from a
// process this size, ~8 ms from an executor of 250 MB, during which its event loop stands
// still. Plain JavaScript, so it starts without a TypeScript loader (which doubles its size).
//
// Reads requests, one JSON line each: {"id", "argv", "input", "timeoutMs"}. Answers each when
// its command has ended with a JSON line {"id", "exitCode", "signal", "timedOut", "error"?,
// "out", "err"} followed by `out` bytes of stdout and `err` bytes of stderr. Argv arrays only,
// never a shell. Leaves once its stdin is closed (its parent is gone) and its commands ended.
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";

// A plain copy: spawn reads every variable of the environment it is given.
const env = { ...process.env };

// Where each program name was found on PATH: found once, not by a failed execve per directory
// before it on every start (which the start waits for).
const found = new Map();
function located(file) {
  if (file.includes("/")) {
    return file;
  }
  let at = found.get(file);
  if (at === undefined) {
    at = file;
    for (const dir of (env.PATH ?? "").split(":")) {
      const candidate = path.join(dir || ".", file);
      const stat = statSync(candidate, { throwIfNoEntry: false });
      if (stat?.isFile() && (stat.mode & 0o111) !== 0) {
        at = candidate;
        break;
      }
    }
    // Not found stays the bare name: spawn then reports ENOENT, as it would have.
    if (at !== file) {
      found.set(file, at);
    }
  }
  return at;
}

// A terminal's Ctrl-C reaches the whole process group; the parent decides when work stops.
process.on("SIGINT", () => {});

createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
  const request = JSON.parse(line);
  run(request);
});

function run({ id, argv, input, timeoutMs }) {
  const [file, ...args] = argv;
  const out = [];
  const err = [];
  let timedOut = false;
  let timer;
  let answered = false;
  const answer = (exitCode, signal, error) => {
    if (answered) {
      return;
    }
    answered = true;
    clearTimeout(timer);
    const stdout = Buffer.concat(out);
    const stderr = Buffer.concat(err);
    const head = { id, exitCode, signal, timedOut, out: stdout.length, err: stderr.length };
    if (error) {
      head.error = { message: error.message, code: error.code };
    }
    process.stdout.write(Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`), stdout, stderr]));
  };
  let child;
  try {
    // argv0 stays the name the caller gave (what the program sees in argv[0]).
    child = spawn(located(file), args, { argv0: file, shell: false, stdio: ["pipe", "pipe", "pipe"], env });
  } catch (error) {
    // Arguments spawn refuses outright (a NUL byte in one): the command never started.
    answer(null, null, error);
    return;
  }
  timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  child.stdout.on("data", (chunk) => out.push(chunk));
  child.stderr.on("data", (chunk) => err.push(chunk));
  // EPIPE when the command exits before reading its stdin: its exit code tells the story.
  child.stdin.on("error", () => {});
  child.stdin.end(input ?? "");
  // Could not start (ENOENT, EACCES): a `close` may follow, and is ignored.
  child.on("error", (error) => answer(null, null, error));
  child.on("close", (exitCode, signal) => answer(exitCode, signal));
}
