/**
 * Network namespaces owned by a user namespace (issue 8 item 8, DESIGN §8): a virtual
 * machine's namespace belongs to a user namespace of its own whose root is the machine's
 * unprivileged account outside, and so do its nodes' namespaces; root in that user namespace
 * administers the machine and nothing else, while root on the lab host still manages it all.
 *
 * `ip netns add` cannot make such a namespace (its namespaces belong to the caller's user
 * namespace), so a short-lived holder process makes it: `setpriv` to the account and `unshare
 * --user --map-root-user --net` for a machine, `nsenter --user=<the machine's>` and `unshare
 * --net` for a node. One `ip netns attach` batch then names every held namespace under
 * /run/netns, a bind mount pins the machine's user namespace under USERNS_DIR (nodes made
 * later enter it there), and the holders are ended.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readlink, rm, writeFile } from "node:fs/promises";
import { isValidNetnsName } from "@labnet/netplan";
import type { ApplyFailure } from "./apply";
import { type Runner, runOrThrow } from "./runner";

/** Where machines' user namespaces are pinned, one file per machine namespace name. */
export const USERNS_DIR = "/run/labnet/userns";

/** Who owns a namespace to create. */
export type NetnsOwner =
  /** A machine's namespace: a new user namespace whose root is `uid` outside. */
  | { kind: "account"; uid: number }
  /** A node of a machine: the machine's user namespace, pinned at `usernsPinPath(machineNetns)`. */
  | { kind: "machine"; machineNetns: string };

/** Uids Labnet gives machines' accounts (see MACHINE_UID_BASE in the commands). */
const MIN_UID = 100_000;
const MAX_UID = 4_294_967_294;
/** A holder that has not unshared after this long failed. */
const HOLD_TIMEOUT_MS = 10_000;

/** The pin of a machine's user namespace. */
export function usernsPinPath(machineNetns: string): string {
  if (!isValidNetnsName(machineNetns)) {
    throw new Error(`invalid netns name: ${JSON.stringify(machineNetns)}`);
  }
  return `${USERNS_DIR}/${machineNetns}`;
}

/** The holder's argv for `owner`: argv arrays only, every value checked. */
export function holderArgv(owner: NetnsOwner): string[] {
  // `sleep` keeps the namespace alive until `ip netns attach` has named it.
  const hold = ["--", "sleep", "60"];
  if (owner.kind === "account") {
    if (!Number.isInteger(owner.uid) || owner.uid < MIN_UID || owner.uid > MAX_UID) {
      throw new Error(`refusing uid ${owner.uid} for a machine account`);
    }
    const id = String(owner.uid);
    return [
      "setpriv",
      `--reuid=${id}`,
      `--regid=${id}`,
      "--clear-groups",
      "--",
      "unshare",
      "--user",
      "--map-root-user",
      "--net",
      ...hold,
    ];
  }
  return ["nsenter", `--user=${usernsPinPath(owner.machineNetns)}`, "--", "unshare", "--net", ...hold];
}

/**
 * Creates the namespaces in `wanted` (name → owner) and names them under /run/netns. Returns
 * those it made and what failed (per namespace), never throws for one namespace.
 */
export async function createOwnedNetns(
  runner: Runner,
  wanted: ReadonlyMap<string, NetnsOwner>,
): Promise<{ created: string[]; failures: ApplyFailure[] }> {
  const failures: ApplyFailure[] = [];
  const held: { netns: string; owner: NetnsOwner; child: ChildProcess; pid: number }[] = [];
  const own = await readlink("/proc/self/ns/net");
  try {
    await Promise.all(
      [...wanted].map(async ([netns, owner]) => {
        try {
          if (!isValidNetnsName(netns)) {
            throw new Error("invalid netns name");
          }
          if (owner.kind === "machine" && !existsSync(usernsPinPath(owner.machineNetns))) {
            // Made before its machine was recorded as its owner, or its pin was removed.
            throw new Error(
              `machine namespace ${owner.machineNetns} has no user namespace pinned at ${usernsPinPath(owner.machineNetns)}: its nodes cannot be made; remove the machine and create it again`,
            );
          }
          const { child, pid } = await hold(holderArgv(owner), own);
          held.push({ netns, owner, child, pid });
        } catch (error) {
          failures.push({ step: "netns add", line: `netns add ${netns}`, message: String(error) });
        }
      }),
    );
    if (held.length === 0) {
      return { created: [], failures };
    }
    const lines = held.map((h) => `netns attach ${h.netns} ${h.pid}`);
    const attached = await runner.run(["ip", "-force", "-batch", "-"], { stdin: `${lines.join("\n")}\n` });
    const failed = new Set<string>();
    if (attached.code !== 0) {
      for (const match of attached.stderr.matchAll(/Command failed -:(\d+)/g)) {
        const h = held[Number(match[1]) - 1];
        if (h) {
          failed.add(h.netns);
          failures.push({ step: "netns add", line: `netns add ${h.netns}`, message: attached.stderr.trim() });
        }
      }
    }
    const created: string[] = [];
    for (const h of held) {
      if (failed.has(h.netns)) {
        continue;
      }
      if (h.owner.kind === "account") {
        try {
          await pinUserns(runner, h.netns, h.pid);
        } catch (error) {
          failures.push({ step: "netns add", line: `netns add ${h.netns}`, message: String(error) });
          continue;
        }
      }
      created.push(h.netns);
    }
    return { created, failures };
  } finally {
    for (const h of held) {
      h.child.kill("SIGKILL");
    }
  }
}

/** Unpins the user namespaces of machine namespaces that were deleted (or are gone). */
export async function releaseOwnedNetns(runner: Runner, deleted: readonly string[]): Promise<void> {
  for (const netns of deleted) {
    const pin = usernsPinPath(netns);
    if (!existsSync(pin)) {
      continue;
    }
    // Not mounted any more (a half-done earlier release): only the file is left.
    await runner.run(["umount", pin]);
    await rm(pin, { force: true });
  }
}

/**
 * Releases pins of machines of this lab host (`netnsPrefix`) whose namespace is gone: what a
 * converge interrupted between `netns del` and the unpin left (the reconcile loop calls it).
 */
export async function sweepStaleUsernsPins(runner: Runner, netnsPrefix: string): Promise<string[]> {
  const stale = (await readdir(USERNS_DIR).catch(() => [] as string[])).filter(
    (name) => name.startsWith(netnsPrefix) && isValidNetnsName(name) && !existsSync(`/run/netns/${name}`),
  );
  await releaseOwnedNetns(runner, stale);
  return stale;
}

async function pinUserns(runner: Runner, netns: string, pid: number): Promise<void> {
  const pin = usernsPinPath(netns);
  await mkdir(USERNS_DIR, { recursive: true });
  await writeFile(pin, "", { flag: "a" });
  await runOrThrow(runner, ["mount", "--bind", `/proc/${pid}/ns/user`, pin]);
}

/** Starts a holder and waits until it is in a network namespace of its own. */
async function hold(argv: string[], own: string): Promise<{ child: ChildProcess; pid: number }> {
  const [command, ...args] = argv;
  if (command === undefined) {
    throw new Error("empty argv");
  }
  const child = spawn(command, args, { shell: false, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-1_000);
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`could not start ${command}`);
  }
  const deadline = Date.now() + HOLD_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${argv.join(" ")} exited (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`);
    }
    // The holder has exec'd sleep once it unshared; until then it is still in ours.
    const current = await readlink(`/proc/${pid}/ns/net`).catch(() => own);
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => "");
    if (current !== own && exe.endsWith("/sleep")) {
      return { child, pid };
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${argv.join(" ")} did not unshare within ${HOLD_TIMEOUT_MS} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}
