/**
 * `npm run bench`: what building a node costs as a host fills up, Labnet's way against the
 * naive way, measured in one run on this machine.
 *
 *   (a) Labnet, as a job does it: node k is added to the desired state (one bridge + k
 *       sandboxes, each with eth0, a Docker MAC and a default route via the gateway), then
 *       the real kernel layer runs: `observeHost` (only the new sandbox in detail),
 *       `planHost(..., { prune: true })`, `applyPlan`, through the executor's own runner.
 *   (b) One `ip` process per command for the same node (netns add, veth, master + up,
 *       hairpin, lo up, MAC + up, address, default route). The bridge is made once before,
 *       as it is per network. Unlike (a) it leaves IPv6 link-local addressing on (two
 *       `addrgenmode none` lines in (a)'s batches); MASQUERADE is per network, so no iptables.
 *   (c) (a) with the unchanged-rules shortcut off: the rule set is rendered and restored on
 *       every job, as before the planner learnt to return `iptablesRestore: ""`.
 *
 * Each variant runs ROUNDS times, the order rotated per round; a node's cost is its median
 * over the rounds, and a checkpoint reports the median of the WINDOW nodes ending at it.
 * A real job also loads desired state from Postgres and runs one `sysctl` for route_localnet;
 * neither is counted here. Between variants every sandbox is deleted and the host waits for
 * their devices to go, so each starts from the same empty host; after each, the planner must
 * find nothing left to do (so (b) built what (a) builds).
 *
 * Needs root. Everything happens in a throwaway network namespace `lbench<pid>-nodes` (the
 * host) and sandboxes `lbench<pid>-nodes-…`, deleted afterwards, also on failure or Ctrl-C.
 */
import { macFromIpv4 } from "@labnet/ipam";
import {
  bridgeName,
  type DesiredBridge,
  type DesiredHost,
  type DesiredSandbox,
  hostVethName,
  isIpNoop,
  planHost,
  renderIptablesRestore,
  sandboxIfName,
  sandboxNetnsName,
} from "@labnet/netplan";
import {
  applyPlanOrThrow as applyPlan,
  createExecRunner,
  observeHost,
  type Runner,
  runOrThrow,
} from "../src/kernel";
import { listNetns, median, medianAt, ms, runBench, sum, table } from "./harness";

const TOTAL = 200;
const CHECKPOINTS = [10, 50, 100, 200];
/** Each checkpoint reports the median of the steps ending at it, against scheduler noise. */
const WINDOW = 5;
const WARMUP = 5;
/** Every variant runs this often; each node's cost is the median over the rounds. */
const ROUNDS = 3;
/** How long deleted sandboxes' devices may take to go before the bench gives up. */
const TEARDOWN_TIMEOUT_MS = 120_000;

const NETWORK_ID = "net_benchbenchbench2";
const GATEWAY = "172.30.0.1";
const BRIDGE: DesiredBridge = {
  networkId: NETWORK_ID,
  bridge: bridgeName(NETWORK_ID),
  gateways: [`${GATEWAY}/16`],
  subnets: ["172.30.0.0/16"],
  internal: false,
  icc: true,
  isolated: true,
  mtu: 1500,
};

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** Node k's sandbox: ids from k (the counter first, so the 10-char veth name differs), address .k+1. */
function sandboxOf(netnsPrefix: string, k: number): DesiredSandbox {
  let counter = "";
  for (let rest = k; counter.length < 4; rest = Math.floor(rest / 32)) {
    counter = (BASE32[rest % 32] ?? "a") + counter;
  }
  const random = `${counter}benchbenchbe`;
  const host = k + 1;
  const address = `172.30.${host >> 8}.${host & 255}`;
  return {
    nodeId: `nod_${random}`,
    netns: sandboxNetnsName(netnsPrefix, `nod_${random}`),
    endpoints: [
      {
        endpointId: `ep_${random}`,
        ifName: sandboxIfName(0),
        hostVeth: hostVethName(`ep_${random}`),
        bridge: BRIDGE.bridge,
        address: `${address}/16`,
        mac: macFromIpv4(address),
        mtu: BRIDGE.mtu,
      },
    ],
    defaultGateway: GATEWAY,
  };
}

/** Per-node series of one variant: ms (the split only for Labnet's way) and processes. */
const SERIES = ["total", "observe", "plan", "apply", "procs"] as const;
type Steps = Record<(typeof SERIES)[number], number[]>;

function emptySteps(): Steps {
  return { total: [], observe: [], plan: [], apply: [], procs: [] };
}

/** Node by node, the median over rounds. */
function medianOfRounds(rounds: readonly Steps[]): Steps {
  const combined = emptySteps();
  for (const key of SERIES) {
    combined[key] = Array.from({ length: TOTAL }, (_, i) => median(rounds.map((r) => r[key][i] ?? 0)));
  }
  return combined;
}

/** A runner that counts the processes it starts. */
function countProcesses(runner: Runner): Runner & { count: number } {
  const counting = {
    count: 0,
    run: (...args: Parameters<Runner["run"]>) => {
      counting.count += 1;
      return runner.run(...args);
    },
  };
  return counting;
}

async function measure(hostNetns: string): Promise<void> {
  const prefix = `${hostNetns}-`;
  const runner = countProcesses(createExecRunner());
  const sandboxes = Array.from({ length: TOTAL }, (_, i) => sandboxOf(prefix, i + 1));
  process.stdout.write(
    `building ${TOTAL} nodes, one at a time, three ways, ${ROUNDS} rounds (about a minute)...\n`,
  );

  // Warm up: the first veth, bridge and iptables-nft calls load modules.
  await buildLabnetWay(runner, prefix, sandboxes.slice(0, WARMUP), { shortcut: true });
  await buildNaiveWay(runner, prefix, sandboxes.slice(WARMUP, 2 * WARMUP));
  await emptyHost(runner, prefix);

  const variants = [
    () => buildLabnetWay(runner, prefix, sandboxes, { shortcut: true }),
    () => buildNaiveWay(runner, prefix, sandboxes),
    () => buildLabnetWay(runner, prefix, sandboxes, { shortcut: false }),
  ];
  const rounds: Steps[][] = variants.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    // Each round starts with another variant, so none always runs first (or last).
    for (let i = 0; i < variants.length; i++) {
      const v = (round + i) % variants.length;
      const steps = await variants[v]?.();
      if (steps !== undefined) {
        rounds[v]?.push(steps);
      }
      await assertBuilt(runner, prefix, sandboxes);
      await emptyHost(runner, prefix);
    }
  }
  const [labnet, naive, noShortcut] = rounds.map(medianOfRounds);
  if (labnet === undefined || naive === undefined || noShortcut === undefined) {
    throw new Error("a variant did not run");
  }
  printTable(labnet, naive, noShortcut);
}

/** (a) and (c): one converge per node, the k-th with k sandboxes desired. */
async function buildLabnetWay(
  runner: Runner & { count: number },
  netnsPrefix: string,
  sandboxes: readonly DesiredSandbox[],
  options: { shortcut: boolean },
): Promise<Steps> {
  const steps = emptySteps();
  const desired: DesiredHost = { bridges: [BRIDGE], sandboxes: [], portMappings: [] };
  for (const sandbox of sandboxes) {
    desired.sandboxes = [...desired.sandboxes, sandbox];
    const procsBefore = runner.count;
    const started = performance.now();
    // A job looks into its own node's sandbox only (converge.ts, SandboxScope "only").
    const observed = await observeHost(runner, { netnsPrefix, sandboxes: [sandbox.netns] });
    const planning = performance.now();
    let plan = planHost(desired, observed, { netnsPrefix, prune: true });
    if (!options.shortcut) {
      plan = {
        ...plan,
        iptablesRestore: renderIptablesRestore(desired.bridges, observed.iptablesSave, desired.portMappings),
      };
    }
    const applying = performance.now();
    await applyPlan(runner, plan);
    const done = performance.now();
    steps.total.push(done - started);
    steps.observe.push(planning - started);
    steps.plan.push(applying - planning);
    steps.apply.push(done - applying);
    steps.procs.push(runner.count - procsBefore);
  }
  return steps;
}

/** (b): one process per command, node after node. */
async function buildNaiveWay(
  runner: Runner & { count: number },
  netnsPrefix: string,
  sandboxes: readonly DesiredSandbox[],
): Promise<Steps> {
  // Per network, not per node: made once and untimed, the bridge and rules (a)'s first job makes.
  const observed = await observeHost(runner, { netnsPrefix, sandboxes: [] });
  const network: DesiredHost = { bridges: [BRIDGE], sandboxes: [], portMappings: [] };
  await applyPlan(runner, planHost(network, observed, { netnsPrefix, prune: false }));
  const steps = emptySteps();
  for (const sandbox of sandboxes) {
    const procsBefore = runner.count;
    const started = performance.now();
    for (const argv of naiveCommands(sandbox)) {
      await runOrThrow(runner, argv);
    }
    steps.total.push(performance.now() - started);
    steps.procs.push(runner.count - procsBefore);
  }
  return steps;
}

function naiveCommands(sandbox: DesiredSandbox): string[][] {
  const ns = sandbox.netns;
  return sandbox.endpoints.flatMap((endpoint) => [
    ["ip", "netns", "add", ns],
    ["ip", "link", "add", endpoint.hostVeth, "type", "veth", "peer", "name", endpoint.ifName, "netns", ns],
    ["ip", "link", "set", endpoint.hostVeth, "master", endpoint.bridge, "up"],
    ["ip", "link", "set", endpoint.hostVeth, "type", "bridge_slave", "hairpin", "on"],
    ["ip", "-n", ns, "link", "set", "lo", "up"],
    ["ip", "-n", ns, "link", "set", endpoint.ifName, "address", endpoint.mac, "up"],
    ["ip", "-n", ns, "addr", "add", endpoint.address, "dev", endpoint.ifName],
    ...(sandbox.defaultGateway === undefined
      ? []
      : [["ip", "-n", ns, "route", "add", "default", "via", sandbox.defaultGateway]]),
  ]);
}

/** The planner, looking into every sandbox, finds no `ip` work left: the host is built. */
async function assertBuilt(
  runner: Runner,
  netnsPrefix: string,
  sandboxes: readonly DesiredSandbox[],
): Promise<void> {
  const desired: DesiredHost = { bridges: [BRIDGE], sandboxes: [...sandboxes], portMappings: [] };
  const observed = await observeHost(runner, {
    netnsPrefix,
    sandboxes: sandboxes.map((s) => s.netns),
  });
  const plan = planHost(desired, observed, { netnsPrefix, prune: true });
  if (observed.netns.length !== sandboxes.length || !isIpNoop(plan)) {
    const lines = [
      ...plan.netnsAdd,
      ...plan.hostBatch,
      ...plan.sandboxBatches.flatMap((b) => b.lines),
      ...plan.netnsDelete,
    ];
    throw new Error(
      `want ${sandboxes.length} built sandboxes, found ${observed.netns.length}; left to do: ${lines.slice(0, 5).join("; ")}`,
    );
  }
}

/** Deletes every sandbox and the bridge, waits until their devices are gone, empties the rules. */
async function emptyHost(runner: Runner, netnsPrefix: string): Promise<void> {
  const names = await listNetns(netnsPrefix);
  if (names.length > 0) {
    await runOrThrow(runner, ["ip", "-batch", "-"], {
      stdin: `${names.map((name) => `netns del ${name}`).join("\n")}\n`,
    });
  }
  // The host ends go when the kernel tears the sandboxes' namespaces down, asynchronously.
  const deadline = performance.now() + TEARDOWN_TIMEOUT_MS;
  for (;;) {
    const left = await labnetLinks(runner);
    if (left.includes(BRIDGE.bridge)) {
      await runOrThrow(runner, ["ip", "link", "del", BRIDGE.bridge]);
    } else if (left.length === 0) {
      break;
    }
    if (performance.now() > deadline) {
      throw new Error(`devices still there after ${TEARDOWN_TIMEOUT_MS} ms: ${left.slice(0, 5).join(", ")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const save = await runOrThrow(runner, ["iptables-save"]);
  await runOrThrow(runner, ["iptables-restore", "--noflush"], {
    stdin: renderIptablesRestore([], save.stdout, []),
  });
}

async function labnetLinks(runner: Runner): Promise<string[]> {
  const { stdout } = await runOrThrow(runner, ["ip", "-j", "link", "show"]);
  const links = JSON.parse(stdout) as { ifname?: string }[];
  return links.map((link) => link.ifname ?? "").filter((name) => /^ln(br-|v)/.test(name));
}

function printTable(labnet: Steps, naive: Steps, noShortcut: Steps): void {
  const at = (values: number[], n: number) => medianAt(values, n, WINDOW);
  const procs = (steps: Steps) => at(steps.procs, TOTAL);
  const rows = CHECKPOINTS.map((n) => {
    const a = at(labnet.total, n);
    const b = at(naive.total, n);
    const c = at(noShortcut.total, n);
    const split = `${ms(at(labnet.observe, n))} / ${ms(at(labnet.plan, n))} / ${ms(at(labnet.apply, n))}`;
    return [String(n), ms(a), split, ms(b), (a / b).toFixed(2), ms(c), (c / a).toFixed(2)];
  });
  const first = CHECKPOINTS[0] ?? 1;
  const last = CHECKPOINTS[CHECKPOINTS.length - 1] ?? TOTAL;
  const growth = (values: number[]) => (at(values, last) / at(values, first)).toFixed(2);
  const saved = at(noShortcut.total, last) - at(labnet.total, last);
  const totals = [
    ["(a) labnet, one job per node", labnet],
    ["(b) one ip process per command", naive],
    ["(c) (a) without the rules shortcut", noShortcut],
  ] as const;
  const totalB = sum(naive.total);
  const lines = [
    "",
    `Cost of building the n-th node on a host that has n-1 (ms, median of ${ROUNDS} rounds, then of the last ${WINDOW} steps)`,
    "",
    table(
      [
        "n",
        `(a) labnet job (${procs(labnet)} procs)`,
        "observe / plan / apply",
        `(b) ip per command (${procs(naive)} procs)`,
        "a/b",
        `(c) no rules shortcut (${procs(noShortcut)} procs)`,
        "c/a",
      ],
      rows,
    ),
    "",
    `(a): the ${last}th node costs ${growth(labnet.total)}x the ${first}th (observe ${growth(labnet.observe)}x, plan ${growth(labnet.plan)}x, apply ${growth(labnet.apply)}x).`,
    `(b): the ${last}th node costs ${growth(naive.total)}x the ${first}th; (c): ${growth(noShortcut.total)}x.`,
    `The unchanged-rules shortcut saves ${ms(saved)} ms of the ${last}th node's ${ms(at(noShortcut.total, last))} ms (one iptables-restore).`,
    "",
    table(
      [`all ${TOTAL}`, "total ms", "ms per node", "vs (b)"],
      totals.map(([name, steps]) => {
        const total = sum(steps.total);
        return [name, ms(total), ms(total / TOTAL), (total / totalB).toFixed(2)];
      }),
    ),
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

runBench({ name: "nodes", needs: "network namespaces, veths and iptables", url: import.meta.url, measure });
