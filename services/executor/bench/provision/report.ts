/** The provision bench's tables: times, then ratios (never absolute targets). */
import { median, ms, seconds as s, table, ratio as x } from "../harness";
import { percentile } from "./http";
import type { BurstSetup, BurstTeardown, ReadLoad, SingleCalls } from "./labnet";
import type { RequestCostsResult } from "./request-costs";

export interface ToolTimes {
  setupMs: number;
  teardownMs: number;
}

export interface SizeResult {
  n: number;
  networks: number;
  setup: BurstSetup;
  teardown: BurstTeardown;
  batched: ToolTimes;
  /** CPU seconds each part of Labnet used during setup and during teardown. */
  cpu: { setup: StackCpu; teardown: StackCpu };
  /** Undefined when N is above LABNET_BENCH_PER_COMMAND_MAX. */
  perCommand: ToolTimes | undefined;
}

export interface StackCpu {
  gateway: number;
  executor: number;
  postgres: number;
}

export interface SinglesResult {
  labnet: SingleCalls;
  /** One node built / torn down by batched tools, each time. */
  batchedCreateMs: number[];
  batchedDeleteMs: number[];
  roundTripMs: number;
}

export interface ReadsResult {
  burst: number;
  rate: number;
  setupMs: number;
  load: ReadLoad;
  /** The same reads alone before the burst, with what each cost (ms of CPU). */
  alone: { load: ReadLoad; cpuMsPerRead: { gateway: number; postgres: number; client: number } };
  /** Why the burst beside the reads did not finish (the reads are still shown). */
  failure?: string;
}

const total = (t: ToolTimes) => t.setupMs + t.teardownMs;
const labnetTotal = (r: SizeResult) => r.setup.setupMs + r.teardown.teardownMs;

export function printSizes(results: readonly SizeResult[], perCommandMax: number): void {
  if (results.length === 0) {
    return;
  }
  const skipped = results.filter((r) => r.perCommand === undefined).map((r) => r.n);
  const lines = [
    "",
    "Burst: N nodes with one published port each, created by 8 concurrent clients over HTTP until all are",
    "ready, then deleted the same way, their networks right after them (no wait between); the same",
    "kernel state built and torn down by batched tools and by one process per command (seconds)",
    "",
    table(
      [
        "N",
        "networks",
        "labnet setup",
        "labnet teardown",
        "batched setup",
        "batched teardown",
        "per-cmd setup",
        "per-cmd teardown",
      ],
      results.map((r) => [
        String(r.n),
        String(r.networks),
        s(r.setup.setupMs),
        s(r.teardown.teardownMs),
        s(r.batched.setupMs),
        s(r.batched.teardownMs),
        r.perCommand === undefined ? "-" : s(r.perCommand.setupMs),
        r.perCommand === undefined ? "-" : s(r.perCommand.teardownMs),
      ]),
    ),
    ...(skipped.length > 0
      ? [
          ``,
          `per command not run for N = ${skipped.join(", ")} (above LABNET_BENCH_PER_COMMAND_MAX=${perCommandMax})`,
        ]
      : []),
    "",
    "Ratios: Labnet / batched tools (L/B) and Labnet / one process per command (L/C); ms per node = (setup + teardown) / N",
    "",
    table(
      [
        "N",
        "setup L/B",
        "teardown L/B",
        "total L/B",
        "setup L/C",
        "teardown L/C",
        "total L/C",
        "ms/node labnet",
        "ms/node batched",
        "ms/node per-cmd",
      ],
      results.map((r) => [
        String(r.n),
        x(r.setup.setupMs / r.batched.setupMs),
        x(r.teardown.teardownMs / r.batched.teardownMs),
        x(labnetTotal(r) / total(r.batched)),
        r.perCommand === undefined ? "-" : x(r.setup.setupMs / r.perCommand.setupMs),
        r.perCommand === undefined ? "-" : x(r.teardown.teardownMs / r.perCommand.teardownMs),
        r.perCommand === undefined ? "-" : x(labnetTotal(r) / total(r.perCommand)),
        ms(labnetTotal(r) / r.n),
        ms(total(r.batched) / r.n),
        r.perCommand === undefined ? "-" : ms(total(r.perCommand) / r.n),
      ]),
    ),
    "",
    ...growthLines(results),
    "",
    "Labnet during the bursts: accept rate of the POSTs (and of the DELETEs), POST latency, operations",
    "settled per converge (distinct finished_at of the burst's operations) and converges per second",
    "",
    table(
      [
        "N",
        "POST/s",
        "POST p50 ms",
        "POST p99 ms",
        "DELETE/s",
        "ops/converge setup",
        "ops/converge teardown",
        "converges/s setup",
        "converges/s teardown",
      ],
      results.map((r) => [
        String(r.n),
        r.setup.acceptPerSecond.toFixed(0),
        ms(r.setup.postP50),
        ms(r.setup.postP99),
        r.teardown.deletePerSecond.toFixed(0),
        r.setup.converges.perConverge.toFixed(1),
        r.teardown.converges.perConverge.toFixed(1),
        r.setup.converges.perSecond.toFixed(1),
        r.teardown.converges.perSecond.toFixed(1),
      ]),
    ),
    "",
    "CPU per node during the bursts (ms): what each part of Labnet used, from /proc, per node built",
    "and per node torn down",
    "",
    table(
      [
        "N",
        "gateway setup",
        "executor setup",
        "postgres setup",
        "gateway teardown",
        "executor teardown",
        "postgres teardown",
      ],
      results.map((r) => {
        const per = (seconds: number) => ((seconds * 1000) / r.n).toFixed(2);
        const { setup, teardown } = r.cpu;
        return [
          String(r.n),
          per(setup.gateway),
          per(setup.executor),
          per(setup.postgres),
          per(teardown.gateway),
          per(teardown.executor),
          per(teardown.postgres),
        ];
      }),
    ),
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

/** Per-node cost at the largest N against N=100 (or the smallest N when 100 was not run). */
function growthLines(results: readonly SizeResult[]): string[] {
  const last = results[results.length - 1];
  const base = results.find((r) => r.n === 100) ?? results[0];
  if (last === undefined || base === undefined || last === base) {
    return ["(one size only: no per-node growth)"];
  }
  const perNode = (t: number, n: number) => t / n;
  const growth = (a: number, b: number) => x(perNode(a, last.n) / perNode(b, base.n));
  const perCommand =
    last.perCommand === undefined || base.perCommand === undefined
      ? "- (not run at both sizes)"
      : growth(total(last.perCommand), total(base.perCommand));
  return [
    `Per-node cost at N=${last.n} vs N=${base.n}: labnet ${growth(labnetTotal(last), labnetTotal(base))} ` +
      `(setup ${growth(last.setup.setupMs, base.setup.setupMs)}, teardown ${growth(last.teardown.teardownMs, base.teardown.teardownMs)}), ` +
      `batched ${growth(total(last.batched), total(base.batched))}, per command ${perCommand}`,
  ];
}

export function printSingles(result: SinglesResult): void {
  const rows = (
    [
      ["create (201, ready)", result.labnet.createMs, result.batchedCreateMs],
      ["delete (204)", result.labnet.deleteMs, result.batchedDeleteMs],
    ] as const
  ).map(([name, labnet, batched]) => {
    const floor = median(batched) + result.roundTripMs;
    return [
      name,
      ms(percentile(labnet, 50)),
      ms(percentile(labnet, 90)),
      ms(Math.max(...labnet)),
      ms(median(batched)),
      ms(floor),
      x(percentile(labnet, 50) / floor),
      x(Math.max(...labnet) / floor),
    ];
  });
  const lines = [
    "",
    `Sequential single calls: ${result.labnet.createMs.length} nodes (one published port each) created one at a time with`,
    "`Prefer: wait=30`, then deleted one at a time, each followed by building (tearing down) that one",
    "node with batched tools (alternately: both see the machine as it is at that moment); ratios",
    `against batched tools plus one HTTP round trip (GET /v1/healthz, median ${ms(result.roundTripMs)} ms) (ms)`,
    "",
    table(
      [
        "call",
        "labnet p50",
        "labnet p90",
        "labnet max",
        "batched",
        "batched + RTT",
        "p50 ratio",
        "worst ratio",
      ],
      rows,
    ),
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

export function printReads(result: ReadsResult): void {
  const { load, alone } = result;
  const sent = (l: ReadLoad) =>
    `${l.seconds.toFixed(1)} s, ${l.rate.toFixed(0)} requests/s sent, send lag at most ${ms(l.maxLagMs)} ms` +
    (l.skipped > 0 ? `, ${l.skipped} sends skipped (600 unanswered)` : "");
  const rows = (phase: string, l: ReadLoad) =>
    l.byPath.map((r) => [phase, r.path, String(r.ok), String(r.errors), ms(r.p50), ms(r.p99), ms(r.max)]);
  const cpu = alone.cpuMsPerRead;
  const cores = ((cpu.gateway + cpu.postgres + cpu.client) * alone.load.rate) / 1000;
  const lines = [
    "",
    `Reads at an open loop of ${result.rate}/s, alone (${sent(alone.load)}) and while a ${result.burst}-node ` +
      "burst is provisioned (8 clients; " +
      (result.failure === undefined
        ? `ready after ${s(result.setupMs)} s`
        : `the burst did not finish: ${result.failure}`) +
      `; ${sent(load)}) (latency in ms, of the 200s)`,
    "",
    table(
      ["phase", "read", "200", "errors", "p50", "p99", "max"],
      [...rows("alone", alone.load), ...rows("beside the burst", load)],
    ),
    "",
    `CPU per read alone: gateway ${ms(cpu.gateway)} ms, Postgres ${ms(cpu.postgres)} ms, the bench's client ` +
      `${ms(cpu.client)} ms: ${cores.toFixed(2)} cores at this rate`,
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

export function printRequestCosts(result: RequestCostsResult): void {
  const rows = result.costs.map((c) => {
    const total = c.gateway + c.postgres + c.client;
    return [
      c.request,
      String(c.answered),
      c.perSecond.toFixed(0),
      ms(c.gateway),
      ms(c.postgres),
      ms(c.client),
      ms(total),
      ((result.cores * 1000) / total).toFixed(0),
    ];
  });
  const lines = [
    "",
    `CPU per request at saturation: ${result.cores} cores, 8 closed-loop clients, one kind at a time for up to ` +
      `${result.seconds} s (creations recorded, not built; removals until all are answered); ceiling = ` +
      "cores / total, the most per second this machine could answer of that kind with nothing else running",
    "",
    table(
      ["request", "answered", "per s", "gateway ms", "postgres ms", "client ms", "total ms", "ceiling/s"],
      rows,
    ),
    "",
  ];
  process.stdout.write(lines.join("\n"));
}
