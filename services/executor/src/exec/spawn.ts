/**
 * The diagnostics commands' own spawner: argv only (never a shell), checked against the
 * allow-list once more right before spawning ({@link assertExecSpawnArgv}), a hard time limit
 * (SIGKILL by PID), at most {@link MAX_EXEC_OUTPUT_BYTES} kept per stream, and every kept chunk
 * handed to `onChunk` as it arrives (for streaming).
 */
import { spawn } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { MAX_EXEC_OUTPUT_BYTES } from "@labnet/queue";
import { assertExecSpawnArgv } from "./argv";

export interface ExecOutcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  truncated: boolean;
}

export interface SpawnExecOptions {
  timeoutMs: number;
  maxBytes?: number;
  onChunk?: (stream: "stdout" | "stderr", data: string) => void;
}

/** A minimal environment: the commands need a PATH and nothing of the executor's secrets. */
const EXEC_ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" };

/** Keeps the first `max` bytes of one stream, decoded as UTF-8 without splitting a character. */
class Kept {
  #bytes = 0;
  #text = "";
  #decoder = new StringDecoder("utf8");
  truncated = false;

  constructor(private readonly max: number) {}

  /** The part of `chunk` kept, as text ("" once the limit is reached). */
  add(chunk: Buffer): string {
    const room = this.max - this.#bytes;
    if (room <= 0) {
      this.truncated ||= chunk.length > 0;
      return "";
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.truncated ||= part.length < chunk.length;
    this.#bytes += part.length;
    const text = this.#decoder.write(part);
    this.#text += text;
    return text;
  }

  finish(): string {
    const rest = this.#decoder.end();
    this.#text += rest;
    return rest;
  }

  get text(): string {
    return this.#text;
  }
}

/**
 * Runs `argv` (a full spawn argv: `ip netns exec NS ...`, `nsenter --net=... -- ...` or the
 * command itself) to its end or its time limit. Never rejects for the command's sake: a program
 * that cannot start is `exitCode: null` with the reason on stderr.
 */
export function spawnExec(argv: readonly string[], options: SpawnExecOptions): Promise<ExecOutcome> {
  const [command, ...args] = argv as [string, ...string[]];
  const max = options.maxBytes ?? MAX_EXEC_OUTPUT_BYTES;
  const started = performance.now();
  return new Promise((resolve) => {
    // Throwing here rejects the promise: nothing is spawned.
    assertExecSpawnArgv(argv);
    const child = spawn(command, args, { shell: false, stdio: ["ignore", "pipe", "pipe"], env: EXEC_ENV });
    const out = new Kept(max);
    const err = new Kept(max);
    let timedOut = false;
    let startError: string | undefined;
    const emit = (stream: "stdout" | "stderr", text: string) => {
      if (text !== "") {
        options.onChunk?.(stream, text);
      }
    };
    child.stdout.on("data", (chunk: Buffer) => emit("stdout", out.add(chunk)));
    child.stderr.on("data", (chunk: Buffer) => emit("stderr", err.add(chunk)));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }, options.timeoutMs);
    let settled = false;
    const finish = (code: number | null) => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      emit("stdout", out.finish());
      emit("stderr", err.finish());
      const stderr =
        startError === undefined ? err.text : `${err.text}${err.text === "" ? "" : "\n"}${startError}`;
      resolve({
        exitCode: timedOut || startError !== undefined ? null : code,
        stdout: out.text,
        stderr,
        durationMs: Math.round(performance.now() - started),
        timedOut,
        truncated: out.truncated || err.truncated,
      });
    };
    child.on("error", (error) => {
      startError = error.message;
      finish(null);
    });
    child.on("close", (code) => finish(code));
  });
}
