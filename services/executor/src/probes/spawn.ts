/**
 * The probes' own small spawner: argv arrays only (never a shell), each checked by
 * {@link assertProbeArgv} before it is spawned, a hard time limit on every process, and
 * listeners that are always killed by their PID (when the probe ends, when their lifetime
 * runs out, and when the executor exits).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { assertProbeArgv } from "./argv";

/** Output kept per process; the result carries less (see {@link trimOutput}). */
const OUTPUT_KEEP = 16 * 1024;

export interface CommandResult {
  /** Exit code; -1 when killed (time limit) or it could not start. */
  code: number;
  /** stdout and stderr, in the order they arrived. */
  output: string;
  timedOut: boolean;
}

/** Listeners alive now, so that an exiting executor leaves none behind. */
const liveListeners = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) {
    return;
  }
  exitHookInstalled = true;
  // `exit` handlers run synchronously; process.kill of a PID is synchronous too.
  process.once("exit", () => {
    for (const child of liveListeners) {
      killChild(child);
    }
  });
}

function killChild(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

function collect(child: ChildProcess): () => string {
  let text = "";
  const append = (chunk: Buffer) => {
    if (text.length < OUTPUT_KEEP) {
      text += chunk.toString("utf8");
    }
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  return () => text;
}

/**
 * Runs one probe command to its end, killed (SIGKILL, by PID) after `timeoutMs`. Never
 * rejects for the command's sake: a program that cannot start is exit code -1 with the reason
 * as output.
 */
export function runProbeCommand(
  argv: readonly string[],
  options: { stdin?: string; timeoutMs: number },
): Promise<CommandResult> {
  assertProbeArgv(argv);
  const [command, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    const child = spawn(command, args, { shell: false, stdio: ["pipe", "pipe", "pipe"] });
    const output = collect(child);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killChild(child);
    }, options.timeoutMs);
    child.stdin?.on("error", () => undefined);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: -1, output: `${output()}${error.message}`, timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output: output(), timedOut });
    });
    child.stdin?.end(options.stdin ?? "");
  });
}

/** A listener process started for one probe. */
export interface Listener {
  readonly pid: number | undefined;
  /** What it printed so far (a UDP listener prints what it received). */
  output(): string;
  /** Its exit code once it exited on its own (a port in use, ...), else undefined. */
  exitCode(): number | undefined;
  /**
   * True once its socket is open in its namespace: the process is `nc` (`ip netns exec` has
   * exec'd it, so the PID is nc's) and `/proc/<pid>/net/<protocol>` lists the port as
   * listening (TCP) or bound (UDP). False when it exited or `deadline` passed first.
   */
  waitListening(deadline: number): Promise<boolean>;
  /** Kills it by PID and waits for it to be gone. */
  stop(): Promise<void>;
}

/**
 * Starts a listener (`[ip netns exec NS] nc -l ...`), killed by PID after `lifetimeMs` at the
 * latest, whatever happens to the probe.
 */
export function startListener(
  argv: readonly string[],
  options: { protocol: "tcp" | "udp"; port: number; lifetimeMs: number },
): Listener {
  assertProbeArgv(argv);
  installExitHook();
  const [command, ...args] = argv as [string, ...string[]];
  const child = spawn(command, args, { shell: false, stdio: ["ignore", "pipe", "pipe"] });
  liveListeners.add(child);
  const output = collect(child);
  let startError = "";
  const closed = new Promise<void>((resolve) => {
    child.on("close", () => resolve());
    child.on("error", (error) => {
      startError = error.message;
      resolve();
    });
  }).finally(() => {
    liveListeners.delete(child);
    clearTimeout(lifetime);
  });
  const lifetime = setTimeout(() => killChild(child), options.lifetimeMs);
  const exited = () => child.exitCode !== null || child.signalCode !== null || startError !== "";
  return {
    pid: child.pid,
    output: () => `${output()}${startError}`,
    exitCode: () => (exited() ? (child.exitCode ?? -1) : undefined),
    async waitListening(deadline) {
      while (Date.now() < deadline && !exited()) {
        if (child.pid !== undefined && (await isListening(child.pid, options.protocol, options.port))) {
          return true;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      return false;
    },
    async stop() {
      killChild(child);
      await closed;
    },
  };
}

/** TCP LISTEN in /proc/net/tcp; an unconnected UDP socket shows as state 07 (CLOSE). */
const LISTEN_STATE = { tcp: "0A", udp: "07" } as const;

/** Whether process `pid` is nc and has `port` open in its own network namespace. */
async function isListening(pid: number, protocol: "tcp" | "udp", port: number): Promise<boolean> {
  try {
    const comm = (await readFile(`/proc/${pid}/comm`, "utf8")).trim();
    if (comm !== "nc") {
      return false; // still `ip`, before it entered the namespace
    }
    const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
    for (const table of [protocol, `${protocol}6`]) {
      const text = await readFile(`/proc/${pid}/net/${table}`, "utf8").catch(() => "");
      for (const line of text.split("\n").slice(1)) {
        const [, local, , state] = line.trim().split(/\s+/);
        if (local?.endsWith(`:${hexPort}`) && state === LISTEN_STATE[protocol]) {
          return true;
        }
      }
    }
  } catch {
    // The process is gone.
  }
  return false;
}

/** At most ~2 KB of evidence: the head and the tail of longer output. */
export function trimOutput(text: string, max = 2048): string {
  const trimmed = text.trim();
  if (trimmed.length <= max) {
    return trimmed;
  }
  const half = Math.floor((max - 20) / 2);
  return `${trimmed.slice(0, half)}\n[... trimmed ...]\n${trimmed.slice(-half)}`;
}
