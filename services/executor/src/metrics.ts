import type { Logger } from "@labnet/log";
import type { Redis } from "ioredis";
import { Counter, Histogram, Registry } from "prom-client";
import type { ConvergeReport } from "./converge";
import type { Settlement } from "./settle";

/** What the executor measures: its converges' phases and the operations they settle. */
export interface ExecutorMetrics {
  registry: Registry;
  /** After a converge's operations were settled (`settleMs`: the settling transaction). */
  observeConverge(report: ConvergeReport, settlement: Settlement, settleMs: number): void;
}

const PHASE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const OPERATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * The executor's registry, every series labelled `host` (the lab host's name), so the gateway
 * can merge the executors' registries without summing one host's numbers into another's.
 */
export function createExecutorMetrics(hostName: string): ExecutorMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ host: hostName });
  const phases = new Histogram({
    name: "labnet_converge_phase_duration_seconds",
    help: "Time of each phase of a converge (snapshot, observe, plan, apply, names, settle).",
    labelNames: ["phase"],
    buckets: PHASE_BUCKETS,
    registers: [registry],
  });
  const converges = new Counter({
    name: "labnet_converges_total",
    help: "Converges that served operations, by scope and whether the host as a whole failed.",
    labelNames: ["scope", "outcome"],
    registers: [registry],
  });
  const operations = new Counter({
    name: "labnet_operations_total",
    help: "Operations settled, by kind and outcome (succeeded, failed).",
    labelNames: ["kind", "outcome"],
    registers: [registry],
  });
  const durations = new Histogram({
    name: "labnet_operation_duration_seconds",
    help: "From an operation's creation to its settlement (queue, converges and retries included).",
    labelNames: ["kind", "outcome"],
    buckets: OPERATION_BUCKETS,
    registers: [registry],
  });
  const retries = new Counter({
    name: "labnet_operation_retries_total",
    help: "Failed attempts of operations that will be tried again, by kind.",
    labelNames: ["kind"],
    registers: [registry],
  });
  return {
    registry,
    observeConverge(report, settlement, settleMs) {
      for (const [phase, ms] of Object.entries(report.timings)) {
        phases.observe({ phase }, ms / 1000);
      }
      phases.observe({ phase: "settle" }, settleMs / 1000);
      converges.inc({ scope: scopeOf(report), outcome: report.hostFailure ? "failed" : "ok" });
      const now = Date.now();
      const settled = [
        ...settlement.succeeded.map((op) => ({ op, outcome: "succeeded" })),
        ...settlement.failed.map(({ op }) => ({ op, outcome: "failed" })),
      ];
      for (const { op, outcome } of settled) {
        operations.inc({ kind: op.kind, outcome });
        durations.observe({ kind: op.kind, outcome }, (now - op.createdAt.getTime()) / 1000);
      }
      for (const { op } of settlement.retrying) {
        retries.inc({ kind: op.kind });
      }
    },
  };
}

function scopeOf(report: ConvergeReport): string {
  return report.operations.length > 0 ? "operations" : "reconcile";
}

/**
 * Publishes the registry to Redis every `intervalMs` (a key that expires after three missed
 * rounds, so a stopped executor's numbers leave the scrape). Failures are logged, never thrown.
 */
export function startMetricsPublisher(options: {
  redis: Redis;
  key: string;
  registry: Registry;
  intervalMs: number;
  log: Logger;
}): { stop(): void } {
  const publish = async () => {
    const snapshot = JSON.stringify(await options.registry.getMetricsAsJSON());
    await options.redis.set(options.key, snapshot, "PX", options.intervalMs * 3);
  };
  const round = () =>
    publish().catch((error: unknown) => options.log.warn("metrics not published", { error: String(error) }));
  void round();
  const timer = setInterval(round, options.intervalMs);
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
