/**
 * Applies a {@link HostPlan} with the fewest processes: one `ip -batch` for the host (its
 * `netns add`, its own lines, its `netns del`), one per sandbox, one
 * `iptables-restore --noflush`.
 *
 * One bad line must not stop the host: the host-wide batch runs with `ip -force`,
 * which goes on past a failing line and reports each one (`Command failed -:N`), and every
 * sandbox batch runs even when another failed. A sandbox's own batch stops at its first
 * failure (its lines build on each other). Failures are returned, not thrown, so the caller
 * can tell which targets they belong to and settle the rest; the next converge re-plans from
 * fresh observations, which converges whatever was half done.
 */
import type { HostPlan } from "@labnet/netplan";
import { runLimited } from "./run-limited";
import { inNetns, KernelCommandError, type Runner } from "./runner";
import { createOwnedNetns, type NetnsOwner, releaseOwnedNetns } from "./userns";

export interface ApplyOptions {
  /** Sandbox batches in flight at once. */
  concurrency?: number;
  /** Namespaces to create owned by a user namespace (userns.ts) instead of by `netns add`. */
  owners?: ReadonlyMap<string, NetnsOwner>;
}

/** The steps of {@link applyPlan}, in order. */
export type ApplyStep = "netns add" | "host batch" | "fdb" | "sandbox" | "iptables" | "netns del";

/** One thing {@link applyPlan} could not do. */
export interface ApplyFailure {
  step: ApplyStep;
  /** The sandbox whose batch failed (step `sandbox`). */
  netns?: string;
  /** The batch line that failed, when `ip` said which. */
  line?: string;
  /** What the command said, one line. */
  message: string;
}

/** A plan did not apply cleanly; thrown by {@link applyPlanOrThrow}. */
export class ApplyError extends Error {
  readonly failures: readonly ApplyFailure[];

  constructor(failures: readonly ApplyFailure[]) {
    super(failures.map(describeFailure).join("; "));
    this.name = "ApplyError";
    this.failures = failures;
  }
}

/** `host batch failed at "link add ...": Error: ...`, for problems and logs. */
export function describeFailure(failure: ApplyFailure): string {
  const where = failure.step === "sandbox" ? `sandbox ${failure.netns ?? "?"}` : failure.step;
  const at = failure.line === undefined ? "" : ` at ${JSON.stringify(failure.line)}`;
  return `${where} failed${at}: ${failure.message}`;
}

/**
 * Runs `plan` through `runner`: the host batch (netns add, host lines, netns del), then the
 * sandbox batches and the iptables restore side by side. Returns what failed (empty when
 * everything applied).
 *
 * @example
 * const failures = await applyPlan(runner, planHost(desired, observed, { netnsPrefix, prune: true }));
 */
export async function applyPlan(
  runner: Runner,
  plan: HostPlan,
  options: ApplyOptions = {},
): Promise<ApplyFailure[]> {
  for (const line of [
    ...plan.netnsAdd,
    ...plan.hostBatch,
    ...plan.sandboxBatches.flatMap((b) => b.lines),
    ...plan.netnsDelete,
  ]) {
    // netplan validates every value it interpolates; this is the last line of defence
    // against one batch line turning into two commands.
    if (/[\n\r\0]/.test(line)) {
      throw new Error(`refusing a batch line with a line break: ${JSON.stringify(line)}`);
    }
  }
  const failures: ApplyFailure[] = [];
  const notAdded = new Set<string>();
  const owned = new Map(
    plan.netnsAdd.flatMap((name) => {
      const owner = options.owners?.get(name);
      return owner ? [[name, owner] as const] : [];
    }),
  );
  if (owned.size > 0) {
    const made = await createOwnedNetns(runner, owned);
    for (const failure of made.failures) {
      const name = failure.line?.split(" ")[2];
      if (name !== undefined) {
        notAdded.add(name);
      }
      failures.push(failure);
    }
  }
  // One host-wide process: new namespaces first (the veths below go into them), then the
  // host's own lines, then removed namespaces (nothing later depends on them). A process
  // costs several milliseconds to start, so a single node's converge runs three; the host
  // batch, which the sandboxes wait for, is started first.
  const hostLines = [
    ...plan.netnsAdd.filter((name) => !owned.has(name)).map((name) => `netns add ${name}`),
    // A line naming a namespace that could not be made would end the whole batch (`ip` exits
    // on a netns argument it cannot open, -force or not): that target failed above already.
    ...plan.hostBatch.filter((line) => !line.split(" ").some((word) => notAdded.has(word))),
    ...plan.netnsDelete.map((name) => `netns del ${name}`),
  ];
  const hostRun =
    hostLines.length > 0
      ? runForcedBatch(runner, "host batch", ["ip", "-force", "-batch", "-"], hostLines)
      : Promise.resolve([]);
  // The rules depend on no interface existing (a rule naming a bridge or a DNAT to an address
  // not up yet is harmless for the moment it lasts), so the restore runs beside everything.
  const rules = applyRules(runner, plan.iptablesRestore);
  // Awaited below; should the host batch throw first, its rejection is not left unhandled.
  rules.catch(() => {});
  for (const failure of await hostRun) {
    const [verb, object, name] = failure.line?.split(" ") ?? [];
    if (verb === "netns" && name !== undefined) {
      if (object === "add") {
        notAdded.add(name);
      }
      failures.push({ ...failure, step: object === "add" ? "netns add" : "netns del" });
    } else {
      failures.push(failure);
    }
  }
  failures.push(...(await applyFdb(runner, plan.fdbBatch ?? [])));
  const sandboxes = plan.sandboxBatches.filter((batch) => !notAdded.has(batch.netns));
  await runLimited(sandboxes, options.concurrency ?? 8, async (batch) => {
    const argv = inNetns(batch.netns, ["ip", "-batch", "-"]);
    const result = await runner.run(argv, { stdin: `${batch.lines.join("\n")}\n` });
    if (result.code !== 0) {
      const [first] = parseBatchErrors(result.stderr, batch.lines).errors;
      failures.push({
        step: "sandbox",
        netns: batch.netns,
        ...(first?.line === undefined ? {} : { line: first.line }),
        message: first?.message ?? commandMessage(argv, result.code, result.stderr),
      });
    }
  });
  const ruleFailure = await rules;
  if (ruleFailure) {
    failures.push(ruleFailure);
  }
  // A removed machine's namespace leaves its user namespace's pin behind.
  await releaseOwnedNetns(runner, plan.netnsDelete).catch((error: unknown) =>
    failures.push({ step: "netns del", message: `unpinning user namespaces: ${String(error)}` }),
  );
  return failures;
}

/**
 * Overlays' vxlan forwarding entries, in one `bridge -force -batch -` after the host batch (which
 * made the devices): a failing line does not stop the others.
 */
async function applyFdb(runner: Runner, lines: readonly string[]): Promise<ApplyFailure[]> {
  if (lines.length === 0) {
    return [];
  }
  if (lines.some((line) => /[\n\r\0]/.test(line))) {
    throw new Error("refusing an fdb batch line with a line break");
  }
  return runForcedBatch(runner, "fdb", ["bridge", "-force", "-batch", "-"], lines);
}

async function applyRules(runner: Runner, payload: string): Promise<ApplyFailure | undefined> {
  if (payload === "") {
    return undefined;
  }
  const argv = ["iptables-restore", "--noflush"];
  const result = await runner.run(argv, { stdin: payload });
  return result.code === 0
    ? undefined
    : { step: "iptables", message: commandMessage(argv, result.code, result.stderr) };
}

/** {@link applyPlan} for callers that want all or nothing (tests, benches): throws {@link ApplyError}. */
export async function applyPlanOrThrow(runner: Runner, plan: HostPlan, options: ApplyOptions = {}) {
  const failures = await applyPlan(runner, plan, options);
  if (failures.length > 0) {
    throw new ApplyError(failures);
  }
}

/** A line that `ip -force -batch` reported, with the messages printed before it. */
interface BatchError {
  line?: string;
  message: string;
}

/** Bounds the re-runs of a host batch that `ip` ended early (one per argument it refused). */
const MAX_BATCH_RUNS = 8;

/**
 * Runs `lines` through `ip -force -batch`, which goes on past a line the kernel refuses but
 * ends the whole process at an argument it cannot read (`Error: argument "X" is wrong`: a
 * namespace gone or never made, for one). Then the lines it never reached run again in a
 * batch of their own, without those naming X: one bad target fails alone.
 */
async function runForcedBatch(
  runner: Runner,
  step: ApplyStep,
  argv: readonly string[],
  lines: readonly string[],
): Promise<ApplyFailure[]> {
  const failures: ApplyFailure[] = [];
  let rest = lines;
  for (let run = 0; rest.length > 0; run++) {
    if (run === MAX_BATCH_RUNS) {
      failures.push({ step, message: `${rest.length} lines not run: ${MAX_BATCH_RUNS} runs ended early` });
      break;
    }
    const result = await runner.run(argv, { stdin: `${rest.join("\n")}\n` });
    if (result.code === 0) {
      break;
    }
    const { errors, lastReported, trailing } = parseBatchErrors(result.stderr, rest);
    failures.push(...errors.filter((error) => !isAlreadyGone(error)).map((error) => ({ step, ...error })));
    // Exit status 1: it went through every line, and reported each that failed. Anything else
    // ended it early.
    if (result.code === 1 && errors.length > 0) {
      break;
    }
    const refused = /Error: argument "([^"\s]+)" is wrong/.exec(trailing.join("; "))?.[1];
    // It stopped at the first line it had not reported on that names the argument.
    const at =
      refused === undefined
        ? -1
        : rest.findIndex((line, i) => i > lastReported && line.split(" ").includes(refused));
    if (refused === undefined || at < 0) {
      // It could not start, was killed, or stopped where we cannot tell: what it did not
      // reach is not done.
      failures.push({ step, message: commandMessage(argv, result.code, result.stderr) });
      break;
    }
    failures.push({ step, line: rest[at] as string, message: trailing.join("; ") });
    rest = rest.slice(at + 1).filter((line) => !line.split(" ").includes(refused));
  }
  return failures;
}

/**
 * `ip -batch` prints what went wrong, then `Command failed -:N` (N is 1-based), for every
 * failing line under `-force` and for the first one without it. What follows the last such
 * line (`trailing`) is what ended the process, if anything did; `lastReported` is the index
 * of that last line (-1 for none).
 */
function parseBatchErrors(
  stderr: string,
  lines: readonly string[],
): { errors: BatchError[]; lastReported: number; trailing: string[] } {
  const errors: BatchError[] = [];
  let lastReported = -1;
  let messages: string[] = [];
  for (const raw of stderr.split("\n")) {
    const text = raw.trim();
    const match = /^Command failed -:(\d+)$/.exec(text);
    if (match?.[1] !== undefined) {
      lastReported = Number(match[1]) - 1;
      const line = lines[lastReported];
      errors.push({
        ...(line === undefined ? {} : { line }),
        message: messages.join("; ") || "failed",
      });
      messages = [];
    } else if (text !== "") {
      messages.push(text);
    }
  }
  return { errors, lastReported, trailing: messages };
}

/** A removal whose object is gone already did what it was for. */
function isAlreadyGone(error: BatchError): boolean {
  const removal =
    error.line?.startsWith("link del ") === true || error.line?.startsWith("netns del ") === true;
  return removal && /Cannot find device|No such file or directory/.test(error.message);
}

function commandMessage(argv: readonly string[], code: number, stderr: string): string {
  return new KernelCommandError(argv, code, stderr).message;
}
