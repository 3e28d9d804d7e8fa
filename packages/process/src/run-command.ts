import { spawn } from "node:child_process";
import { constants } from "node:os";

/** The exit code of a command killed at its time limit (as coreutils' `timeout` reports it). */
export const EXIT_TIMED_OUT = 124;
/** The exit code of a command that could not start (as shells report it). */
export const EXIT_CANNOT_RUN = 127;

/** How one command ended. */
export interface CommandResult {
  /**
   * Its exit code; {@link EXIT_TIMED_OUT} when killed at its time limit, {@link EXIT_CANNOT_RUN}
   * when it could not start, 128 + N when something else killed it with signal N.
   */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** Its stderr; after a timeout, a last line says so. */
  stderr: string;
  timedOut: boolean;
  /** Why it could not start (ENOENT, EACCES ...), when code is {@link EXIT_CANNOT_RUN} for that. */
  spawnError?: Error;
}

export interface RunCommandOptions {
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Killed with SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Its output goes to this process's stderr as it comes (apt's progress) instead of being kept. */
  inheritOutput?: boolean;
}

/** A command's time limit unless its caller says. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Runs an argv array (never a shell) to its end and collects its output. Never rejects:
 * callers decide what an exit code means.
 *
 * @example
 * const { code, stdout } = await runCommand(["ip", "-j", "link", "show"], { timeoutMs: 5_000 });
 */
export function runCommand(argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) {
    return Promise.reject(new Error("runCommand needs a non-empty argv"));
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const output = options.inheritOutput ? process.stderr : "pipe";
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      shell: false,
      stdio: ["pipe", output, output],
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    // EPIPE when the command exits before reading its stdin: its exit code tells the story.
    child.stdin?.on("error", () => {});
    child.stdin?.end(options.input ?? "");
    let ended = false;
    const end = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (!ended) {
        ended = true;
        clearTimeout(timer);
        resolve(commandResult({ exitCode, signal, timedOut, timeoutMs, stdout, stderr, spawnError }));
      }
    };
    // Could not start (a `close` may follow: the promise is settled by then).
    child.on("error", (error) => end(null, null, error));
    child.on("close", (exitCode, signal) => end(exitCode, signal));
  });
}

/** What is known of a command when it has ended, before the conventions of {@link CommandResult}. */
export interface CommandEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  timeoutMs: number;
  stdout: string;
  stderr: string;
  /** Why it could not start. */
  spawnError?: Error | undefined;
}

/** The one place where an ending becomes an exit code (124 timed out, 127 could not start, 128 + N). */
export function commandResult(end: CommandEnd): CommandResult {
  const { exitCode, signal, timedOut, timeoutMs, stdout, stderr, spawnError } = end;
  if (spawnError) {
    return {
      code: EXIT_CANNOT_RUN,
      signal: null,
      stdout,
      stderr: `${stderr}${spawnError.message}`,
      timedOut,
      spawnError,
    };
  }
  const code = timedOut
    ? EXIT_TIMED_OUT
    : (exitCode ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
  return {
    code,
    signal,
    stdout,
    stderr: timedOut
      ? `${stderr}${stderr === "" || stderr.endsWith("\n") ? "" : "\n"}timed out after ${timeoutMs} ms`
      : stderr,
    timedOut,
  };
}

/** Like {@link runCommand}, but throws with the command and its stderr when it does not exit 0. */
export async function runCommandOrThrow(
  argv: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const result = await runCommand(argv, options);
  if (result.code !== 0) {
    const reason = result.timedOut ? "timed out" : `exited ${result.code}`;
    throw new Error(`\`${argv.join(" ")}\` ${reason}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result;
}
