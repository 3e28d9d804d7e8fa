/**
 * Reads the kernel state of the host the runner points at, for the planner.
 * Cost: one `ip` and one `iptables-save` for the host, one `ip` per observed sandbox.
 */
import { readdir } from "node:fs/promises";
import {
  isDesiredBridgeName,
  isLabnetHostVeth,
  isLabnetVxlan,
  isValidNetnsName,
  isValidNetnsPrefix,
  type ObservedFdbEntry,
  type ObservedHost,
  type ObservedLink,
  type ObservedNeighbour,
  type ObservedSandbox,
  parseIpAddrBatchJson,
  parseIpAddrJson,
  parseSandboxBatchJson,
  parseVxlanFdbJson,
  parseVxlanNeighJson,
  SANDBOX_OBSERVE_BATCH,
} from "@labnet/netplan";
import { runLimited } from "./run-limited";
import { inNetns, KernelCommandError, type Runner, runOrThrow } from "./runner";

/** Where `ip netns add` puts named namespaces. */
export const NETNS_DIR = "/run/netns";

export interface ObserveOptions {
  /** This executor's sandbox prefix: only namespaces starting with it are reported. */
  netnsPrefix: string;
  /** Sandboxes (netns names) to observe in detail; ones that do not exist are skipped. */
  sandboxes: readonly string[];
  /** Sandbox observations in flight at once. */
  concurrency?: number;
  /** Directory of named namespaces; only tests change it. */
  netnsDir?: string;
  /** The namespaces with the prefix, when the caller has just listed them (not read again). */
  netns?: readonly string[];
  /**
   * Host links to look at (bridges and host veths by name). Omitted: every link of the host,
   * which a reconcile needs to find orphans; a converge that serves a few operations names
   * the links they touch, so its cost does not grow with the host (one `ip -batch` of
   * `addr show dev` lines instead of 1 MB of JSON at 1,000 nodes).
   */
  hostLinks?: readonly string[];
  /**
   * The host's rules as the caller knows them (what its last restore left, `ruleSetAfter`):
   * given, `iptables-save` is not run.
   */
  knownIptablesSave?: string;
  /**
   * Overlays' vxlan devices whose own forwarding entries to read (`bridge -j fdb show dev X`,
   * one process each); devices that do not exist are skipped.
   */
  vxlans?: readonly string[];
}

/**
 * Observes the host: its namespaces with the executor's prefix, its links, its iptables
 * rules, and the links and default route of each requested sandbox. A sandbox that cannot
 * be looked into is reported in `unobservable` (the planner leaves it alone).
 *
 * Named namespaces are machine-wide (files under /run/netns), so the list is read from
 * the file system rather than through the runner; it is the same list from any netns.
 *
 * @example
 * const observed = await observeHost(runner, { netnsPrefix: "ln-", sandboxes: ["ln-abc..."] });
 */
export async function observeHost(runner: Runner, options: ObserveOptions): Promise<ObservedHostResult> {
  if (!isValidNetnsPrefix(options.netnsPrefix)) {
    throw new Error(`invalid netns prefix: ${JSON.stringify(options.netnsPrefix)}`);
  }
  for (const name of options.sandboxes) {
    if (!isValidNetnsName(name) || !name.startsWith(options.netnsPrefix)) {
      throw new Error(
        `refusing to observe netns ${JSON.stringify(name)}: not a sandbox of ${options.netnsPrefix}`,
      );
    }
  }

  const [names, links, iptablesSave] = await Promise.all([
    options.netns ?? listNetns(options.netnsDir ?? NETNS_DIR, options.netnsPrefix),
    options.hostLinks === undefined
      ? runOrThrow(runner, ["ip", "-j", "-d", "addr", "show"]).then((result) =>
          parseIpAddrJson(result.stdout),
        )
      : observeLinks(runner, options.hostLinks),
    options.knownIptablesSave ?? runOrThrow(runner, ["iptables-save"]).then((result) => result.stdout),
  ]);

  const tables = await observeVxlanTables(runner, options.vxlans ?? [], links);
  const existing = new Set(names);
  const wanted = [...new Set(options.sandboxes)].filter((name) => existing.has(name));
  const sandboxes: Record<string, ObservedSandbox> = {};
  const vanished = new Set<string>();
  const unobservable = new Map<string, string>();
  await runLimited(wanted, options.concurrency ?? 8, async (name) => {
    const argv = inNetns(name, ["ip", "-j", "-d", "-batch", "-"]);
    const result = await runner.run(argv, { stdin: SANDBOX_OBSERVE_BATCH });
    if (result.code !== 0) {
      // Deleted between readdir and now: plan it as absent rather than fail the job.
      if (result.stderr.includes("No such file or directory")) {
        vanished.add(name);
        return;
      }
      // One broken namespace (not a namespace at all, say) fails its own node, not the host.
      unobservable.set(name, new KernelCommandError(argv, result.code, result.stderr).message);
      return;
    }
    sandboxes[name] = parseSandboxBatchJson(result.stdout);
  });

  return {
    netns: names.filter((name) => !vanished.has(name)),
    links,
    iptablesSave,
    sandboxes,
    unobservable,
    ...(tables ?? {}),
  };
}

/** The own forwarding and neighbour entries of each requested vxlan device that exists among `links`. */
async function observeVxlanTables(
  runner: Runner,
  vxlans: readonly string[],
  links: readonly ObservedLink[],
): Promise<
  { fdb: Record<string, ObservedFdbEntry[]>; neigh: Record<string, ObservedNeighbour[]> } | undefined
> {
  const present = new Set(links.filter((link) => link.kind === "vxlan").map((link) => link.name));
  const wanted = [...new Set(vxlans)].filter((name) => isLabnetVxlan(name) && present.has(name));
  if (wanted.length === 0) {
    return undefined;
  }
  const fdb: Record<string, ObservedFdbEntry[]> = {};
  const neigh: Record<string, ObservedNeighbour[]> = {};
  await Promise.all(
    wanted.flatMap((name) => [
      runOrThrow(runner, ["bridge", "-j", "fdb", "show", "dev", name]).then((result) => {
        fdb[name] = parseVxlanFdbJson(result.stdout);
      }),
      runOrThrow(runner, ["ip", "-j", "neigh", "show", "dev", name]).then((result) => {
        neigh[name] = parseVxlanNeighJson(result.stdout);
      }),
    ]),
  );
  return { fdb, neigh };
}

/** What {@link observeHost} saw, and the sandboxes it could not look into (netns → why). */
export interface ObservedHostResult extends ObservedHost {
  unobservable: Map<string, string>;
}

/** The named Labnet links that exist, each in full detail; the ones that do not are left out. */
/** The named host links (Labnet's bridges, host veths and vxlans among them), one `ip -batch`; none named, no process. */
export async function observeLinks(runner: Runner, names: readonly string[]): Promise<ObservedLink[]> {
  const wanted = [...new Set(names)].filter(
    (name) => isDesiredBridgeName(name) || isLabnetHostVeth(name) || isLabnetVxlan(name),
  );
  if (wanted.length === 0) {
    return [];
  }
  const argv = ["ip", "-force", "-j", "-d", "-batch", "-"];
  const result = await runner.run(argv, {
    stdin: `${wanted.map((name) => `addr show dev ${name}`).join("\n")}\n`,
  });
  // Missing devices fail their line ("Command failed -:N"); anything else failed the command.
  if (result.code !== 0 && !/Command failed -:\d+/.test(result.stderr)) {
    throw new KernelCommandError(argv, result.code, result.stderr);
  }
  return parseIpAddrBatchJson(result.stdout);
}

/** Named namespaces in `dir` (default /run/netns) whose name starts with `prefix`. */
export async function listNetns(dir: string, prefix: string): Promise<string[]> {
  try {
    const entries = await readdir(dir);
    return entries.filter((name) => name.startsWith(prefix) && isValidNetnsName(name)).sort();
  } catch (error) {
    // No namespace was ever created on this machine.
    if (error instanceof Error && "code" in error && error.code === "ENOENT") {
      return [];
    }
    throw error;
  }
}
