import { spawn } from "node:child_process";

/** Outcome of one finished command. `code` is 124 when the command was killed for taking too long. */
export interface CommandResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
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
  /** The command's output goes to this process's stderr as it comes (apt's progress) instead of being kept. */
  inheritOutput?: boolean;
}

/**
 * Runs an argv array (never a shell) and collects its output. Never throws for a non-zero exit:
 * callers decide what a failure means.
 */
export function runCommand(argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) {
    return Promise.reject(new Error("runCommand needs a non-empty argv"));
  }
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      stdio: [
        "pipe",
        options.inheritOutput ? process.stderr : "pipe",
        options.inheritOutput ? process.stderr : "pipe",
      ],
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
    }, options.timeoutMs ?? 60_000);
    // EPIPE when the command exits before reading its stdin is not our failure to report.
    child.stdin?.on("error", () => {});
    child.stdin?.end(options.input ?? "");
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, stdout, stderr: `${stderr}${error.message}`, timedOut });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? 128), signal, stdout, stderr, timedOut });
    });
  });
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
