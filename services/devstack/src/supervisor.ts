import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { type ExitStatus, terminateChild, waitForChildExit } from "./processes";

/** A child process the supervisor started and watches. */
export interface SupervisedProcess {
  name: string;
  /** PID of the process running now (a restart changes it). */
  readonly pid: number;
  /** Resolves when the process has exited for good: stopped, or died without a restart policy. */
  exited: Promise<ExitStatus>;
}

/** How a crashed child is started again: after `delayMs(failures)`, failures counted since it last ran long enough. */
export interface RestartPolicy {
  /** Milliseconds to wait before the n-th restart in a row (n from 1). Default {@link restartDelayMs}. */
  delayMs?: (failures: number) => number;
  /** A child that ran this long before dying starts the count again (default 60 s). */
  resetAfterMs?: number;
}

export interface SupervisorOptions {
  /** Called once when a child without a restart policy exits while the supervisor is not stopping. */
  onUnexpectedExit: (name: string, status: ExitStatus) => void;
  /** Called when a child with a restart policy died and will be started again in `delayMs`. */
  onRestart?: (name: string, status: ExitStatus, delayMs: number, failures: number) => void;
  /** Called with each child's PID once started (restarts too), e.g. to record it for a later sweep. */
  onStart?: (name: string, pid: number) => void;
  /** Where prefixed child output goes (default stdout). */
  write?: (line: string) => void;
}

/** 1 s, 2 s, 4 s, ... up to 30 s: a crash loop (say, while Postgres is down) backs off. */
export function restartDelayMs(failures: number): number {
  return Math.min(1_000 * 2 ** Math.max(0, failures - 1), 30_000);
}

interface Entry {
  name: string;
  child: ChildProcess;
  /** A pending restart, so stopping cancels it (and settles the child's `exited`). */
  pending?: { timer: NodeJS.Timeout; cancel: () => void };
}

/**
 * Starts long-running children, relays their output line by line with a `[name]` prefix,
 * restarts a child with a restart policy when it dies on its own (with backoff), reports one
 * without, and stops every child it started (by PID, newest first).
 */
export class Supervisor {
  readonly #entries: Entry[] = [];
  readonly #options: SupervisorOptions;
  #stopping = false;

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /** Spawns `argv` (never a shell). @throws when it cannot be spawned at all. */
  start(
    name: string,
    argv: readonly string[],
    options: { env: NodeJS.ProcessEnv; cwd: string; restart?: RestartPolicy },
  ): SupervisedProcess {
    const entry: Entry = { name, child: this.#spawn(name, argv, options) };
    this.#entries.push(entry);
    let failures = 0;
    let startedAt = Date.now();
    let resolveExited: (status: ExitStatus) => void = () => {};
    const exited = new Promise<ExitStatus>((resolve) => {
      resolveExited = resolve;
    });
    const watch = (child: ChildProcess) => {
      void waitForChildExit(child).then((status) => {
        if (this.#stopping) {
          resolveExited(status);
          return;
        }
        if (!options.restart) {
          this.#options.onUnexpectedExit(name, status);
          resolveExited(status);
          return;
        }
        failures = Date.now() - startedAt >= (options.restart.resetAfterMs ?? 60_000) ? 1 : failures + 1;
        const delay = (options.restart.delayMs ?? restartDelayMs)(failures);
        this.#options.onRestart?.(name, status, delay, failures);
        const timer = setTimeout(() => {
          entry.pending = undefined;
          try {
            entry.child = this.#spawn(name, argv, options);
          } catch (error) {
            this.#write(`[${name}] ${error instanceof Error ? error.message : String(error)}`);
            this.#options.onUnexpectedExit(name, status);
            resolveExited(status);
            return;
          }
          startedAt = Date.now();
          watch(entry.child);
        }, delay);
        entry.pending = { timer, cancel: () => resolveExited(status) };
      });
    };
    watch(entry.child);
    return {
      name,
      get pid() {
        return entry.child.pid ?? 0;
      },
      exited,
    };
  }

  /** Stops every child: SIGTERM, then SIGKILL after `timeoutMs`; newest first. */
  async stopAll(timeoutMs = 15_000): Promise<void> {
    this.#stopping = true;
    for (const entry of [...this.#entries].reverse()) {
      this.#cancelRestart(entry);
      await terminateChild(entry.child, { signal: "SIGTERM", timeoutMs });
    }
  }

  /** Last resort on a second Ctrl-C: SIGKILL to every child still running. */
  killAll(): void {
    this.#stopping = true;
    for (const entry of this.#entries) {
      this.#cancelRestart(entry);
      if (entry.child.exitCode === null && entry.child.signalCode === null) {
        entry.child.kill("SIGKILL");
      }
    }
  }

  #cancelRestart(entry: Entry): void {
    if (entry.pending) {
      clearTimeout(entry.pending.timer);
      entry.pending.cancel();
      entry.pending = undefined;
    }
  }

  #write(line: string): void {
    (this.#options.write ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
  }

  #spawn(
    name: string,
    argv: readonly string[],
    options: { env: NodeJS.ProcessEnv; cwd: string },
  ): ChildProcess {
    const [file, ...args] = argv;
    if (file === undefined) {
      throw new Error(`empty argv for ${name}`);
    }
    const child = spawn(file, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      // Own process group: Ctrl-C in the terminal reaches only us, and we stop children in order.
      detached: true,
    });
    const pid = child.pid;
    if (pid === undefined) {
      throw new Error(`could not start ${name} (${argv.join(" ")})`);
    }
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
        this.#write(`[${name}] ${line}`);
      });
    }
    child.on("error", (error) => this.#write(`[${name}] ${error.message}`));
    this.#options.onStart?.(name, pid);
    return child;
  }
}
