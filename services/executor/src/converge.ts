import type { Db } from "@labnet/db";
import { type DesiredHost, planHost, routeLocalnetBridges } from "@labnet/netplan";
import { loadDesiredHost } from "./desired-state";
import { applyPlan, applyRouteLocalnet, observeHost, type Runner } from "./kernel";

export interface ConvergeDeps {
  db: Db;
  runner: Runner;
  hostId: string;
  netnsPrefix: string;
  /**
   * Runs after every converge with the state it built (name resolution follows what was just
   * built or removed).
   */
  afterConverge?: (applied: DesiredHost) => Promise<void>;
}

/**
 * Which sandboxes to look into. Looking costs a process or two per sandbox, so jobs look
 * only at their own node; the reconcile loop looks at all of them.
 */
export type SandboxScope = { kind: "all" } | { kind: "only"; netns: string[] };

/**
 * Makes the host's kernel match Postgres: load desired state, observe, plan the
 * difference, apply it. Labnet objects no longer desired are pruned every time (that is
 * cheap: one link listing), so a removal is a converge like any other.
 */
export async function convergeHost(deps: ConvergeDeps, scope: SandboxScope): Promise<void> {
  const desired = await loadDesiredHost(deps.db, deps.hostId);
  const sandboxes = scope.kind === "all" ? desired.sandboxes.map((s) => s.netns) : scope.netns;
  const observed = await observeHost(deps.runner, { netnsPrefix: deps.netnsPrefix, sandboxes });
  const plan = planHost(desired, observed, { netnsPrefix: deps.netnsPrefix, prune: true });
  await applyPlan(deps.runner, plan);
  // After the plan: the bridges exist now. Published ports' loopback callers need it.
  await applyRouteLocalnet(
    deps.runner,
    desired.bridges.map((b) => b.bridge),
    routeLocalnetBridges(desired.portMappings),
  );
  await deps.afterConverge?.(desired);
}

/**
 * Runs kernel changes one at a time: jobs and the reconcile loop both converge the
 * whole host, and two interleaved plans could undo each other.
 */
export class SerialLock {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(fn, fn);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
