/**
 * What the benches share: a throwaway network namespace per run, the measuring process
 * re-executed inside it (as the executor runs inside its host), cleanup also on failure or
 * Ctrl-C, a sweep of namespaces that killed runs left behind, and the table printing.
 *
 * Namespaces: the run's host is `lbench<pid>-<name>` (pid in base 36); namespaces the bench
 * makes from inside (sandboxes) start with `lbench<pid>-<name>-` and go with the host.
 */
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);

const NETNS_PREFIX = "lbench";
/** Set in the re-executed process: the name of the namespace it runs in. */
const INSIDE = "LABNET_BENCH_INSIDE";
const NETNS_DIR = "/run/netns";

export interface BenchOptions {
  /** Short name: the namespace is `lbench<pid>-<name>`, messages say "<name> bench". */
  name: string;
  /** What root is needed for, in the message printed when the bench is skipped. */
  needs: string;
  /** The benchmark file itself (`import.meta.url`), re-executed inside the namespace. */
  url: URL | string;
  /** Runs inside the namespace; `hostNetns` is its name. */
  measure: (hostNetns: string) => Promise<void>;
}

/**
 * Runs a bench: outside, makes `lbench<pid>-<name>`, re-executes `url` inside it with
 * nsenter and deletes it (and every `lbench<pid>-<name>-…`) afterwards; inside, measures.
 * Sets `process.exitCode` on failure.
 *
 * @example
 * runBench({ name: "ports", needs: "network namespaces and iptables", url: import.meta.url, measure });
 */
export function runBench(options: BenchOptions): void {
  runOutsideOrInside(options).catch((error: unknown) => {
    process.stderr.write(
      `${options.name} bench failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  });
}

async function runOutsideOrInside(options: BenchOptions): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stdout.write(`${options.name} bench skipped: it needs root (${options.needs})\n`);
    return;
  }
  const inside = process.env[INSIDE];
  if (inside !== undefined && inside !== "") {
    await options.measure(inside);
    return;
  }
  await removeStaleNamespaces();
  const netns = `${NETNS_PREFIX}${process.pid.toString(36)}-${options.name}`;
  await exec("ip", ["netns", "add", netns]);
  let child: ReturnType<typeof spawn> | undefined;
  const onSignal = () => {
    child?.kill("SIGKILL");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    // The measuring process runs inside the namespace, as the executor runs inside its host:
    // the processes it forks are plain `ip`/`iptables`, not wrapped in nsenter. nsenter
    // --net keeps the mount namespace, so the namespaces it adds are visible out here.
    child = spawn(
      "nsenter",
      [
        `--net=${NETNS_DIR}/${netns}`,
        "--",
        process.execPath,
        ...process.execArgv,
        fileURLToPath(options.url),
      ],
      { stdio: "inherit", env: { ...process.env, [INSIDE]: netns } },
    );
    const code = await new Promise<number>((resolve) => child?.on("exit", (c) => resolve(c ?? 1)));
    if (code !== 0) {
      process.exitCode = code;
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    for (const name of await listNetns(`${netns}-`)) {
      await exec("ip", ["netns", "del", name]);
    }
    await exec("ip", ["netns", "del", netns]);
  }
}

/** Refuses to run anywhere but in the run's own namespace (the harness re-executes us inside it). */
export async function assertInside(hostNetns: string): Promise<void> {
  const [own, made] = await Promise.all([stat("/proc/self/ns/net"), stat(`${NETNS_DIR}/${hostNetns}`)]);
  if (own.ino !== made.ino || own.dev !== made.dev) {
    throw new Error(`refusing to run outside the namespace ${hostNetns}`);
  }
}

/** What the machine is, for a bench's header: CPUs and load average. */
export function machine(): string {
  const stolen = stolenSinceStart();
  return `${availableParallelism()} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(
      " ",
    )}${stolen === undefined ? "" : `, ${stolen.toFixed(1)}% of CPU time stolen by the hypervisor since the start`}`;
}

/** The machine's CPU time so far (/proc/stat, all CPUs, in ticks): in all, idle, and stolen by the hypervisor. */
function cpuTicks(): { total: number; idle: number; steal: number } | undefined {
  try {
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal (guest time is counted in user already)
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { total, idle: (fields[3] ?? 0) + (fields[4] ?? 0), steal: fields[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/**
 * Waits until the machine has been mostly idle (at least `idleShare` of its CPU time) for two
 * windows of 250 ms in a row, at most `maxMs`. Before each timed phase, so none starts while
 * the kernel still cleans up after the last (deleted namespaces are torn down by a kernel
 * worker after `ip netns del` returns, and at 1,000 of them that takes seconds).
 */
export async function waitForQuietMachine(idleShare = 0.85, maxMs = 15_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  let quiet = 0;
  let last = cpuTicks();
  while (last && quiet < 2 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = cpuTicks();
    if (!now) {
      return;
    }
    const total = now.total - last.total;
    quiet = total > 0 && (now.idle - last.idle) / total >= idleShare ? quiet + 1 : 0;
    last = now;
  }
}

const STARTED_TICKS = cpuTicks();

/**
 * Percent of the machine's CPU time the hypervisor gave to other guests since this process
 * started: on a shared virtual machine the figures move with it, so the reports say it.
 */
function stolenSinceStart(): number | undefined {
  const now = cpuTicks();
  // Under a second of CPU time: nothing to say yet (the line printed at the start).
  if (!now || !STARTED_TICKS || now.total - STARTED_TICKS.total < 100 * availableParallelism()) {
    return undefined;
  }
  return (100 * (now.steal - STARTED_TICKS.steal)) / (now.total - STARTED_TICKS.total);
}

/** Named namespaces (machine-wide, under /run/netns) whose name starts with `prefix`. */
export async function listNetns(prefix: string): Promise<string[]> {
  try {
    return (await readdir(NETNS_DIR)).filter((name) => name.startsWith(prefix)).sort();
  } catch {
    return [];
  }
}

/** Namespaces of earlier runs whose process is gone (killed before it could clean up). */
async function removeStaleNamespaces(): Promise<void> {
  for (const name of await listNetns(NETNS_PREFIX)) {
    const match = /^lbench([0-9a-z]+)-/.exec(name);
    const pid = match?.[1] === undefined ? Number.NaN : Number.parseInt(match[1], 36);
    if (Number.isInteger(pid) && !isAlive(pid)) {
      await exec("ip", ["netns", "del", name]).catch(() => undefined);
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A markdown table, first column left-aligned, the others right-aligned. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/**
 * The median of the `window` steps ending at step `n` (1-based), against scheduler noise.
 *
 * @example medianAt([5, 1, 9, 7], 4, 3) // 7, the median of [1, 9, 7]
 */
export function medianAt(values: readonly number[], n: number, window: number): number {
  return median(values.slice(Math.max(0, n - window), n));
}

/** The middle value (the upper one of an even count); 0 for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** The sum of `values`. */
export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Milliseconds with two decimals below 10, else one. */
export function ms(value: number): string {
  return value.toFixed(value < 10 ? 2 : 1);
}

/** Seconds from milliseconds: two decimals below 10 s, else one. */
export function seconds(valueMs: number): string {
  return (valueMs / 1000).toFixed(valueMs < 10_000 ? 2 : 1);
}

/** A ratio as `1.23x` (one decimal from 10x); `-` when it is not a number. */
export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)}x` : "-";
}
