import {
  type Database,
  type HostSnapshot,
  loadHostSnapshot,
  loadHostSnapshotIfOpen,
  type OperationRow,
  startOperations,
} from "@labnet/db";
import type { Logger } from "@labnet/log";
import {
  type DesiredHost,
  type DesiredSandbox,
  describePlan,
  foreignBridgeNames,
  type ObservedHost,
  planHost,
  type ResolverHost,
  routeLocalnetBridges,
  ruleSetAfter,
} from "@labnet/netplan";
import { desiredHostOf, kernelOwnersOf, liveStateOf, type Target, vxlanNamesOf } from "./desired-state";
import { dropInvalidTargets } from "./desired-validate";
import { resolverStateOf } from "./dns/resolver-state";
import {
  type ApplyFailure,
  applyPlan,
  applyRouteLocalnet,
  describeFailure,
  type NetnsOwner,
  observeHost,
  type Runner,
} from "./kernel";
import { listNetns, NETNS_DIR } from "./kernel/observe";
import { type KnownLinks, relistTouchedLinks, splitTouchedLinks } from "./known-links";

/** Sandboxes one reconcile (`all`) looks into, in turn. */
export const RECONCILE_SANDBOXES = 128;

export interface ConvergeDeps {
  db: Database;
  runner: Runner;
  hostId: string;
  netnsPrefix: string;
  /**
   * The host's own IPv4 addresses with prefix (its uplink's, as detected at start): a bridge
   * overlapping one is failed instead of built (the API refuses such subnets already).
   */
  ownAddresses?: readonly string[];
  log: Logger;
  /**
   * What the last converge left in the kernel, so a converge that serves operations need not
   * read it back or set it again: the host's rules (`ruleSetAfter`; cleared when a restore
   * fails) and the route_localnet settings of its bridges. `all` converges read and set
   * everything (drift repair).
   */
  known?: {
    /** Host links as a listing after the last apply saw them (see known-links.ts). */
    links?: KnownLinks;
    rules?: string | undefined;
    routeLocalnet?: string | undefined;
    /** Where the next `all` converge's window of sandboxes starts (see RECONCILE_SANDBOXES). */
    reconcileCursor?: number;
  };
  /** Name resolution of the host, brought in line by every converge (see ConvergeNames). */
  names?: ConvergeNames;
  /**
   * False while the machine cannot be converged yet (a virtual machine whose namespace its lab
   * host has not built): the converge then starts no operation; a later one serves them.
   */
  ready?: () => Promise<boolean>;
  /**
   * Owners of namespaces about to be created that belong to a user namespace (a virtual
   * machine's and its nodes'); the rest are made by `ip netns add`.
   */
  netnsOwners?: (netns: readonly string[]) => Promise<ReadonlyMap<string, NetnsOwner>>;
}

/**
 * `changed`: serve the open operations; look into the sandboxes of the nodes they name
 * (looking costs a process per sandbox) and do nothing at all when none is open.
 * `host`: the same, but also when nothing is open (prunes what the host still holds).
 * `all`: the reconcile loop; read the host's rules and links again and repair whatever drifted,
 * looking into the next RECONCILE_SANDBOXES sandboxes in turn.
 */
export type ConvergeScope = "changed" | "host" | "all";

/** What one converge did. */
export interface ConvergeReport {
  /** The open operations of its snapshot, as started (attempt counted). */
  operations: OperationRow[];
  /** Network or node id → why it could not be converged. */
  failures: Map<string, string>;
  /** Failures that belong to no one target (the firewall, a whole step): every operation fails with them. */
  hostFailure?: string;
  /** Milliseconds per phase (snapshot, observe, plan, apply, names), for logs and benches. */
  timings: Record<string, number>;
  /**
   * Namespaces of removed nodes were deleted, leaving their host veths to go with them. A
   * process still inside a namespace keeps it (and its veths) alive after `netns del`, so a
   * later `host` converge prunes whatever is left.
   */
  departed: boolean;
}

/**
 * What a converge asks of name resolution, from the snapshot it converges: the nodes' resolver
 * files, which need no kernel object, are written while the kernel work runs (a single node's
 * converge waits for the slower of the two, not for both); the zone and the responder, which
 * listens on bridges, follow once the apply built them.
 */
export interface ConvergeNames {
  files(resolver: ResolverHost, scope: ConvergeScope): Promise<void>;
  serve(applied: DesiredHost, resolver: ResolverHost): Promise<void>;
}

/**
 * Makes the host's kernel match one snapshot of Postgres: load the snapshot (desired state and
 * the operations it serves), observe, plan the difference, apply it, bring name resolution in
 * line. Labnet objects no longer desired are pruned every time, so a removal is a converge
 * like any other. A target whose kernel work fails is reported in `failures` and the rest of
 * the host converges; the caller settles the operations (settle.ts).
 */
export async function convergeHost(deps: ConvergeDeps, scope: ConvergeScope): Promise<ConvergeReport> {
  const clock = phaseClock();
  // A converge of changes with nothing open (its operations served by an earlier one, woken
  // sooner) reads no more than that.
  const snapshot =
    scope === "changed"
      ? await loadHostSnapshotIfOpen(deps.db, deps.hostId)
      : await loadHostSnapshot(deps.db, deps.hostId);
  if (!snapshot || (scope === "changed" && snapshot.operations.length === 0)) {
    return { operations: [], failures: new Map(), departed: false, timings: clock.done("snapshot") };
  }
  if (deps.ready && !(await deps.ready())) {
    return { operations: [], failures: new Map(), departed: false, timings: clock.done("not ready") };
  }
  // Marked running while the converge looks at the kernel and applies: that needs only the
  // snapshot, and the round trip is off the single node's path.
  const starting = startOperations(
    deps.db,
    snapshot.operations.map((op) => op.id),
  );
  starting.catch(() => {});
  try {
    return await convergeSnapshot(deps, scope, snapshot, starting, clock);
  } catch (error) {
    // A failed start is thrown as before: the operations stay queued, and what was applied
    // meanwhile is planned as done by the next converge.
    const operations = await starting;
    // The kernel side failed as a whole (a tool missing, a parse error): the operations are
    // settled with it, so they are retried and finally failed, rather than left running.
    deps.log.error("converge failed", {
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    return {
      operations,
      failures: new Map(),
      hostFailure: error instanceof Error ? error.message : String(error),
      departed: false,
      timings: clock.done("failed"),
    };
  }
}

/** The converge of a loaded snapshot whose operations are started. */
async function convergeSnapshot(
  deps: ConvergeDeps,
  scope: ConvergeScope,
  snapshot: HostSnapshot,
  starting: Promise<OperationRow[]>,
  clock: PhaseClock,
): Promise<ConvergeReport> {
  const live = liveStateOf(snapshot);
  const valid = dropInvalidTargets(desiredHostOf(snapshot, live), deps.netnsPrefix, deps.ownAddresses);
  const failures = new Map(valid.invalid);
  const resolver = resolverStateOf(snapshot, live);
  // Awaited after the apply; until then its rejection is not left unhandled.
  const files = deps.names?.files(resolver, scope);
  files?.catch(() => {});
  clock.lap("snapshot");

  const known = scope === "all" ? undefined : deps.known?.rules;
  const named =
    scope === "all"
      ? [
          ...new Set([
            ...reconcileWindow(valid.desired.sandboxes, deps.known),
            ...sandboxesNamedBy(snapshot.operations, valid.desired),
          ]),
        ]
      : sandboxesNamedBy(snapshot.operations, valid.desired);
  const touched = scope === "changed" ? linksTouched(snapshot, valid.desired, named) : undefined;
  const knownLinks = deps.known?.links;
  if (!touched && knownLinks) {
    // A converge of the whole host lists every link and may change any: what is known now is
    // not what it leaves.
    await knownLinks.listing;
    knownLinks.byName.clear();
  }
  // Listed once: what the split takes as absent and what observeHost reports agree.
  const netns = touched && knownLinks ? await listNetns(NETNS_DIR, deps.netnsPrefix) : undefined;
  const links =
    touched && knownLinks && netns
      ? await splitTouchedLinks(knownLinks, touched, {
          snapshot,
          sandboxes: named,
          existingNetns: new Set(netns),
        })
      : undefined;
  const seen = await observeHost(deps.runner, {
    netnsPrefix: deps.netnsPrefix,
    ...(netns ? { netns } : {}),
    sandboxes: named.map((s) => s.netns),
    ...(touched ? { hostLinks: links ? links.observe : touched } : {}),
    ...(known === undefined ? {} : { knownIptablesSave: known }),
    ...(valid.desired.overlays ? { vxlans: valid.desired.overlays.map((o) => o.vxlan) } : {}),
  });
  const observed = links ? { ...seen, links: [...seen.links, ...links.known] } : seen;
  clock.lap("observe");
  const desired = withoutForeignBridges(valid.desired, observed, deps, failures);
  const plan = planHost(desired, observed, { netnsPrefix: deps.netnsPrefix, prune: true });
  clock.lap("plan");
  const unattributed: string[] = [];
  const owners = kernelOwnersOf(snapshot);
  for (const [netns, why] of observed.unobservable) {
    const owner = owners.get(netns);
    if (owner) {
      failures.set(owner.id, `sandbox ${netns} cannot be looked into: ${why}`);
    }
  }
  const userOwned =
    plan.netnsAdd.length > 0 && deps.netnsOwners ? await deps.netnsOwners(plan.netnsAdd) : undefined;
  let applyFailures: ApplyFailure[];
  try {
    applyFailures = await applyPlan(deps.runner, plan, userOwned ? { owners: userOwned } : {});
  } finally {
    if (knownLinks) {
      // What this apply left, also when it threw halfway, for the next converge's plan. After
      // a converge of the whole host, the links any later one may touch: else the removals
      // that follow the departed-veth check would each list their veths again.
      relistTouchedLinks(
        deps.runner,
        knownLinks,
        touched ?? linksTouched(snapshot, valid.desired, valid.desired.sandboxes),
      );
    }
  }
  // Its answer is needed for the report only. The statement was sent before any kernel work,
  // so an attempt that kills the executor mid-apply is still counted.
  const operations = await starting;
  if (deps.known) {
    deps.known.rules = applyFailures.some((f) => f.step === "iptables")
      ? undefined
      : ruleSetAfter(plan.iptablesRestore, observed.iptablesSave);
  }
  for (const failure of applyFailures) {
    const target = ownerOf(failure, owners);
    const detail = describeFailure(failure);
    if (target) {
      failures.set(target.id, failures.has(target.id) ? `${failures.get(target.id)}; ${detail}` : detail);
    } else if (failure.line === undefined && failure.netns === undefined) {
      unattributed.push(detail);
    } else {
      // A line of no target's (pruning an orphan): the next converge tries again.
      deps.log.warn("kernel cleanup failed", { detail });
    }
  }
  holdBackNetworkRemovals(snapshot, operations, failures);
  // After the plan: the bridges exist now. Published ports' loopback callers need it.
  const bridges = desired.bridges.map((b) => b.bridge).sort();
  const localnet = routeLocalnetBridges(desired.portMappings);
  const settings = JSON.stringify([bridges, localnet]);
  if (scope === "all" || deps.known?.routeLocalnet !== settings) {
    await applyRouteLocalnet(deps.runner, bridges, localnet).then(
      () => {
        if (deps.known) {
          deps.known.routeLocalnet = settings;
        }
      },
      (error: unknown) => unattributed.push(error instanceof Error ? error.message : String(error)),
    );
  }
  clock.lap("apply");
  await files;
  await deps.names?.serve(desired, resolver);
  return {
    timings: clock.done("names"),
    operations,
    failures,
    departed: plan.netnsDelete.length > 0 && (desired.departingHostVeths?.length ?? 0) > 0,
    ...(unattributed.length > 0 ? { hostFailure: unattributed.join("; ") } : {}),
  };
}

/**
 * How far a machine's kernel drifted from its desired state: the changes a full converge would
 * make (describePlan), found without making them. Undefined while operations are open (their
 * changes are not drift). A lab machine's reconcile reports this instead of repairing.
 */
export async function detectDrift(deps: ConvergeDeps): Promise<string[] | undefined> {
  const snapshot = await loadHostSnapshot(deps.db, deps.hostId);
  if (snapshot.operations.length > 0) {
    return undefined;
  }
  const valid = dropInvalidTargets(
    desiredHostOf(snapshot, liveStateOf(snapshot)),
    deps.netnsPrefix,
    deps.ownAddresses,
  );
  const observed = await observeHost(deps.runner, {
    netnsPrefix: deps.netnsPrefix,
    sandboxes: valid.desired.sandboxes.map((s) => s.netns),
  });
  const desired = withoutForeignBridges(valid.desired, observed, deps, new Map());
  return describePlan(planHost(desired, observed, { netnsPrefix: deps.netnsPrefix, prune: true }));
}

/**
 * `desired` without the bridges whose chosen names the kernel has as links that are not
 * Labnet's (and what stands on them), each failed into `failures`: the host's own `docker0`
 * is never taken over, and one such network does not stop the rest.
 */
function withoutForeignBridges(
  desired: DesiredHost,
  observed: ObservedHost,
  deps: ConvergeDeps,
  failures: Map<string, string>,
): DesiredHost {
  const foreign = foreignBridgeNames(desired, observed);
  if (foreign.length === 0) {
    return desired;
  }
  const kept = dropInvalidTargets(desired, deps.netnsPrefix, deps.ownAddresses, new Set(foreign));
  for (const [id, why] of kept.invalid) {
    failures.set(id, why);
  }
  return kept.desired;
}

/**
 * Sandboxes a reconcile looks into: looking costs a process each, so a reconcile takes the
 * next RECONCILE_SANDBOXES of them in turn (a host of 1,000 nodes is gone through every
 * eight reconciles) rather than all of them every time. Missing namespaces, stray ones and
 * every host link are still checked on every reconcile.
 */
export function reconcileWindow(
  sandboxes: readonly DesiredSandbox[],
  known: ConvergeDeps["known"],
): DesiredSandbox[] {
  if (sandboxes.length <= RECONCILE_SANDBOXES || !known) {
    return [...sandboxes];
  }
  const start = (known.reconcileCursor ?? 0) % sandboxes.length;
  known.reconcileCursor = start + RECONCILE_SANDBOXES;
  const window = sandboxes.slice(start, start + RECONCILE_SANDBOXES);
  return window.length === RECONCILE_SANDBOXES
    ? window
    : [...window, ...sandboxes.slice(0, RECONCILE_SANDBOXES - window.length)];
}

/** Sandboxes of the nodes that node operations name: only those are looked into. */
function sandboxesNamedBy(operations: readonly OperationRow[], desired: DesiredHost): DesiredSandbox[] {
  const named = new Set(operations.filter((op) => op.targetType === "node").map((op) => op.targetId));
  return desired.sandboxes.filter((s) => named.has(s.nodeId));
}

/**
 * The host links a `changed` converge can touch: every bridge of the snapshot (desired ones
 * are planned, removed ones pruned), the host veths of the sandboxes it plans, and those of
 * removed nodes. A stale link of anything else is the reconcile loop's (it lists them all).
 */
function linksTouched(
  snapshot: HostSnapshot,
  desired: DesiredHost,
  sandboxes: readonly DesiredSandbox[],
): string[] {
  return [
    ...snapshot.networks.map((n) => n.bridgeName),
    ...vxlanNamesOf(snapshot),
    ...desired.bridges.map((b) => b.bridge),
    ...sandboxes.flatMap((s) => s.endpoints.map((e) => e.hostVeth)),
    ...(desired.departingHostVeths ?? []),
  ];
}

/**
 * A network's removal is done only once no node on it is left: one recorded while its nodes
 * were being removed waits (is retried) while a node of it was not removed by this converge,
 * so the record's row never goes before theirs. Pure; adds to `failures`.
 */
export function holdBackNetworkRemovals(
  snapshot: Pick<HostSnapshot, "endpoints" | "nodes">,
  operations: readonly Pick<OperationRow, "kind" | "targetId">[],
  failures: Map<string, string>,
): void {
  const removed = new Set(
    operations
      .filter((op) => op.kind === "node.remove" && !failures.has(op.targetId))
      .map((op) => op.targetId),
  );
  const names = new Map(snapshot.nodes.map((n) => [n.id, n.name]));
  for (const op of operations) {
    if (op.kind !== "network.remove" || failures.has(op.targetId)) {
      continue;
    }
    const left = [
      ...new Set(
        snapshot.endpoints
          .filter((e) => e.networkId === op.targetId && !removed.has(e.nodeId))
          .map((e) => names.get(e.nodeId) ?? e.nodeId),
      ),
    ];
    if (left.length > 0) {
      failures.set(op.targetId, `waits for the removal of ${left.join(", ")}, still on the network`);
    }
  }
}

/** Whose a failed step is: its sandbox's node, or the first kernel name on its line that has an owner. */
function ownerOf(failure: ApplyFailure, owners: ReadonlyMap<string, Target>): Target | undefined {
  if (failure.netns !== undefined) {
    return owners.get(failure.netns);
  }
  for (const word of failure.line?.split(" ") ?? []) {
    const owner = owners.get(word);
    if (owner) {
      return owner;
    }
  }
  return undefined;
}

interface PhaseClock {
  lap(phase: string): void;
  done(phase: string): Record<string, number>;
}

/** Laps of a converge's phases, in milliseconds. */
function phaseClock(): PhaseClock {
  const timings: Record<string, number> = {};
  let last = performance.now();
  const lap = (phase: string) => {
    const now = performance.now();
    timings[phase] = Math.round((now - last) * 10) / 10;
    last = now;
  };
  return {
    lap,
    done(phase) {
      lap(phase);
      return timings;
    },
  };
}
