import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { type ExitStatus, terminateChild, waitForChildExit } from "./processes";

/** A child process the supervisor started and watches. */
export interface SupervisedProcess {
  name: string;
  pid: number;
  /** Resolves when the process has exited, expectedly or not. */
  exited: Promise<ExitStatus>;
}

export interface SupervisorOptions {
  /** Called once when a child exits while the supervisor is not stopping. */
  onUnexpectedExit: (name: string, status: ExitStatus) => void;
  /** Called with each child's PID once started, e.g. to record it for a later sweep. */
  onStart?: (name: string, pid: number) => void;
  /** Where prefixed child output goes (default stdout). */
  write?: (line: string) => void;
}

/**
 * Starts long-running children, relays their output line by line with a `[name]` prefix, reports
 * a child that dies on its own, and stops every child it started (by PID, newest first).
 */
export class Supervisor {
  readonly #children: { name: string; child: ChildProcess }[] = [];
  readonly #options: SupervisorOptions;
  #stopping = false;

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /** Spawns `argv` (never a shell). @throws when it cannot be spawned at all. */
  start(
    name: string,
    argv: readonly string[],
    options: { env: NodeJS.ProcessEnv; cwd: string },
  ): SupervisedProcess {
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
    const write = this.#options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
        write(`[${name}] ${line}`);
      });
    }
    child.on("error", (error) => write(`[${name}] ${error.message}`));
    const exited = waitForChildExit(child);
    void exited.then((status) => {
      if (!this.#stopping) {
        this.#options.onUnexpectedExit(name, status);
      }
    });
    this.#children.push({ name, child });
    this.#options.onStart?.(name, pid);
    return { name, pid, exited };
  }

  /** Stops every child: SIGTERM, then SIGKILL after `timeoutMs`; newest first. */
  async stopAll(timeoutMs = 15_000): Promise<void> {
    this.#stopping = true;
    for (const { child } of [...this.#children].reverse()) {
      await terminateChild(child, { signal: "SIGTERM", timeoutMs });
    }
  }

  /** Last resort on a second Ctrl-C: SIGKILL to every child still running. */
  killAll(): void {
    this.#stopping = true;
    for (const { child } of this.#children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
      }
    }
  }
}
