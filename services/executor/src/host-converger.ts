import { settleOperations } from "@labnet/commands";
import { type ConvergeDeps, type ConvergeReport, type ConvergeScope, convergeHost } from "./converge";
import { ConvergeLoop } from "./converge-loop";
import type { ExecutorMetrics } from "./metrics";
import { settlementOf } from "./settle";

/** After namespaces of removed nodes went: the kernel has destroyed their veths by then, unless a process holds one. */
const DEPARTED_CHECK_MS = 1_000;

/** A host's converges, with their operations settled and failed targets retried. */
export interface HostConverger {
  /** Resolves when a converge that started after this call has finished and settled. */
  request(scope?: ConvergeScope): Promise<void>;
  /** Stops scheduling converges and waits for the one in progress. */
  close(): Promise<void>;
}

/**
 * Serves one host: every request joins the next converge (converge-loop.ts), which settles
 * all the operations of its snapshot in one transaction. A target that failed is retried by
 * a converge after a backoff, until its operations run out of attempts (settle.ts).
 */
export function createHostConverger(
  options: ConvergeDeps & {
    /** Runs after the operations of a converge were settled (and only then). */
    afterSettle?: (report: ConvergeReport) => Promise<void>;
    /** Measures each settled converge (metrics.ts). */
    metrics?: Pick<ExecutorMetrics, "observeConverge">;
  },
): HostConverger {
  const deps: ConvergeDeps = { known: { links: { byName: new Map() } }, ...options };
  const later = createLaterConverge((scope) => loop.request(scope), deps);

  const loop = new ConvergeLoop(async (scope) => {
    const started = performance.now();
    const report = await convergeHost(deps, scope);
    if (report.departed) {
      later.schedule(DEPARTED_CHECK_MS, "host");
    }
    if (report.operations.length === 0) {
      return;
    }
    const settlement = settlementOf(report);
    const settling = performance.now();
    await settleOperations(deps.db, settlement);
    options.metrics?.observeConverge(report, settlement, performance.now() - settling);
    deps.log.info("converged", {
      ...report.timings,
      settle: Math.round(performance.now() - settling),
      scope,
      operations: report.operations.length,
      succeeded: settlement.succeeded.length,
      retrying: settlement.retrying.length,
      failed: settlement.failed.length,
      ms: Math.round(performance.now() - started),
    });
    const final = new Set(settlement.failed.map(({ op }) => op.id));
    for (const { op, problem } of [...settlement.failed, ...settlement.retrying]) {
      deps.log.warn("operation attempt failed", {
        op: op.id,
        kind: op.kind,
        target: op.targetId,
        final: final.has(op.id),
        detail: problem.detail,
      });
    }
    if (settlement.retryInMs !== undefined) {
      later.schedule(settlement.retryInMs, "changed");
    }
    await options.afterSettle?.(report);
  });

  return {
    request: (scope = "changed") => loop.request(scope),
    async close() {
      later.cancel();
      await loop.idle();
    },
  };
}

/**
 * One timer for converges a converge asks for (retries, the departed-veth check): the
 * earliest time asked for wins, with the widest scope asked for.
 */
function createLaterConverge(
  request: (scope: ConvergeScope) => Promise<void>,
  deps: Pick<ConvergeDeps, "log">,
): { schedule(delayMs: number, scope: "changed" | "host"): void; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let at = Number.POSITIVE_INFINITY;
  let scope: "changed" | "host" = "changed";
  let cancelled = false;
  return {
    schedule(delayMs, wanted) {
      if (cancelled) {
        return;
      }
      scope = scope === "host" || wanted === "host" ? "host" : "changed";
      if (Date.now() + delayMs >= at) {
        return;
      }
      clearTimeout(timer);
      at = Date.now() + delayMs;
      timer = setTimeout(() => {
        const due = scope;
        at = Number.POSITIVE_INFINITY;
        scope = "changed";
        request(due).catch((error: unknown) =>
          deps.log.error("scheduled converge failed", { error: String(error) }),
        );
      }, delayMs);
    },
    cancel() {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}
