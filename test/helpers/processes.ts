import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { type ExitStatus, REPO_ROOT, recordChild, terminateChild, waitForChildExit } from "@labnet/devstack";
import { inject } from "vitest";
import { childRegistryOf } from "../setup/run";

/** A long-running process a test started; always ended by PID, also when the test fails. */
export interface TestProcess {
  name: string;
  pid: number;
  /** `<runDir>/logs/<name>.log`: everything it printed, each line prefixed with `[name]`. */
  logFile: string;
  /** Resolves when it has exited. */
  exited: Promise<ExitStatus>;
  /** Sends `signal` (default SIGTERM), waits up to 10 s, then SIGKILL. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** SIGKILL and wait. */
  kill(): Promise<ExitStatus>;
  /** The last 1,000 lines it printed (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the first line (already printed or to come) matching `pattern`; rejects on exit or timeout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

const MAX_LINES = 1_000;
const live = new Set<ChildProcess>();

// A worker that exits without running afterAll (crash, bail) still takes its children along.
process.once("exit", () => {
  for (const child of live) {
    child.kill("SIGKILL");
  }
});

/**
 * Spawns `argv` (no shell) from the repo root and tracks it: the per-file setup stops it after
 * the file, the global teardown and the next run's sweep kill it by PID if all else fails.
 * Output goes to a log file (and to stderr with LABNET_TEST_VERBOSE=1).
 */
export function startTestProcess(
  name: string,
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): TestProcess {
  const [file, ...args] = argv;
  if (file === undefined) {
    throw new Error(`empty argv for ${name}`);
  }
  const runDir = inject("runDir");
  const logDir = path.join(runDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(file, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) {
    log.end();
    throw new Error(`could not start ${name}: ${argv.join(" ")}`);
  }
  live.add(child);
  void recordChild(childRegistryOf(runDir), pid);

  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  const verbose = process.env.LABNET_TEST_VERBOSE === "1";
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
      lines.push(line);
      if (lines.length > MAX_LINES) {
        lines.shift();
      }
      log.write(`[${name}] ${line}\n`);
      if (verbose) {
        process.stderr.write(`[${name}] ${line}\n`);
      }
      for (const watcher of watchers) {
        watcher(line);
      }
    });
  }
  const exited = waitForChildExit(child).then((status) => {
    live.delete(child);
    log.end();
    return status;
  });

  return {
    name,
    pid,
    logFile,
    exited,
    stop: (signal = "SIGTERM") => terminateChild(child, { signal, timeoutMs: 10_000 }),
    kill: () => terminateChild(child, { signal: "SIGKILL" }),
    output: () => lines.join("\n"),
    waitForOutput: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((line) => pattern.test(line));
        if (seen !== undefined) {
          resolve(seen);
          return;
        }
        const finish = () => {
          clearTimeout(timer);
          watchers.delete(watch);
        };
        const watch = (line: string) => {
          if (pattern.test(line)) {
            finish();
            resolve(line);
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(
              `${name}: no output matching ${pattern} within ${timeoutMs} ms; last lines:\n${lines.slice(-30).join("\n")}`,
            ),
          );
        }, timeoutMs);
        watchers.add(watch);
        void exited.then((status) => {
          if (watchers.has(watch)) {
            finish();
            reject(
              new Error(
                `${name} exited (${status.signal ?? status.code}) before printing ${pattern}; last lines:\n${lines.slice(-30).join("\n")}`,
              ),
            );
          }
        });
      }),
  };
}

/** Stops every process this test file started that is still running (SIGTERM, then SIGKILL). */
export async function stopTestProcesses(): Promise<void> {
  await Promise.all(
    [...live].map((child) => terminateChild(child, { signal: "SIGTERM", timeoutMs: 10_000 })),
  );
}
