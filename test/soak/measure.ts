import { readdir, readFile } from "node:fs/promises";

/** The value at quantile `q` (0-1) of `values`, nearest rank; undefined when there are none. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) {
    return undefined;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** One operation of the churn. */
export interface Sample {
  at: number;
  kind: string;
  ms: number;
  status: number;
  ok: boolean;
}

export interface WindowReport {
  /** Minutes since the start, of the window's beginning. */
  fromMinute: number;
  operations: number;
  errors: number;
  /** p50 and p99 in ms, per kind and for all. */
  latency: Record<string, { n: number; p50: number | undefined; p99: number | undefined }>;
}

/** Samples cut into windows of `windowMs` from `start`, with each window's percentiles. */
export function windowsOf(samples: readonly Sample[], start: number, windowMs: number): WindowReport[] {
  const windows = new Map<number, Sample[]>();
  for (const sample of samples) {
    const index = Math.floor((sample.at - start) / windowMs);
    windows.set(index, [...(windows.get(index) ?? []), sample]);
  }
  return [...windows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, inWindow]) => {
      const kinds = new Map<string, number[]>([["all", []]]);
      for (const s of inWindow) {
        kinds.set(s.kind, [...(kinds.get(s.kind) ?? []), s.ms]);
        kinds.get("all")?.push(s.ms);
      }
      return {
        fromMinute: (index * windowMs) / 60_000,
        operations: inWindow.length,
        errors: inWindow.filter((s) => !s.ok).length,
        latency: Object.fromEntries(
          [...kinds]
            .sort(([a], [b]) => (a === "all" ? -1 : b === "all" ? 1 : a.localeCompare(b)))
            .map(([kind, ms]) => [kind, { n: ms.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) }]),
        ),
      };
    });
}

/** Resident memory of a process in MiB (VmRSS), undefined once it is gone. */
export async function rssMiB(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 102.4) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Proportional memory of a process and its children in MiB (Pss from smaps_rollup), for
 * Postgres: its backends share the buffer cache, so summing their RSS would count it many times.
 */
export async function treePssMiB(pid: number): Promise<number | undefined> {
  const pids = [pid];
  for (const entry of await readdir("/proc")) {
    if (/^\d+$/.test(entry)) {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
      // The fields after the command (which may hold spaces) start with state, then the parent.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) {
        pids.push(Number(entry));
      }
    }
  }
  let kb = 0;
  for (const p of pids) {
    const rollup = await readFile(`/proc/${p}/smaps_rollup`, "utf8").catch(() => "");
    kb += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
  }
  return kb > 0 ? Math.round(kb / 102.4) / 10 : undefined;
}
