/**
 * Applies a {@link HostPlan} with the fewest processes: one `ip -batch` for all
 * `netns add`, one for the host, one per sandbox, one `iptables-restore --noflush`, one
 * `ip -batch` for all `netns del`. The first failing step stops the apply and throws; the
 * job is retried and re-planned from fresh observations, which converges.
 */
import type { HostPlan } from "@labnet/netplan";
import { runLimited } from "./run-limited";
import { KernelCommandError, type Runner } from "./runner";

export interface ApplyOptions {
  /** Sandbox batches in flight at once. */
  concurrency?: number;
}

/** A step of {@link applyPlan} failed. `line` is the batch line `ip` reported, when it did. */
export class ApplyStepError extends KernelCommandError {
  readonly step: string;
  readonly line?: string;

  constructor(step: string, cause: KernelCommandError, line: string | undefined) {
    super(cause.argv, cause.code, cause.stderr, { cause });
    this.name = "ApplyStepError";
    this.step = step;
    if (line !== undefined) {
      this.line = line;
    }
    this.message = `${step} failed${line === undefined ? "" : ` at ${JSON.stringify(line)}`}: ${cause.message}`;
  }
}

/**
 * Runs `plan` through `runner` in order: netns add, host batch, sandbox batches,
 * iptables, netns del.
 *
 * @example await applyPlan(runner, planHost(desired, observed, { netnsPrefix, prune: true }));
 */
export async function applyPlan(runner: Runner, plan: HostPlan, options: ApplyOptions = {}): Promise<void> {
  if (plan.netnsAdd.length > 0) {
    await runBatch(
      runner,
      "netns add",
      ["ip", "-batch", "-"],
      plan.netnsAdd.map((name) => `netns add ${name}`),
    );
  }
  if (plan.hostBatch.length > 0) {
    await runBatch(runner, "host batch", ["ip", "-batch", "-"], plan.hostBatch);
  }
  await runLimited(plan.sandboxBatches, options.concurrency ?? 8, (batch) =>
    runBatch(runner, `sandbox ${batch.netns}`, ["ip", "-n", batch.netns, "-batch", "-"], batch.lines),
  );
  if (plan.iptablesRestore !== "") {
    await runStep(runner, "iptables", ["iptables-restore", "--noflush"], plan.iptablesRestore, []);
  }
  if (plan.netnsDelete.length > 0) {
    await runBatch(
      runner,
      "netns del",
      ["ip", "-batch", "-"],
      plan.netnsDelete.map((name) => `netns del ${name}`),
    );
  }
}

function runBatch(
  runner: Runner,
  step: string,
  argv: readonly string[],
  lines: readonly string[],
): Promise<void> {
  for (const line of lines) {
    // netplan validates every value it interpolates; this is the last line of defence
    // against one batch line turning into two commands.
    if (/[\n\r\0]/.test(line)) {
      throw new Error(`${step}: refusing a batch line with a line break: ${JSON.stringify(line)}`);
    }
  }
  return runStep(runner, step, argv, `${lines.join("\n")}\n`, lines);
}

async function runStep(
  runner: Runner,
  step: string,
  argv: readonly string[],
  stdin: string,
  lines: readonly string[],
): Promise<void> {
  const result = await runner.run(argv, { stdin });
  if (result.code !== 0) {
    const error = new KernelCommandError(argv, result.code, result.stderr);
    throw new ApplyStepError(step, error, failedLine(result.stderr, lines));
  }
}

/** `ip -batch` reports the failing line as `Command failed -:N` (1-based). */
function failedLine(stderr: string, lines: readonly string[]): string | undefined {
  const match = /Command failed -:(\d+)/.exec(stderr);
  return match?.[1] === undefined ? undefined : lines[Number(match[1]) - 1];
}
