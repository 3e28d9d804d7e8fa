/**
 * Commands started by a small helper process (spawn-helper.mjs) instead of this one. Starting a
 * process copies the page tables of its parent, so its cost grows with the parent's memory: an
 * executor of 250 MB spends ~8 ms of its event loop per command, the helper ~1.4 ms of its own.
 * The helper starts on the first command and is restarted after it dies; it never holds this
 * process open while no command is running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type CommandResult, commandResult, DEFAULT_TIMEOUT_MS } from "./run-command";

const HELPER = fileURLToPath(new URL("./spawn-helper.mjs", import.meta.url));

export interface SpawnerRunOptions {
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Killed with SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
}

/** Runs argv arrays (never a shell) to their end, as {@link runCommand} does, from the helper. */
export interface Spawner {
  run(argv: readonly string[], options?: SpawnerRunOptions): Promise<CommandResult>;
  /** Lets the helper leave once its commands have ended. */
  close(): void;
}

/** The helper's answer header (spawn-helper.mjs), before `out` + `err` bytes of output. */
interface AnswerHead {
  id: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  error?: { message: string; code?: string };
  out: number;
  err: number;
}

/** An answer of the helper: its header and its output. */
export interface HelperAnswer {
  head: AnswerHead;
  stdout: string;
  stderr: string;
}

/**
 * Splits the helper's stdout into answers: a JSON header line, then its output bytes. Pure: feed
 * it chunks as they come, it calls `onAnswer` for each answer completed.
 */
export function createAnswerReader(onAnswer: (answer: HelperAnswer) => void): (chunk: Buffer) => void {
  // Chunks are joined once an answer is whole, not on every chunk (outputs run to megabytes).
  let chunks: Buffer[] = [];
  let size = 0;
  let head: AnswerHead | undefined;
  const joined = (): Buffer => {
    const all = chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size);
    chunks = [all];
    return all;
  };
  return (chunk) => {
    chunks.push(chunk);
    size += chunk.length;
    for (;;) {
      if (head === undefined) {
        const all = joined();
        const newline = all.indexOf(10);
        if (newline < 0) {
          return;
        }
        head = JSON.parse(all.subarray(0, newline).toString("utf8")) as AnswerHead;
        chunks = [all.subarray(newline + 1)];
        size = all.length - newline - 1;
      }
      if (size < head.out + head.err) {
        return;
      }
      const all = joined();
      const stdout = all.subarray(0, head.out).toString("utf8");
      const stderr = all.subarray(head.out, head.out + head.err).toString("utf8");
      chunks = [all.subarray(head.out + head.err)];
      size = all.length - head.out - head.err;
      const answered = head;
      head = undefined;
      onAnswer({ head: answered, stdout, stderr });
    }
  };
}

/** One helper process and how many of its commands are running. */
interface Helper {
  child: ChildProcess;
  running: number;
}

interface Pending {
  resolve: (result: CommandResult) => void;
  timeoutMs: number;
  helper: Helper;
}

/** The ending of a command that never started. */
const NOTHING_RAN = {
  exitCode: null,
  signal: null,
  timedOut: false,
  timeoutMs: 0,
  stdout: "",
  stderr: "",
} as const;

/**
 * A process starter of its own, of up to `helpers` helper processes (default 2: a helper starts
 * one command at a time, and waits for each to have started; a second is started only while
 * the first is busy). Most callers want {@link sharedSpawner}.
 *
 * @example
 * const { code, stdout } = await createSpawner().run(["ip", "-j", "link", "show"]);
 */
export function createSpawner(options: { helpers?: number } = {}): Spawner {
  const most = Math.max(1, options.helpers ?? 2);
  const helpers: Helper[] = [];
  const pending = new Map<number, Pending>();
  let nextId = 1;

  // While a command runs, a helper's pipes keep this process alive; otherwise they do not.
  const hold = (helper: Helper, held: boolean) => {
    for (const stream of [helper.child.stdin, helper.child.stdout]) {
      const handle = stream as unknown as { ref?: () => void; unref?: () => void } | null;
      if (held) {
        handle?.ref?.();
      } else {
        handle?.unref?.();
      }
    }
  };

  const settle = (id: number, result: CommandResult) => {
    const waiting = pending.get(id);
    if (waiting) {
      pending.delete(id);
      waiting.helper.running -= 1;
      if (waiting.helper.running === 0) {
        hold(waiting.helper, false);
      }
      waiting.resolve(result);
    }
  };

  const start = (): Helper => {
    // No execArgv: the helper needs no TypeScript loader (nor a profiler).
    const child = spawn(process.execPath, [HELPER], { stdio: ["pipe", "pipe", "inherit"], shell: false });
    const helper: Helper = { child, running: 0 };
    child.unref();
    hold(helper, false);
    const read = createAnswerReader(({ head, stdout, stderr }) => {
      const timeoutMs = pending.get(head.id)?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const spawnError = head.error
        ? Object.assign(new Error(head.error.message), head.error.code ? { code: head.error.code } : {})
        : undefined;
      settle(
        head.id,
        commandResult({ ...head, timeoutMs, stdout, stderr, ...(spawnError ? { spawnError } : {}) }),
      );
    });
    child.stdout?.on("data", read);
    child.stdin?.on("error", () => {});
    const gone = (why: string) => {
      const at = helpers.indexOf(helper);
      if (at >= 0) {
        helpers.splice(at, 1);
      }
      // What the helper was running may or may not have run: its callers decide again.
      for (const [id, waiting] of [...pending]) {
        if (waiting.helper === helper) {
          const spawnError = new Error(`the process starter ${why} before the command ended`);
          settle(id, commandResult({ ...NOTHING_RAN, spawnError }));
        }
      }
    };
    child.on("error", (error) => gone(`failed (${error.message})`));
    // After its stdout closed: every answer it wrote has been read by then.
    child.on("close", (code, signal) => gone(`exited (${signal ?? code})`));
    helpers.push(helper);
    return helper;
  };

  /** The least busy helper; a new one while every helper is busy and there is room. */
  const pick = (): Helper => {
    let best: Helper | undefined;
    for (const helper of helpers) {
      if (!best || helper.running < best.running) {
        best = helper;
      }
    }
    return best && (best.running === 0 || helpers.length >= most) ? best : start();
  };

  return {
    run(argv, runOptions = {}) {
      if (argv.length === 0) {
        return Promise.reject(new Error("Spawner.run needs a non-empty argv"));
      }
      const helper = pick();
      const id = nextId++;
      const timeoutMs = runOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      return new Promise((resolve) => {
        helper.running += 1;
        if (helper.running === 1) {
          hold(helper, true);
        }
        pending.set(id, { resolve, timeoutMs, helper });
        const request = { id, argv, input: runOptions.input ?? "", timeoutMs };
        helper.child.stdin?.write(`${JSON.stringify(request)}\n`);
      });
    },
    close() {
      for (const helper of helpers.splice(0)) {
        helper.child.stdin?.end();
      }
    },
  };
}

let shared: Spawner | undefined;

/** This process's process starter, made on first use. */
export function sharedSpawner(): Spawner {
  shared ??= createSpawner();
  return shared;
}
