import { existsSync } from "node:fs";
import type { Probe, ProbeResult } from "@labnet/queue";
import { runLimited } from "../kernel/run-limited";
import { isProbeNetns } from "./argv";
import { type ProbeSpawner, realSpawner, runProbe } from "./run-probe";

/** Probes in flight at once: a 30-student run of 10 checks is ~20 rounds of ~1 s at worst. */
export const PROBES_AT_ONCE = 16;

/**
 * The namespaces a lab host's probes may use: names under one of `prefixes` (the lab host's
 * sandboxes, its virtual machines' namespaces, and each machine's nodes) or one of `namespaces`.
 */
export interface ProbeScope {
  prefixes: readonly string[];
  namespaces: readonly string[];
}

/** A probe names a namespace this executor does not serve: the whole request is refused. */
export class ProbeScopeError extends Error {
  constructor(readonly netns: readonly string[]) {
    super(
      `probes name namespaces this lab host does not serve: ${netns.map((n) => JSON.stringify(n)).join(", ")}`,
    );
    this.name = "ProbeScopeError";
  }
}

/** The namespaces a probe enters: its origin (unless the lab host) and its listener's. */
export function namespacesOf(probe: Probe): string[] {
  const names = "netns" in probe.from ? [probe.from.netns] : [];
  return probe.listenIn === undefined ? names : [...names, probe.listenIn];
}

/** True when `netns` is one of the scope's namespaces or starts with one of its prefixes. */
export function inScope(netns: string, scope: ProbeScope): boolean {
  return (
    isProbeNetns(netns) &&
    (scope.namespaces.includes(netns) || scope.prefixes.some((p) => p !== "" && netns.startsWith(p)))
  );
}

/** Throws {@link ProbeScopeError} naming every namespace of `probes` outside `scope`. */
export function assertProbesInScope(probes: readonly Probe[], scope: ProbeScope): void {
  const outside = [...new Set(probes.flatMap(namespacesOf))].filter((n) => !inScope(n, scope));
  if (outside.length > 0) {
    throw new ProbeScopeError(outside);
  }
}

export interface RunProbesOptions {
  spawner?: ProbeSpawner;
  /** Whether `/run/netns/<name>` exists (a fake in unit tests). */
  netnsExists?: (netns: string) => boolean;
  limit?: number;
}

/**
 * Runs `probes` (already checked against the scope), at most {@link PROBES_AT_ONCE} at a time,
 * and returns one result per probe in their order. A probe never fails the run: a missing
 * namespace, a tool that cannot start or a timeout is that probe's `ok: false`. Probes that
 * need a listener on the same namespace, protocol and port run one after the other (two nc
 * could not both bind it).
 */
export async function runProbes(
  probes: readonly Probe[],
  options: RunProbesOptions = {},
): Promise<ProbeResult[]> {
  const spawner = options.spawner ?? realSpawner;
  const netnsExists = options.netnsExists ?? ((netns: string) => existsSync(`/run/netns/${netns}`));
  const results: ProbeResult[] = new Array(probes.length);
  // Units of work: every probe alone, except those sharing a listener, which share one unit.
  const units = new Map<string, number[]>();
  probes.forEach((probe, index) => {
    const key =
      probe.listenIn === undefined
        ? `probe-${index}`
        : `listen-${probe.listenIn}-${probe.kind}-${probe.listenPort ?? probe.port}`;
    units.set(key, [...(units.get(key) ?? []), index]);
  });
  await runLimited([...units.values()], options.limit ?? PROBES_AT_ONCE, async (indexes) => {
    for (const index of indexes) {
      const probe = probes[index] as Probe;
      const missing = namespacesOf(probe).filter((n) => !netnsExists(n));
      results[index] =
        missing.length > 0
          ? {
              id: probe.id,
              ok: false,
              command: "",
              output: `no such namespace: ${missing.map((n) => `/run/netns/${n}`).join(", ")}`,
              ms: 0,
            }
          : await runProbe(probe, spawner);
    }
  });
  return results;
}
