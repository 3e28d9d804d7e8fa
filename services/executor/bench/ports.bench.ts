/**
 * `npm run bench`: what publishing ports costs in the kernel as their number grows, Labnet's
 * way against the naive way, measured in one run on this machine.
 *
 *   (a) Labnet: every job observes (`iptables-save`), renders the host's whole rule set
 *       (`renderIptablesRestore`) and applies what differs (`minimalRestore`: the bridge's own
 *       chains) with one `iptables-restore --noflush`. Here each mapping is its own job on one
 *       bridge, so the k-th one rewrites that bridge's chains with all k mappings.
 *   (b) One `iptables` process per rule (`-t nat -A`, `-A`), appending the same three rules a
 *       mapping has (DNAT, FORWARD accept, hairpin MASQUERADE).
 *   (c) One job that publishes all of them at once (one restore), for scale.
 *
 * Needs root. Everything happens in a throwaway network namespace `lbench<pid>-ports` made
 * for this run and deleted afterwards, also on failure or Ctrl-C (the next run removes the
 * namespace of a run that was killed). Nothing touches the machine's own namespace.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import {
  type DesiredBridge,
  type DesiredPortMapping,
  minimalRestore,
  renderBridgeDnatRules,
  renderBridgePortAccepts,
  renderBridgePostRules,
  renderIptablesRestore,
} from "@labnet/netplan";
import { medianAt, ms, runBench, sum, table } from "./harness";

const exec = promisify(execFile);

const TOTAL = 1_000;
const CHECKPOINTS = [10, 100, 500, 1_000];
/** Each checkpoint reports the median of the steps ending at it, against scheduler noise. */
const WINDOW = 5;

const BRIDGE: DesiredBridge = {
  networkId: "net_benchbenchbench22",
  bridge: "lnbr-benchbrg",
  gateways: ["172.30.0.1/16"],
  subnets: ["172.30.0.0/16"],
  internal: false,
  icc: true,
  isolated: true,
  mtu: 1500,
};

/** Mapping i: host port 10000+i to port 80 of its own node 172.30.x.y. */
function mapping(i: number): DesiredPortMapping {
  const host = i + 2;
  return {
    protocol: "tcp",
    hostPort: 10_000 + i,
    targetAddress: `172.30.${host >> 8}.${host & 255}`,
    targetPort: 80,
    bridge: BRIDGE.bridge,
  };
}

const MAPPINGS = Array.from({ length: TOTAL }, (_, i) => mapping(i));

async function measure(): Promise<void> {
  process.stdout.write(`publishing ${TOTAL} ports, one at a time, both ways (about a minute)...\n`);
  // Warm up: the first iptables-nft calls load modules.
  await restore(renderIptablesRestore([BRIDGE], await save(), MAPPINGS.slice(0, 10)));
  await reset();

  // (a) Labnet: observe + render + one restore per job; the k-th job carries k mappings.
  const labnet: number[] = [];
  const parts = { save: [] as number[], render: [] as number[], restore: [] as number[] };
  for (let k = 1; k <= TOTAL; k++) {
    const started = performance.now();
    const observed = await save();
    const rendering = performance.now();
    const payload = minimalRestore(renderIptablesRestore([BRIDGE], observed, MAPPINGS.slice(0, k)), observed);
    const restoring = performance.now();
    await restore(payload);
    const done = performance.now();
    labnet.push(done - started);
    parts.save.push(rendering - started);
    parts.render.push(restoring - rendering);
    parts.restore.push(done - restoring);
  }
  await assertRuleCount(TOTAL);
  await reset();

  // (b) One iptables process per rule, the same rules.
  const perRule: number[] = [];
  for (const m of MAPPINGS) {
    const started = performance.now();
    for (const rule of rulesOf(m)) {
      await exec("iptables", rule);
    }
    perRule.push(performance.now() - started);
  }
  await assertRuleCount(TOTAL);
  await reset();

  // (c) All of them in one job.
  const batchStarted = performance.now();
  await restore(renderIptablesRestore([BRIDGE], await save(), MAPPINGS));
  const batchMs = performance.now() - batchStarted;
  await assertRuleCount(TOTAL);
  await reset();

  printTable(labnet, parts, perRule, batchMs);
}

/** The three rules of a mapping as `iptables` argv (table + `-A ...`), as Labnet renders them. */
function rulesOf(m: DesiredPortMapping): string[][] {
  const dnat = [...renderBridgeDnatRules(m.bridge, [m]), ...renderBridgePostRules(m.bridge, [m])];
  const filter = renderBridgePortAccepts(m.bridge, [m]);
  return [...dnat.map((line) => ["-t", "nat", ...line.split(" ")]), ...filter.map((line) => line.split(" "))];
}

/** Empties Labnet's chains (declaring them in a --noflush payload flushes them). */
async function reset(): Promise<void> {
  await restore(renderIptablesRestore([BRIDGE], await save(), []));
}

async function save(): Promise<string> {
  return (await exec("iptables-save", [], { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

function restore(payload: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("iptables-restore", ["--noflush"], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`iptables-restore: ${stderr}`))));
    child.stdin.end(payload);
  });
}

async function assertRuleCount(want: number): Promise<void> {
  const dnat = (await save()).split("\n").filter((line) => line.includes(" -j DNAT ")).length;
  if (dnat !== want) {
    throw new Error(`want ${want} DNAT rules, found ${dnat}`);
  }
}

function printTable(
  labnet: number[],
  parts: { save: number[]; render: number[]; restore: number[] },
  perRule: number[],
  batchMs: number,
): void {
  const at = (values: number[], n: number) => medianAt(values, n, WINDOW);
  const rows = CHECKPOINTS.map((n) => {
    const a = at(labnet, n);
    const b = at(perRule, n);
    const split = `${ms(at(parts.save, n))} / ${ms(at(parts.render, n))} / ${ms(at(parts.restore, n))}`;
    return [String(n), ms(a), split, ms(b), (a / b).toFixed(2)];
  });
  const first = CHECKPOINTS[0] ?? 1;
  const last = CHECKPOINTS[CHECKPOINTS.length - 1] ?? TOTAL;
  const growth = (values: number[]) => (at(values, last) / at(values, first)).toFixed(1);
  const totalA = sum(labnet);
  const totalB = sum(perRule);
  const lines = [
    "",
    `Cost of publishing the n-th port on a host that has n-1 (ms, median of the last ${WINDOW} steps)`,
    "",
    table(["n", "(a) labnet job", "save / render / restore", "(b) iptables per rule (3 procs)", "a/b"], rows),
    "",
    `(a): the ${last}th port costs ${growth(labnet)}x the ${first}th; every job rewrites its network's chains, here one network holding every mapping (the worst case).`,
    `(b): the ${last}th port costs ${growth(perRule)}x the ${first}th.`,
    "",
    table(
      ["all 1000", "total ms", "ms per mapping", "vs (b)"],
      [
        ["(a) one job per mapping", ms(totalA), ms(totalA / TOTAL), (totalA / totalB).toFixed(2)],
        ["(b) one process per rule", ms(totalB), ms(totalB / TOTAL), "1.00"],
        ["(c) one job for all (1 restore)", ms(batchMs), ms(batchMs / TOTAL), (batchMs / totalB).toFixed(4)],
      ],
    ),
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

runBench({ name: "ports", needs: "network namespaces and iptables", url: import.meta.url, measure });
