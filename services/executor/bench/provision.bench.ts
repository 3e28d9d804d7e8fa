/**
 * `npm run bench` (part 3): provisioning end to end. Labnet as it runs on a lab host (HTTP →
 * gateway → Postgres → outbox → Redis → executor → kernel) against the same kernel state built
 * by batched standard tools and by one process per command, in the same run, as ratios:
 *
 *   - bursts of N = 10, 100, 300, 1,000 nodes (ceil(N/250) networks, one published port per
 *     node) from 8 concurrent clients: setup until every node is ready, teardown until every
 *     node and network is gone, each timed separately; the batched tools and (up to N=300 by
 *     default) one process per command build and tear down the same state;
 *   - during each burst: the API's accept rate, operations settled per converge (the executor
 *     settles one converge's operations in one transaction, so they share `finished_at`) and
 *     converges per second;
 *   - sequential single calls (`Prefer: wait=30`), each followed by one node built with batched tools
 *     plus one HTTP round trip;
 *   - p50/p99 of reads (`GET /v1/nodes/{id}`, `GET /v1/nodes?network=` of 50 nodes) at an open
 *     loop of 300 requests/s while a 300-node burst is provisioned;
 *   - the CPU one request of each kind costs at saturation, and so the most of each this machine
 *     could answer per second (provision/request-costs.ts).
 *
 * Each timed phase starts on a quiet machine (waitForQuietMachine: the kernel tears deleted
 * namespaces down after `ip netns del` returns, and that must not land on the next phase).
 *
 * Sizes and the rest come from the environment (bench/provision/config.ts), e.g.
 * `LABNET_BENCH_SIZES=10,100 npm run bench:provision` for a quick run.
 *
 * Needs root. Everything happens in a throwaway namespace `lbench<pid>-provision` that plays
 * the lab host (its loopback serves the gateway; Postgres and Redis listen on unix sockets in
 * `/tmp/lbench<pid>-provision`), with sandboxes `lbench<pid>-provision-…`; all of it goes
 * afterwards, also on failure or Ctrl-C, and the next run sweeps what a killed one left.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { assertInside, listNetns, machine, runBench, waitForQuietMachine } from "./harness";
import { pings, waitForVethsGone } from "./kernel-tools";
import { CLIENTS, gatewayWorkers, loadBenchConfig, READ_NODES } from "./provision/config";
import { inParallel } from "./provision/http";
import {
  openReadLoop,
  roundTripMs,
  type SingleCalls,
  setupBurst,
  startSingleCalls,
  teardownBurst,
  verifySetup,
  verifyTeardown,
} from "./provision/labnet";
import {
  printReads,
  printRequestCosts,
  printSingles,
  printSizes,
  type ReadsResult,
  type SinglesResult,
  type SizeResult,
  type StackCpu,
} from "./provision/report";
import { measureRequestCosts } from "./provision/request-costs";
import { sweepStaleRuns } from "./provision/run-dir";
import { type LabnetStack, startStack } from "./provision/stack";
import {
  buildBatched,
  buildPerCommand,
  countDnatRules,
  type Layout,
  layoutOf,
  networkCount,
  prepareChains,
  teardownBatched,
  teardownOneBatched,
  teardownPerCommand,
} from "./provision/tools";

/** How long the reads run alone, before the burst beside them. */
const READS_ALONE_MS = 5_000;
/** Host ports of the tools' published ports (outside Labnet's random 32768-60999). */
const TOOLS_FIRST_PORT = 20_000;

async function measure(hostNetns: string): Promise<void> {
  await assertInside(hostNetns);
  const config = loadBenchConfig();
  for (const swept of await sweepStaleRuns(hostNetns)) {
    process.stdout.write(`removed what a killed run left: ${swept}\n`);
  }
  process.stdout.write(
    `provision bench: bursts of N = ${config.sizes.join(", ")} (per command up to N=${config.perCommandMax}), ` +
      `${config.singles} single calls, reads during a ${config.readBurst}-node burst; gateway workers: ${gatewayWorkers()}; ` +
      `executor nice: ${process.env.LABNET_EXECUTOR_NICE ?? "10 (its default)"}; ` +
      `logs in /tmp/${hostNetns}/logs\n` +
      `${machine()} at the start (other work on the machine skews every ratio)\n`,
  );
  const stack = await startStack(hostNetns);
  let ok = false;
  try {
    const runPrefix = `${hostNetns}-`;
    await prepareChains();
    await warmUp(stack, config.warmup, runPrefix);
    const results: SizeResult[] = [];
    for (const n of config.sizes) {
      results.push(await measureSize(stack, n, config.perCommandMax, runPrefix));
    }
    printSizes(results, config.perCommandMax);
    if (config.singles > 0) {
      printSingles(await measureSingles(stack, config.singles, runPrefix));
    }
    if (config.readBurst > 0) {
      printReads(await measureReads(stack, config.readBurst, config.readRate));
    }
    if (config.requestCosts > 0) {
      progress(`request costs: each kind at saturation for up to ${config.requestCosts} s`);
      printRequestCosts(await measureRequestCosts(stack, config.requestCosts));
    }
    process.stdout.write(`\n${machine()} at the end\n`);
    ok = true;
  } finally {
    await stack.stop({ keepLogs: !ok || config.keepLogs });
    if (!ok || config.keepLogs) {
      process.stderr.write(`logs of the gateway and executor kept in ${stack.paths.logs}\n`);
    }
  }
}

/** Single calls of the warm-up, per node of its burst. */
const WARMUP_SINGLES_PER_NODE = 0.2;

/**
 * Untimed: the first bridges, veths and NAT rules load kernel modules; a burst of `nodes`, reads
 * of its nodes and single calls run each kind of request a few hundred times, so that the
 * gateway's and the executor's JavaScript is compiled as in services that have been running
 * (a fresh process runs its first hundreds of requests on unoptimized code, several times
 * slower; the batched tools are compiled programs).
 */
async function warmUp(stack: LabnetStack, nodes: number, runPrefix: string): Promise<void> {
  progress(`warm-up: a burst of ${nodes} nodes, reads and single calls (untimed)`);
  await timeTools(layoutOf(4, "w", runPrefix, 126, TOOLS_FIRST_PORT), "batched");
  const warm = await setupBurst(stack, nodes, { tag: "warm", subnetOffset: 240 });
  const network = warm.networks[0];
  await inParallel(nodes * 2, CLIENTS, (i) =>
    i % 4 === 0 && network
      ? stack.api.expect([200], "GET", `/v1/nodes?network=${network.id}`)
      : stack.api.expect([200], "GET", `/v1/nodes/${warm.nodes[i % warm.nodes.length]?.id}`),
  );
  await teardownBurst(stack, warm);
  const singles = await startSingleCalls(stack, "warm1");
  const count = Math.max(1, Math.round(nodes * WARMUP_SINGLES_PER_NODE));
  for (let i = 0; i < count; i++) {
    await singles.create();
  }
  for (let i = 0; i < count; i++) {
    await singles.remove();
  }
  await singles.close();
  await waitForVethsGone();
}

async function measureSize(
  stack: LabnetStack,
  n: number,
  perCommandMax: number,
  runPrefix: string,
): Promise<SizeResult> {
  progress(`N=${n}: labnet burst`);
  await waitForQuietMachine();
  const before = await stack.cpuSeconds();
  const setup = await setupBurst(stack, n, { tag: `burst${n}` });
  const built = await stack.cpuSeconds();
  await verifySetup(stack, setup);
  const verified = await stack.cpuSeconds();
  const teardown = await teardownBurst(stack, setup);
  const removed = await stack.cpuSeconds();
  await verifyTeardown(stack);
  await waitForVethsGone();
  progress(`N=${n}: labnet ${sec(setup.setupMs)} + ${sec(teardown.teardownMs)} s; batched tools`);
  const batched = await timeTools(layoutOf(n, "b", runPrefix, 124, TOOLS_FIRST_PORT), "batched");
  let perCommand: SizeResult["perCommand"];
  if (n <= perCommandMax) {
    progress(
      `N=${n}: batched ${sec(batched.setupMs)} + ${sec(batched.teardownMs)} s; one process per command`,
    );
    perCommand = await timeTools(layoutOf(n, "c", runPrefix, 125, TOOLS_FIRST_PORT), "per-command");
    progress(`N=${n}: per command ${sec(perCommand.setupMs)} + ${sec(perCommand.teardownMs)} s`);
  } else {
    progress(`N=${n}: batched ${sec(batched.setupMs)} + ${sec(batched.teardownMs)} s`);
  }
  const cpu = { setup: cpuBetween(before, built), teardown: cpuBetween(verified, removed) };
  return { n, networks: networkCount(n), setup, teardown, batched, cpu, perCommand };
}

function cpuBetween(from: StackCpu, to: StackCpu): StackCpu {
  return {
    gateway: to.gateway - from.gateway,
    executor: to.executor - from.executor,
    postgres: to.postgres - from.postgres,
  };
}

/** Builds and tears down `layout` one way, checks it was real, waits until the kernel is quiet. */
async function timeTools(
  layout: Layout,
  way: "batched" | "per-command",
): Promise<{ setupMs: number; teardownMs: number }> {
  await waitForQuietMachine();
  const started = performance.now();
  if (way === "batched") {
    await buildBatched(layout.networks, layout.nodes);
  } else {
    await buildPerCommand(layout);
  }
  const built = performance.now();
  const [from] = layout.nodes;
  const to = layout.nodes[layout.networks.length];
  if (from === undefined || to === undefined || !(await pings(`/run/netns/${from.netns}`, to.address))) {
    throw new Error(`${way}: ${from?.netns} does not reach ${to?.address}`);
  }
  const dnat = await countDnatRules();
  if (dnat < layout.nodes.length) {
    throw new Error(`${way}: want ${layout.nodes.length} DNAT rules, found ${dnat}`);
  }
  const tearing = performance.now();
  if (way === "batched") {
    await teardownBatched(layout);
  } else {
    await teardownPerCommand(layout);
  }
  const gone = performance.now();
  const sandboxPrefix = from.netns.slice(0, from.netns.lastIndexOf("-") + 1);
  const left = await listNetns(sandboxPrefix);
  if (left.length > 0) {
    throw new Error(`${way}: ${left.length} namespaces left after teardown`);
  }
  await waitForVethsGone();
  return { setupMs: built - started, teardownMs: gone - tearing };
}

async function measureSingles(stack: LabnetStack, count: number, runPrefix: string): Promise<SinglesResult> {
  progress(`${count} single calls: labnet and batched tools, alternately`);
  const singles = await startSingleCalls(stack, "single");
  const layout = layoutOf(count, "s", runPrefix, 127, TOOLS_FIRST_PORT);
  await buildBatched(layout.networks, []);
  await waitForQuietMachine();
  const roundTrip = await roundTripMs(stack.api);
  // Each Labnet call, then the same node built (torn down) by batched tools: both measured at
  // the same moment of the machine.
  const labnet: SingleCalls = { createMs: [], deleteMs: [] };
  const batchedCreateMs: number[] = [];
  for (const node of layout.nodes) {
    labnet.createMs.push(await singles.create());
    const started = performance.now();
    await buildBatched([], [node]);
    batchedCreateMs.push(performance.now() - started);
  }
  const [from, to] = layout.nodes;
  if (from !== undefined && to !== undefined && !(await pings(`/run/netns/${from.netns}`, to.address))) {
    throw new Error(`single nodes: ${from.netns} does not reach ${to.address}`);
  }
  const batchedDeleteMs: number[] = [];
  for (const node of layout.nodes) {
    labnet.deleteMs.push(await singles.remove());
    const started = performance.now();
    await teardownOneBatched(node);
    batchedDeleteMs.push(performance.now() - started);
  }
  await singles.close();
  await teardownBatched({ networks: layout.networks, nodes: [] });
  await waitForVethsGone();
  return { labnet, batchedCreateMs, batchedDeleteMs, roundTripMs: roundTrip };
}

async function measureReads(stack: LabnetStack, burst: number, rate: number): Promise<ReadsResult> {
  progress(`reads: ${READ_NODES} nodes to read`);
  // The nodes the reads target, on a network of their own (10.123.200.0/24), ready before.
  const targets = await setupBurst(stack, READ_NODES, { tag: "read", subnetOffset: 200 });
  const network = targets.networks[0];
  if (network === undefined) {
    throw new Error("no network for the read targets");
  }
  await waitForQuietMachine();
  // Alone first: what the reads themselves cost the machine, without the burst beside them.
  progress(`reads: ${rate}/s alone for ${READS_ALONE_MS / 1000} s`);
  const open = () =>
    openReadLoop(
      stack.api,
      rate,
      targets.nodes.map((node) => node.id),
      network.id,
    );
  const aloneReads = await open();
  const cpuBefore = await stack.cpuSeconds();
  const clientBefore = process.cpuUsage();
  aloneReads.start();
  await sleep(READS_ALONE_MS);
  const aloneLoad = await aloneReads.stop();
  const cpuAfter = await stack.cpuSeconds();
  const client = process.cpuUsage(clientBefore);
  const sent = aloneLoad.rate * aloneLoad.seconds;
  const alone = {
    load: aloneLoad,
    cpuMsPerRead: {
      gateway: ((cpuAfter.gateway - cpuBefore.gateway) * 1000) / sent,
      postgres: ((cpuAfter.postgres - cpuBefore.postgres) * 1000) / sent,
      client: (client.user + client.system) / 1000 / sent,
    },
  };
  await waitForQuietMachine();
  progress(`reads: ${rate}/s while ${burst} nodes are provisioned`);
  const reads = await open();
  reads.start();
  const outcome = await setupBurst(stack, burst, { tag: "rburst" }).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  // Stopped also on failure, so no request is left in flight.
  const load = await reads.stop();
  if ("error" in outcome) {
    // What the reads saw is shown before the bench fails: a gateway too busy to answer a
    // burst's request within its time beside the reads is itself the finding.
    const failure = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    printReads({ burst, rate, setupMs: Number.NaN, load, alone, failure });
    throw new Error(`the ${burst}-node burst beside ${rate} reads/s did not finish: ${failure}`);
  }
  const setup = outcome.value;
  await teardownBurst(stack, setup);
  await teardownBurst(stack, targets);
  await verifyTeardown(stack);
  await waitForVethsGone();
  return { burst, rate, setupMs: setup.setupMs, load, alone };
}

function progress(message: string): void {
  process.stdout.write(`  ${message}\n`);
}

function sec(value: number): string {
  return (value / 1000).toFixed(2);
}

runBench({
  name: "provision",
  needs: "network namespaces, veths, iptables, and a private Postgres and Redis",
  url: import.meta.url,
  measure,
});
