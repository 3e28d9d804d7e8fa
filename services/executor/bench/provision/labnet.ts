/**
 * Labnet's side of the bench, through its HTTP API only (what the operations table adds is
 * read from Postgres: when each operation was settled).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import type { Schema } from "@labnet/api";
import { OPERATIONS_CHANNEL, parseOperationNotification } from "@labnet/db";
import { listNetns } from "../harness";
import { pings } from "../kernel-tools";
import { CLIENTS } from "./config";
import { type Api, inParallel, operationIdOf, percentile } from "./http";
import type { LabnetStack } from "./stack";
import { countDnatRules, networkCount } from "./tools";

type Node = Schema<"Node">;
type Network = Schema<"Network">;

/** Subnets of Labnet's networks: `10.123.<offset + j>.0/24`. */
const SUBNET_OCTET = 123;

export interface ConvergeStats {
  operations: number;
  /** Distinct `finished_at`: the executor settles one converge's operations in one transaction. */
  converges: number;
  /** Operations settled per converge. */
  perConverge: number;
  /** Converges per second, from the first operation created to the last one settled. */
  perSecond: number;
}

export interface BurstSetup {
  n: number;
  networks: Network[];
  nodes: Node[];
  /** From the first network POST until every node's operation has succeeded. */
  setupMs: number;
  /** Networks created (with `Prefer: wait=30`). */
  networksMs: number;
  /** From the first node POST to the last answer: the API's accept phase. */
  acceptMs: number;
  acceptPerSecond: number;
  postP50: number;
  postP99: number;
  converges: ConvergeStats;
}

export interface BurstTeardown {
  teardownMs: number;
  deletePerSecond: number;
  converges: ConvergeStats;
}

export interface BurstOptions {
  /** Names and labels carry it, so bursts never collide. */
  tag: string;
  /** Third octet of the first network's subnet. */
  subnetOffset?: number;
  /** Deadline for the nodes to be ready (default 60 s + 1.5 s per node: today's executor). */
  timeoutMs?: number;
}

/** Creates ceil(N/250) networks, then N nodes with one published port each from 8 clients. */
export async function setupBurst(stack: LabnetStack, n: number, options: BurstOptions): Promise<BurstSetup> {
  const { api } = stack;
  const started = performance.now();
  const networks = await Promise.all(
    Array.from({ length: networkCount(n) }, async (_, j) => {
      const response = await api.expect<Network>([201, 202], "POST", "/v1/networks", {
        wait: 30,
        body: {
          name: `${options.tag}-net${j}`,
          ipam: { configs: [{ subnet: `10.${SUBNET_OCTET}.${(options.subnetOffset ?? 0) + j}.0/24` }] },
          labels: { bench: options.tag },
        },
      });
      if (response.status === 202) {
        // Not built within 30 s (a busy executor): wait for it like for the nodes.
        await waitForOperations(stack, [operationIdOf(response)], 120_000);
      }
      return required(response.body, "network");
    }),
  );
  const accepting = performance.now();
  const posts = await inParallel(n, CLIENTS, async (i) => {
    const network = networks[i % networks.length];
    const response = await api.expect<Node>([201, 202], "POST", "/v1/nodes", {
      body: {
        name: `${options.tag}-${i}`,
        networkMode: network?.name,
        ports: ["80"],
        labels: { bench: options.tag },
      },
    });
    return { node: required(response.body, "node"), operation: operationIdOf(response), ms: response.ms };
  });
  const accepted = performance.now();
  const operations = posts.map((post) => post.operation);
  await waitForOperations(stack, operations, options.timeoutMs ?? 60_000 + 1_500 * n);
  const ready = performance.now();
  const nodes = await readyNodes(api, networks, n);
  const latencies = posts.map((post) => post.ms);
  return {
    n,
    networks,
    nodes,
    setupMs: ready - started,
    networksMs: accepting - started,
    acceptMs: accepted - accepting,
    acceptPerSecond: (n / (accepted - accepting)) * 1000,
    postP50: percentile(latencies, 50),
    postP99: percentile(latencies, 99),
    converges: await convergeStats(stack, operations),
  };
}

/** Every node of the burst, from the API, all `ready` (one list call per network). */
async function readyNodes(api: Api, networks: readonly Network[], n: number): Promise<Node[]> {
  const nodes: Node[] = [];
  for (const network of networks) {
    const list = await api.expect<{ items: Node[] }>([200], "GET", `/v1/nodes?network=${network.id}`);
    nodes.push(...(list.body?.items ?? []));
  }
  const notReady = nodes.filter((node) => node.state !== "ready");
  if (nodes.length !== n || notReady.length > 0) {
    throw new Error(
      `want ${n} ready nodes, the API lists ${nodes.length}, ${notReady.length} not ready (${notReady[0]?.name}: ${notReady[0]?.state})`,
    );
  }
  return nodes;
}

/**
 * Cheap proof that the burst was built: two nodes of the first network ping each other, the
 * nat table holds a DNAT per published port, and every sandbox namespace exists.
 */
export async function verifySetup(stack: LabnetStack, burst: BurstSetup): Promise<void> {
  const network = burst.networks[0];
  const onFirst = burst.nodes.filter(
    (node) => network !== undefined && network.name in node.networkSettings.networks,
  );
  const [from, to] = onFirst;
  const address = network === undefined ? undefined : to?.networkSettings.networks[network.name]?.ipAddress;
  if (from === undefined || address === undefined) {
    throw new Error("the burst has no two nodes on its first network");
  }
  if (!(await pings(from.sandboxKey, address))) {
    throw new Error(`${from.name} (${from.sandboxKey}) does not reach ${to?.name} at ${address}`);
  }
  const dnat = await countDnatRules();
  if (dnat < burst.n) {
    throw new Error(`want a DNAT rule per published port (${burst.n}), the nat table has ${dnat}`);
  }
  const sandboxes = await listNetns(stack.sandboxPrefix);
  if (sandboxes.length < burst.n) {
    throw new Error(`want ${burst.n} sandbox namespaces, found ${sandboxes.length}`);
  }
}

/** Deletes every node from 8 clients, waits until they are gone, then removes the networks. */
export async function teardownBurst(stack: LabnetStack, burst: BurstSetup): Promise<BurstTeardown> {
  const { api } = stack;
  const started = performance.now();
  const deletes = await inParallel(burst.nodes.length, CLIENTS, async (i) => {
    const node = required(burst.nodes[i], "node");
    return operationIdOf(await api.expect([202], "DELETE", `/v1/nodes/${node.id}`));
  });
  const deleted = performance.now();
  // As a teardown script would: the networks right after their nodes, without waiting (their
  // removals wait for the nodes' in the executor).
  const networkOps = await Promise.all(
    burst.networks.map(async (network) =>
      operationIdOf(await api.expect([202], "DELETE", `/v1/networks/${network.id}`)),
    ),
  );
  await waitForOperations(stack, [...deletes, ...networkOps], 60_000 + 1_500 * burst.n);
  const gone = performance.now();
  return {
    teardownMs: gone - started,
    deletePerSecond: (burst.nodes.length / (deleted - started)) * 1000,
    converges: await convergeStats(stack, deletes),
  };
}

/** After a teardown: no sandbox namespace of the executor left, no DNAT rule left. */
export async function verifyTeardown(stack: LabnetStack): Promise<void> {
  const left = await listNetns(stack.sandboxPrefix);
  if (left.length > 0) {
    throw new Error(`${left.length} sandbox namespaces left after teardown: ${left.slice(0, 3).join(", ")}`);
  }
  const dnat = await countDnatRules();
  if (dnat > 0) {
    throw new Error(`${dnat} DNAT rules left after teardown`);
  }
}

/** How often waitForOperations reads the operations table anyway (a NOTIFY missed). */
const OPERATIONS_POLL_MS = 1_000;

/**
 * Waits until none of `ids` is open, woken by the operations trigger's NOTIFY (its payload
 * names the operation and its state), with a read of the table at the start and every
 * second: polling 300 ids every 20 ms cost Postgres 3.5 ms a poll, a sixth of a core charged
 * to Labnet. Throws on the first failed one, when the gateway or executor died, or after
 * `timeoutMs`.
 */
export async function waitForOperations(
  stack: LabnetStack,
  ids: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const open = new Set(ids);
  let failed: string | undefined;
  let woken: () => void = () => {};
  const settle = (id: string, state: string) => {
    if (open.delete(id) && state !== "succeeded") {
      failed ??= id;
    }
    woken();
  };
  const subscription = await stack.sql.listen(OPERATIONS_CHANNEL, (payload) => {
    const notification = parseOperationNotification(payload);
    if (notification && !OPEN_STATES.has(notification.state)) {
      settle(notification.id, notification.state);
    }
  });
  try {
    const deadline = performance.now() + timeoutMs;
    let polled = Number.NEGATIVE_INFINITY;
    for (;;) {
      stack.assertRunning();
      if (performance.now() - polled >= OPERATIONS_POLL_MS) {
        polled = performance.now();
        const rows = await stack.sql<{ id: string; state: string }[]>`
          select id, state from operations
          where id = any(${[...open]}) and state not in ('queued', 'running')`;
        for (const row of rows) {
          settle(row.id, row.state);
        }
      }
      if (failed !== undefined) {
        const [bad] = await stack.sql<{ state: string; error: unknown }[]>`
          select state, error from operations where id = ${failed}`;
        throw new Error(`operation ${failed} did not succeed: ${bad?.state} ${JSON.stringify(bad?.error)}`);
      }
      if (open.size === 0) {
        return;
      }
      if (performance.now() > deadline) {
        throw new Error(
          `timed out after ${Math.round(timeoutMs / 1000)} s: ${open.size} of ${ids.length} operations still open`,
        );
      }
      await new Promise<void>((resolve) => {
        woken = resolve;
        setTimeout(resolve, 20);
      });
    }
  } finally {
    await subscription.unlisten();
  }
}

const OPEN_STATES: ReadonlySet<string> = new Set(["queued", "running"]);

/** How many converges settled `ids` (distinct `finished_at`), and how fast. */
async function convergeStats(stack: LabnetStack, ids: readonly string[]): Promise<ConvergeStats> {
  const [row] = await stack.sql<{ operations: number; converges: number; span_ms: number }[]>`
    select count(*)::int as operations, count(distinct finished_at)::int as converges,
           (extract(epoch from max(finished_at) - min(created_at)) * 1000)::float8 as span_ms
    from operations where id = any(${ids as string[]})`;
  const operations = row?.operations ?? 0;
  const converges = row?.converges ?? 0;
  const spanMs = row?.span_ms ?? 0;
  return {
    operations,
    converges,
    perConverge: converges === 0 ? 0 : operations / converges,
    perSecond: spanMs <= 0 ? 0 : (converges / spanMs) * 1000,
  };
}

export interface SingleCalls {
  /** Each create with `Prefer: wait=30`, answered 201 with the node ready. */
  createMs: number[];
  /** Each delete with `Prefer: wait=30`, answered 204. */
  deleteMs: number[];
}

/** Single calls on a network of their own, one at a time, each timed (`Prefer: wait=30`). */
export interface SingleCallSession {
  /** Creates the next node (one published port): 201 with the node ready; its ms. */
  create(): Promise<number>;
  /** Deletes the oldest node left: 204; its ms. */
  remove(): Promise<number>;
  /** Deletes the network. */
  close(): Promise<void>;
}

/**
 * Opens a network for single calls. The bench interleaves each call with the same work done by
 * batched tools, so that both see the machine as it is at that moment (a shared machine's speed
 * drifts by tens of percent within seconds).
 */
export async function startSingleCalls(stack: LabnetStack, tag: string): Promise<SingleCallSession> {
  const { api } = stack;
  const network = required(
    (
      await api.expect<Network>([201], "POST", "/v1/networks", {
        wait: 30,
        body: { name: `${tag}-net`, ipam: { configs: [{ subnet: `10.${SUBNET_OCTET}.250.0/24` }] } },
      })
    ).body,
    "network",
  );
  const nodes: Node[] = [];
  let made = 0;
  return {
    async create() {
      const response = await api.expect<Node>([201], "POST", "/v1/nodes", {
        wait: 30,
        body: { name: `${tag}-${made++}`, networkMode: network.name, ports: ["80"] },
      });
      const node = required(response.body, "node");
      if (node.state !== "ready") {
        throw new Error(`node ${node.name} answered 201 in state ${node.state}`);
      }
      nodes.push(node);
      return response.ms;
    },
    async remove() {
      const node = required(nodes.shift(), "a node to remove");
      return (await api.expect([204], "DELETE", `/v1/nodes/${node.id}`, { wait: 30 })).ms;
    },
    async close() {
      await api.expect([204], "DELETE", `/v1/networks/${network.id}`, { wait: 30 });
    },
  };
}

/** Median of `count` sequential `GET /v1/healthz` (after a warm-up): one HTTP round trip. */
export async function roundTripMs(api: Api, count = 50): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < count + 10; i++) {
    const { ms } = await api.expect([200], "GET", "/v1/healthz");
    if (i >= 10) {
      samples.push(ms);
    }
  }
  return percentile(samples, 50);
}

export interface ReadStats {
  path: string;
  /** Answered 200. */
  ok: number;
  /** Other statuses, failures and timeouts (10 s). */
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ReadLoad {
  /** Seconds the loop ran. */
  seconds: number;
  /** Requests per second actually sent. */
  rate: number;
  /** The largest delay of a send behind its schedule (the client falling behind). */
  maxLagMs: number;
  /** Sends skipped because {@link READ_MAX_IN_FLIGHT} requests were unanswered. */
  skipped: number;
  byPath: ReadStats[];
}

/** Unanswered reads at most (2 s worth at 300/s): an open loop must not pile up without bound. */
const READ_MAX_IN_FLIGHT = 600;
const READ_TIMEOUT_MS = 10_000;

/**
 * An open loop of reads at `rate` per second (each request sent on schedule, whatever the
 * answers take), alternating `GET /v1/nodes/{id}` of a random one of `nodeIds` and
 * `GET /v1/nodes?network=<networkId>`, until `stop()`. Bounded: at most 10 minutes' worth,
 * {@link READ_MAX_IN_FLIGHT} unanswered (later sends are skipped and counted), 10 s per request.
 */
export function startReads(
  api: Api,
  rate: number,
  nodeIds: readonly string[],
  networkId: string,
): { stop: () => Promise<ReadLoad> } {
  const kinds = ["GET /v1/nodes/{id}", "GET /v1/nodes?network="] as const;
  const samples = kinds.map(() => ({ ms: [] as number[], errors: 0 }));
  const inFlight = new Set<Promise<void>>();
  const limit = rate * 600;
  let stopped = false;
  let scheduled = 0;
  let sent = 0;
  let skipped = 0;
  let maxLagMs = 0;
  const started = performance.now();
  const send = (k: number) => {
    const sample = samples[k % 2] ?? { ms: [], errors: 0 };
    const id = nodeIds[Math.floor(Math.random() * nodeIds.length)] ?? "";
    const path = k % 2 === 0 ? `/v1/nodes/${id}` : `/v1/nodes?network=${networkId}`;
    const request = api
      .request("GET", path, { timeoutMs: READ_TIMEOUT_MS, parse: false })
      .then((response) => {
        if (response.status === 200) {
          sample.ms.push(response.ms);
        } else {
          sample.errors += 1;
        }
      })
      .catch(() => {
        sample.errors += 1;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  const loop = (async () => {
    while (!stopped && scheduled < limit) {
      const due = started + (scheduled * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      maxLagMs = Math.max(maxLagMs, -wait);
      if (inFlight.size < READ_MAX_IN_FLIGHT) {
        send(scheduled);
        sent += 1;
      } else {
        skipped += 1;
      }
      scheduled += 1;
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      const seconds = (performance.now() - started) / 1000;
      await Promise.all([...inFlight]);
      return {
        seconds,
        rate: sent / seconds,
        maxLagMs,
        skipped,
        byPath: kinds.map((path, i) => {
          const ms = samples[i]?.ms ?? [];
          return {
            path,
            ok: ms.length,
            errors: samples[i]?.errors ?? 0,
            p50: percentile(ms, 50),
            p99: percentile(ms, 99),
            max: ms.reduce((a, b) => Math.max(a, b), 0),
          };
        }),
      };
    },
  };
}

/** {@link startReads} in a worker thread, loaded and waiting: `start()` starts the loop. */
export interface ReadLoop {
  start(): void;
  stop(): Promise<ReadLoad>;
}

/**
 * Loads {@link startReads} in a worker thread with a client of its own (the burst's clients, in
 * the bench's main thread, cannot delay the reads' sends or their answers), and resolves once
 * it is loaded, so that neither its start nor its compiling is measured.
 */
export async function openReadLoop(
  api: Api,
  rate: number,
  nodeIds: readonly string[],
  networkId: string,
): Promise<ReadLoop> {
  const worker = new Worker(new URL("./read-loop.mjs", import.meta.url), {
    workerData: { baseUrl: api.baseUrl, token: api.token, rate, nodeIds: [...nodeIds], networkId },
  });
  const failed = new Promise<never>((_, reject) => {
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the read loop's thread exited (${code})`)));
  });
  failed.catch(() => undefined);
  await Promise.race([new Promise((resolve) => worker.once("message", resolve)), failed]);
  return {
    start: () => worker.postMessage("start"),
    stop: async () => {
      const answer = new Promise<ReadLoad | { error: string }>((resolve) => worker.once("message", resolve));
      worker.postMessage("stop");
      const load = await Promise.race([answer, failed]);
      await worker.terminate();
      if ("error" in load) {
        throw new Error(`the read loop failed: ${load.error}`);
      }
      return load;
    },
  };
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new Error(`the answer carries no ${what}`);
  }
  return value;
}
