/**
 * Per-node resolver files under `/etc/netns/<netns>/`. `ip netns exec <netns> CMD`
 * bind-mounts each file there over its namesake in `/etc` for CMD (in a private mount
 * namespace), so commands run that way in a node see its own `resolv.conf` and `hosts`.
 * A process entered with plain `nsenter --net` keeps the host's `/etc`.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { isValidNetnsName, type NodeResolverFiles } from "@labnet/netplan";
import { runLimited } from "./run-limited";

/** Nodes whose files are written at once. */
const FILE_CONCURRENCY = 16;

/** Where `ip netns exec` looks (fixed in iproute2). */
export const ETC_NETNS_DIR = "/etc/netns";

export interface EtcNetnsOptions {
  /** Default {@link ETC_NETNS_DIR}; tests point it elsewhere. */
  dir?: string;
  /** This executor's sandbox prefix: only directories with it are ever removed. */
  netnsPrefix: string;
  /**
   * Path → content this process last wrote there. A file whose content is unchanged since
   * is skipped without touching the disk (a host of 1,000 nodes has 2,000 files to compare
   * on every converge); clear it to compare with the disk again (drift repair).
   */
  written?: Map<string, string>;
}

/**
 * Writes each node's `resolv.conf` and `hosts` where they differ, atomically (a temp file
 * beside the node's directory, then rename: a command starting meanwhile sees the old or
 * the new file, never half of one; the temp file is not inside the node's directory,
 * where `ip netns exec` would try to bind-mount it). Returns how many files changed.
 */
export async function writeResolverFiles(
  files: readonly NodeResolverFiles[],
  options: EtcNetnsOptions,
): Promise<number> {
  const dir = options.dir ?? ETC_NETNS_DIR;
  let changed = 0;
  const written = options.written;
  for (const file of files) {
    assertOwnNetns(file.netns, options.netnsPrefix);
  }
  // Nodes are independent: a burst of 400 new nodes is 2,800 small file operations, which one
  // at a time cost more than the kernel work that built the nodes.
  await runLimited(files, FILE_CONCURRENCY, async (file) => {
    const nodeDir = path.join(dir, file.netns);
    const pending = (
      [
        ["resolv.conf", file.resolvConf],
        ["hosts", file.hosts],
      ] as const
    ).filter(([name, content]) => written?.get(path.join(nodeDir, name)) !== content);
    if (pending.length === 0) {
      return;
    }
    // A directory made just now holds no file to compare with, and no command of its node
    // has run yet (it is not reported ready before this): its files are written in place,
    // which costs a tenth of a temp file and a rename into another directory.
    const created = (await mkdir(nodeDir, { recursive: true, mode: 0o755 })) !== undefined;
    for (const [name, content] of pending) {
      const target = path.join(nodeDir, name);
      if (created) {
        await writeFile(target, content, { mode: 0o644 });
      } else if ((await readFile(target, "utf8").catch(() => undefined)) === content) {
        written?.set(target, content);
        continue;
      } else {
        const temp = path.join(dir, `.${file.netns}.${name}.tmp`);
        await writeFile(temp, content, { mode: 0o644 });
        await rename(temp, target);
      }
      written?.set(target, content);
      changed += 1;
    }
  });
  return changed;
}

/**
 * Removes `<dir>/<netns>` of every netns with this executor's prefix that is not in `keep`
 * (nodes removed, or gone while the executor was down), and leftover temp files.
 * Returns the removed netns names.
 */
export async function pruneResolverFiles(
  keep: ReadonlySet<string>,
  options: EtcNetnsOptions,
): Promise<string[]> {
  const dir = options.dir ?? ETC_NETNS_DIR;
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") {
      return [];
    }
    throw error;
  });
  const removed: string[] = [];
  const gone = entries.filter(
    (entry) =>
      entry.isDirectory() &&
      entry.name.startsWith(options.netnsPrefix) &&
      isValidNetnsName(entry.name) &&
      !keep.has(entry.name),
  );
  await runLimited(gone, FILE_CONCURRENCY, async (entry) => {
    await rm(path.join(dir, entry.name), { recursive: true, force: true });
    for (const name of ["resolv.conf", "hosts"]) {
      options.written?.delete(path.join(dir, entry.name, name));
    }
    removed.push(entry.name);
  });
  for (const entry of entries) {
    if (
      !entry.isDirectory() &&
      entry.name.startsWith(`.${options.netnsPrefix}`) &&
      entry.name.endsWith(".tmp")
    ) {
      await rm(path.join(dir, entry.name), { force: true });
    }
  }
  return removed.sort();
}

function assertOwnNetns(netns: string, prefix: string): void {
  if (!netns.startsWith(prefix) || !isValidNetnsName(netns)) {
    throw new Error(`refusing to write resolver files for netns ${JSON.stringify(netns)}`);
  }
}
