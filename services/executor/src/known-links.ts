/**
 * The host links a converge would otherwise list before planning, known instead: a converge
 * that serves a few operations touches the host's bridges and the new nodes' host veths, and
 * listing them is a process (6-13 ms here) on every single node's path, where the batched
 * tools list nothing. So:
 *
 *   - after each apply, the links the converge touched are listed in the background (off the
 *     path: beside name resolution and the settling), and the next converge plans with what
 *     that listing saw; a bridge or veth not listed since this process started is listed then;
 *   - the host veths of a node being built for the first time (its first attempt, state
 *     `pending`, no namespace yet) are taken as absent without listing: nothing has made them.
 *     Were one there after all (a half-made node of a crashed process), its `link add` fails,
 *     the attempt is retried, and a retry lists as before;
 *   - vxlan devices are always listed (their forwarding tables are read with them).
 *
 * What the executor did not do itself (a bridge deleted by hand) is the reconcile loop's, as
 * for the known rules; a converge of the whole host lists everything and drops what is known,
 * then lists in the background, after its apply, every bridge and host veth it plans. Lab hosts
 * only: a machine's namespace is a sandbox of its lab host, rebuilt by converges not its own.
 */
import type { HostSnapshot } from "@labnet/db";
import { type DesiredSandbox, isLabnetVxlan, type ObservedLink } from "@labnet/netplan";
import { observeLinks } from "./kernel/observe";
import type { Runner } from "./kernel/runner";

/** Present links as the last listing after an apply saw them, by name. */
export interface KnownLinks {
  byName: Map<string, ObservedLink>;
  /** The listing under way; a converge waits for it before planning with `byName`. */
  listing?: Promise<void>;
}

/** What a converge plans with: links known (or taken as absent), and the names still to list. */
export interface LinksToObserve {
  known: ObservedLink[];
  observe: string[];
}

/**
 * Splits `touched` into links known, names taken as absent (dropped) and names to list.
 * `sandboxes` are the ones the converge plans; `existingNetns` the namespaces there are.
 */
export async function splitTouchedLinks(
  links: KnownLinks,
  touched: readonly string[],
  input: { snapshot: HostSnapshot; sandboxes: readonly DesiredSandbox[]; existingNetns: ReadonlySet<string> },
): Promise<LinksToObserve> {
  await links.listing;
  const absent = new Set(firstBuildVeths(input));
  const known: ObservedLink[] = [];
  const observe: string[] = [];
  for (const name of new Set(touched)) {
    const link = isLabnetVxlan(name) ? undefined : links.byName.get(name);
    if (link) {
      known.push(link);
    } else if (!absent.has(name)) {
      observe.push(name);
    }
  }
  return { known, observe };
}

/**
 * Host veths of sandboxes built for the first time: the node is `pending`, its namespace does
 * not exist, and its operation has not been started before (attempts 0), so no converge has
 * made anything of it.
 */
function firstBuildVeths(input: {
  snapshot: HostSnapshot;
  sandboxes: readonly DesiredSandbox[];
  existingNetns: ReadonlySet<string>;
}): string[] {
  const pending = new Set(input.snapshot.nodes.filter((n) => n.state === "pending").map((n) => n.id));
  const untried = new Set(
    input.snapshot.operations
      .filter((op) => op.kind === "node.ensure" && op.attempts === 0)
      .map((op) => op.targetId),
  );
  // A node with another operation open (a removal, a repair) is not a first build.
  const others = new Set(
    input.snapshot.operations.filter((op) => op.kind !== "node.ensure").map((op) => op.targetId),
  );
  return input.sandboxes
    .filter(
      (s) =>
        pending.has(s.nodeId) &&
        untried.has(s.nodeId) &&
        !others.has(s.nodeId) &&
        !input.existingNetns.has(s.netns),
    )
    .flatMap((s) => s.endpoints.map((e) => e.hostVeth));
}

/**
 * Lists `touched` in the background and keeps what it sees for the next converge (present
 * links replace their entries, absent ones leave); a listing that fails forgets everything,
 * so the next converge lists.
 */
export function relistTouchedLinks(runner: Runner, links: KnownLinks, touched: readonly string[]): void {
  const names = [...new Set(touched)];
  links.listing = observeLinks(runner, names).then(
    (seen) => {
      for (const name of names) {
        links.byName.delete(name);
      }
      for (const link of seen) {
        links.byName.set(link.name, link);
      }
    },
    () => {
      links.byName.clear();
    },
  );
}
