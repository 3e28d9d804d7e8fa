/**
 * `host.exec`: one allow-listed diagnostics command (exec-argv.ts) run by a lab host's executor
 * inside a node's or a machine's namespace, its answer the job's return value. While it runs,
 * the executor publishes its output on a Redis channel named by the request
 * ({@link execChannel}), so a gateway can stream it (SSE) before the answer arrives.
 */
import { isValidNetnsName } from "@labnet/netplan";
import { z } from "zod";
import { checkExecArgv, describeExecRefusal, type ExecPlace } from "./exec-argv";

/** A command's time limit when none is asked for, and the most one may ask for. */
export const DEFAULT_EXEC_TIMEOUT_MS = 10_000;
export const MAX_EXEC_TIMEOUT_MS = 30_000;
export const MIN_EXEC_TIMEOUT_MS = 100;
/** Output kept per stream (stdout, stderr); the rest is cut and the answer says so. */
export const MAX_EXEC_OUTPUT_BYTES = 64 * 1024;

const NetnsName = z.string().refine((v) => isValidNetnsName(v) && /^[A-Za-z0-9]/.test(v), {
  message: "not a valid netns name",
});

/**
 * Where the command runs: a node's sandbox (`ip netns exec`, which binds its /etc/netns files), a
 * virtual machine's namespace (`nsenter --net=`), or the lab host's own (the executor's).
 */
export const ExecTarget = z.union([
  z.object({ node: NetnsName }).strict(),
  z.object({ machine: NetnsName }).strict(),
  z.object({ labHost: z.literal(true) }).strict(),
]);
export type ExecTarget = z.infer<typeof ExecTarget>;

/** Nodes run node commands; machines (virtual or the lab host) also iptables. */
export function execPlaceOf(target: ExecTarget): ExecPlace {
  return "node" in target ? "node" : "machine";
}

export const ExecJob = z
  .object({
    /** The machine the command is for (its lab host's executor checks it serves it). */
    hostId: z.string().regex(/^hst_[a-z2-7]{16}$/),
    /** Names the output channel; a UUID. */
    requestId: z.string().regex(/^[0-9a-f-]{36}$/),
    target: ExecTarget,
    argv: z.array(z.string()).min(1),
    timeoutMs: z.number().int().min(MIN_EXEC_TIMEOUT_MS).max(MAX_EXEC_TIMEOUT_MS),
    /** Publish output chunks on {@link execChannel} while the command runs. */
    stream: z.boolean(),
  })
  .strict()
  .superRefine((job, ctx) => {
    const refusal = checkExecArgv(job.argv, execPlaceOf(job.target));
    if (refusal !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: refusal.index === undefined ? ["argv"] : ["argv", refusal.index],
        message: describeExecRefusal(refusal),
      });
    }
  });
export type ExecJob = z.infer<typeof ExecJob>;

/** The answer: what ran, how it ended, and its (possibly cut) output. */
export const ExecResult = z
  .object({
    argv: z.array(z.string()),
    /** Null when it did not exit by itself (killed at the time limit) or could not start. */
    exitCode: z.number().int().nullable(),
    stdout: z.string(),
    stderr: z.string(),
    durationMs: z.number().int().min(0),
    timedOut: z.boolean(),
    truncated: z.boolean(),
  })
  .strict();
export type ExecResult = z.infer<typeof ExecResult>;

/** One message on the output channel: a chunk of a stream, or the end (after the last chunk). */
export type ExecChunk = { stream: "stdout" | "stderr"; data: string } | { end: true };

/** The Redis channel a request's output is published on. */
export function execChannel(prefix: string, requestId: string): string {
  return `${prefix}-exec-${requestId}`;
}

/** The id of one exec request: unique, never all digits, no `:`. */
export function execJobId(hostId: string, requestId: string): string {
  return `exec-${hostId}-${requestId}`;
}
