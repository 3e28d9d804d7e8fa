import type { Sql } from "@labnet/db";
import { executorMetricsKey, type HostQueues } from "@labnet/queue";
import type { Redis } from "ioredis";
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from "prom-client";

/** The gateway's measurements, and the text `GET /metrics` answers. */
export interface GatewayMetrics {
  /** One finished request: its route template (never the raw path), status and duration. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /**
   * Prometheus text: the gateway's own series, the per-host state read now from Postgres and
   * the queues, and every executor's published registry.
   */
  render(): Promise<string>;
  contentType: string;
}

export interface GatewayMetricsDeps {
  pg: Sql;
  redis: Redis;
  queues: HostQueues;
  queuePrefix: string;
  /** This gateway is worker `index` of `count` (cluster.ts): the request series of all add up. */
  worker?: { index: number; count: number };
}

/** How often a worker publishes its request series for the others' /metrics, and how long they last. */
const WORKER_PUBLISH_MS = 2_000;
const WORKER_SNAPSHOT_TTL_SECONDS = 30;

/** Where worker `index` publishes its request series (as prom-client's JSON). */
export function gatewayWorkerMetricsKey(queuePrefix: string, index: number): string {
  return `${queuePrefix}:metrics:gateway-worker:${index}`;
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Per lab host: what it carries (its virtual machines' included) and when it last spoke. */
interface HostRow {
  id: string;
  name: string;
  machines: number;
  networks: number;
  nodes: number;
  ports: number;
  heartbeat_age: number;
}

/** A registry of its own per gateway (tests build several apps in one process). */
export function createGatewayMetrics(deps: GatewayMetricsDeps): GatewayMetrics {
  const registry = new Registry();
  // The request series apart: what each worker counts itself (the state below is read by whichever serves the scrape).
  const requestRegistry = new Registry();
  const requests = new Counter({
    name: "labnet_http_requests_total",
    help: "HTTP requests answered, by method, route template and status.",
    labelNames: ["method", "route", "status"],
    registers: [requestRegistry],
  });
  const durations = new Histogram({
    name: "labnet_http_request_duration_seconds",
    help: "Time to answer an HTTP request (to the first byte of a stream), by method, route and status.",
    labelNames: ["method", "route", "status"],
    buckets: HTTP_BUCKETS,
    registers: [requestRegistry],
  });
  const { worker } = deps;
  if (worker && worker.count > 1) {
    const publish = async () => {
      const snapshot = JSON.stringify(await requestRegistry.getMetricsAsJSON());
      await deps.redis.set(
        gatewayWorkerMetricsKey(deps.queuePrefix, worker.index),
        snapshot,
        "EX",
        WORKER_SNAPSHOT_TTL_SECONDS,
      );
    };
    setInterval(() => void publish().catch(() => undefined), WORKER_PUBLISH_MS).unref();
  }

  /** The other workers' request series as they last published them. */
  async function otherWorkers(): Promise<object[][]> {
    if (!worker || worker.count <= 1) {
      return [];
    }
    const keys = Array.from({ length: worker.count }, (_, i) => i)
      .filter((i) => i !== worker.index)
      .map((i) => gatewayWorkerMetricsKey(deps.queuePrefix, i));
    const snapshots = await deps.redis.mget(...keys);
    return snapshots.flatMap((s) => (s ? [JSON.parse(s) as object[]] : []));
  }
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ["host"], registers: [registry] });
  const machines = gauge("labnet_machines", "Virtual machines on each lab host.");
  const networks = gauge("labnet_networks", "Networks on each lab host (its own and its machines').");
  const nodes = gauge("labnet_nodes", "Nodes on each lab host (its own and its machines').");
  const ports = gauge(
    "labnet_published_ports",
    "Published port mappings on each lab host (its own and its machines').",
  );
  const heartbeat = gauge(
    "labnet_executor_heartbeat_age_seconds",
    "Seconds since each lab host's executor last reported.",
  );
  const queueDepth = new Gauge({
    name: "labnet_queue_jobs",
    help: "Jobs on each lab host's queue, by state (waiting, active, delayed, prioritized).",
    labelNames: ["host", "state"],
    registers: [registry],
  });

  /** Reads the per-host state once per scrape. */
  async function refresh(): Promise<HostRow[]> {
    const hosts = await deps.pg<HostRow[]>`
      with scope as (select id, coalesce(parent_host_id, id) as lab_id from hosts)
      select lab.id, lab.name,
        (select count(*)::int from hosts v where v.parent_host_id = lab.id) as machines,
        (select count(*)::int from networks n join scope s on s.id = n.host_id where s.lab_id = lab.id) as networks,
        (select count(*)::int from nodes n join scope s on s.id = n.host_id where s.lab_id = lab.id) as nodes,
        (select count(*)::int from port_mappings p join scope s on s.id = p.host_id where s.lab_id = lab.id) as ports,
        extract(epoch from now() - lab.last_heartbeat_at)::float8 as heartbeat_age
      from hosts lab where lab.kind = 'lab'`;
    for (const g of [machines, networks, nodes, ports, heartbeat, queueDepth]) {
      g.reset();
    }
    await Promise.all(
      hosts.map(async (h) => {
        const host = h.name;
        machines.set({ host }, h.machines);
        networks.set({ host }, h.networks);
        nodes.set({ host }, h.nodes);
        ports.set({ host }, h.ports);
        heartbeat.set({ host }, h.heartbeat_age);
        const counts = await deps.queues
          .queue(h.id)
          .getJobCounts("waiting", "active", "delayed", "prioritized");
        for (const [state, n] of Object.entries(counts)) {
          queueDepth.set({ host, state }, n);
        }
      }),
    );
    return hosts;
  }

  /** The executors' registries as they last published them (expired ones are gone). */
  async function executorMetrics(hosts: readonly HostRow[]): Promise<object[][]> {
    if (hosts.length === 0) {
      return [];
    }
    const snapshots = await deps.redis.mget(...hosts.map((h) => executorMetricsKey(deps.queuePrefix, h.id)));
    return snapshots.flatMap((s) => (s ? [JSON.parse(s) as object[]] : []));
  }

  return {
    contentType: registry.contentType,
    observeRequest(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      durations.observe(labels, seconds);
    },
    async render() {
      const hosts = await refresh();
      const own = await registry.getMetricsAsJSON();
      const ownRequests = await requestRegistry.getMetricsAsJSON();
      // Each executor labels its series with its host, so merging never adds two hosts together;
      // the workers' request series (same labels) add up, as they should.
      const merged = AggregatorRegistry.aggregate([
        own,
        ownRequests,
        ...(await otherWorkers()),
        ...(await executorMetrics(hosts)),
      ]);
      return merged.metrics();
    },
  };
}
