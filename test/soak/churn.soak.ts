/**
 * The soak (`npm run soak`, root; not in CI): churn of create (with a published port) →
 * connect → disconnect → delete against the real processes (the gateway process, an executor
 * in a sim host, a private Postgres, the run's Redis) at a bounded rate for a while, then a
 * report: leaked kernel objects and rows against the state before the churn, each process's
 * memory over time, and p50/p99 latency per window and operation. Fails on a leak or an error.
 *
 *   LABNET_SOAK_MINUTES=60         how long the churn runs
 *   LABNET_SOAK_RATE=4             operations a second, at most (all workers together)
 *   LABNET_SOAK_WORKERS=4          churn cycles running at once
 *   LABNET_SOAK_WINDOW_MINUTES=5   latency windows
 *   LABNET_SOAK_SAMPLE_SECONDS=15  memory samples
 *   LABNET_SOAK_REPORT=path        the JSON report (default .labnet/soak/report-<time>.json)
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createDb, type Database, schema } from "@labnet/db";
import { REPO_ROOT } from "@labnet/devstack";
import { createRedisConnection } from "@labnet/queue";
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startExecutor } from "../helpers/executor-process";
import { type GatewayProcess, startGatewayProcess } from "../helpers/gateway-process";
import { eventually, expectHostMatchesDatabase, labnetLinks, labnetRules } from "../helpers/kernel-state";
import { createSimHost, listNetns, type SimHost } from "../helpers/netns";
import { type PrivatePostgres, startPrivatePostgres } from "../helpers/private-postgres";
import type { TestProcess } from "../helpers/processes";
import { countRows } from "../helpers/row-counts";
import { rssMiB, type Sample, treePssMiB, windowsOf } from "./measure";

const setting = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a positive number`);
  }
  return value;
};
const MINUTES = setting("LABNET_SOAK_MINUTES", 60);
const RATE = setting("LABNET_SOAK_RATE", 4);
const WORKERS = setting("LABNET_SOAK_WORKERS", 4);
const WINDOW_MS = setting("LABNET_SOAK_WINDOW_MINUTES", 5) * 60_000;
const SAMPLE_MS = setting("LABNET_SOAK_SAMPLE_SECONDS", 15) * 1_000;
const WAIT = { prefer: "wait=60" };

let pg: PrivatePostgres;
let host: SimHost;
let db: Database;
let closeDb: () => Promise<void>;
let gateway: GatewayProcess;
let executor: TestProcess;

beforeAll(async () => {
  pg = await startPrivatePostgres("pg-soak");
  ({ db, close: closeDb } = createDb(pg.url, { max: 2 }));
  host = await createSimHost(inject("runPrefix"), "soak", { withOutside: true, index: 122 });
  gateway = await startGatewayProcess({
    databaseUrl: pg.url,
    name: "gateway-soak",
    // Memory as in production: no contract checks of every answer.
    env: { LABNET_RATE_LIMIT_ADMIN: "0", LABNET_VALIDATE_RESPONSES: "false" },
  });
  executor = startExecutor({
    hostNetns: host.hostNetns,
    env: { DATABASE_URL: pg.url, LABNET_QUEUE_PREFIX: gateway.queuePrefix },
  });
  await eventually(
    async () => ((await gateway.call("GET", "/v1/hosts")).body?.items?.length === 1 ? true : undefined),
    60_000,
    "the executor to register",
  );
});

afterAll(async () => {
  await gateway?.process.stop();
  await executor?.stop();
  await closeDb?.();
  await pg?.stop();
  await host?.destroy();
});

/** What may leak: Labnet's kernel objects on the host and the rows that go with a node. */
async function footprint() {
  return {
    kernel: {
      sandboxes: (await listNetns(`${host.hostNetns}-`)).length,
      links: (await labnetLinks(host.hostNetns)).length,
      rules: (await labnetRules(host.hostNetns)).length,
    },
    rows: await countRows(db, {
      nodes: schema.nodes,
      endpoints: schema.endpoints,
      allocations: schema.allocations,
      portMappings: schema.portMappings,
    }),
    openOperations: (
      await db
        .select({ id: schema.operations.id })
        .from(schema.operations)
        .where(inArray(schema.operations.state, ["queued", "running"]))
    ).length,
  };
}

async function postmasterPid(): Promise<number> {
  const pidFile = path.join(inject("runDir"), "pg-soak", "data", "postmaster.pid");
  return Number((await readFile(pidFile, "utf8")).split("\n")[0]);
}

it(`churns create/connect/disconnect/delete for ${MINUTES} min at up to ${RATE}/s without leaking`, async () => {
  for (const name of ["soak-a", "soak-b"]) {
    const net = await gateway.call("POST", "/v1/networks", { name }, WAIT);
    expect(net.status, JSON.stringify(net.body)).toBe(201);
  }
  const before = await footprint();
  const redis = createRedisConnection(inject("redisUrl"), "producer");
  const pgPid = await postmasterPid();

  const start = Date.now();
  const end = start + MINUTES * 60_000;
  const samples: Sample[] = [];
  const failures: string[] = [];
  const memory: Record<string, number | undefined>[] = [];
  const sampleMemory = async () => {
    const redisRss = /used_memory_rss:(\d+)/.exec(await redis.info("memory"))?.[1];
    memory.push({
      minute: Math.round((Date.now() - start) / 600) / 100,
      gateway: await rssMiB(gateway.process.pid),
      executor: await rssMiB(executor.pid),
      postgres: await treePssMiB(pgPid),
      redis: redisRss ? Math.round(Number(redisRss) / 104_857.6) / 10 : undefined,
    });
  };
  await sampleMemory();
  const sampler = setInterval(() => void sampleMemory(), SAMPLE_MS);

  // One slot every 1/RATE s, shared by every worker: the rate is bounded whatever the latency.
  let nextSlot = start;
  const slot = async () => {
    const at = Math.max(Date.now(), nextSlot);
    nextSlot = at + 1_000 / RATE;
    await new Promise((r) => setTimeout(r, at - Date.now()));
  };
  const step = async (kind: string, expected: number, run: () => ReturnType<GatewayProcess["call"]>) => {
    await slot();
    const t0 = performance.now();
    const answer = await run();
    const ok = answer.status === expected;
    samples.push({ at: Date.now(), kind, ms: performance.now() - t0, status: answer.status, ok });
    if (!ok && failures.length < 20) {
      failures.push(`${kind}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    }
    return ok;
  };
  const worker = async (w: number) => {
    for (let n = 0; Date.now() < end; n++) {
      const name = `soak${w}-${n}`;
      const made = await step("create", 201, () =>
        gateway.call("POST", "/v1/nodes", { name, networkMode: "soak-a", ports: ["80"] }, WAIT),
      );
      if (made) {
        const body = { node: name };
        if (
          await step("connect", 200, () => gateway.call("POST", "/v1/networks/soak-b/connect", body, WAIT))
        ) {
          await step("disconnect", 200, () =>
            gateway.call("POST", "/v1/networks/soak-b/disconnect", body, WAIT),
          );
        }
      }
      // Also after a failure: whatever exists goes, or it shows as a leak.
      await step("delete", made ? 204 : 404, () =>
        gateway.call("DELETE", `/v1/nodes/${name}`, undefined, WAIT),
      );
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  clearInterval(sampler);
  await sampleMemory();
  redis.disconnect();

  // Settled: nothing open, the kernel as Postgres says, and as before the churn.
  await eventually(
    async () => ((await footprint()).openOperations === 0 ? true : undefined),
    60_000,
    "quiet",
  );
  await expectHostMatchesDatabase({ db }, host.hostNetns);
  const after = await footprint();
  const leaks = Object.fromEntries(
    [...Object.entries(after.kernel), ...Object.entries(after.rows)].flatMap(([name, n]) => {
      const was = { ...before.kernel, ...before.rows }[name] ?? 0;
      return (n ?? 0) !== was ? [[name, { before: was, after: n }]] : [];
    }),
  );
  const report: Report = {
    minutes: MINUTES,
    rate: RATE,
    workers: WORKERS,
    operations: samples.length,
    errors: samples.filter((s) => !s.ok).length,
    failures,
    leaks,
    windows: windowsOf(samples, start, WINDOW_MS),
    memory,
    processesAlive: {
      gateway: (await rssMiB(gateway.process.pid)) !== undefined,
      executor: (await rssMiB(executor.pid)) !== undefined,
    },
  };
  const file =
    process.env.LABNET_SOAK_REPORT ??
    path.join(
      REPO_ROOT,
      ".labnet",
      "soak",
      `report-${new Date(start).toISOString().replace(/[:.]/g, "-")}.json`,
    );
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(formatReport(report, file));

  expect(report.failures).toEqual([]);
  expect(report.leaks).toEqual({});
  expect(report.processesAlive).toEqual({ gateway: true, executor: true });
});

interface Report {
  minutes: number;
  rate: number;
  workers: number;
  operations: number;
  errors: number;
  failures: string[];
  leaks: Record<string, { before: number; after: number | undefined }>;
  windows: ReturnType<typeof windowsOf>;
  memory: Record<string, number | undefined>[];
  processesAlive: Record<string, boolean>;
}

function formatReport(report: Report, file: string): string {
  const ms = (v: number | undefined) => String(Math.round(v ?? 0)).padStart(7);
  return [
    `soak: ${report.operations} operations in ${report.minutes} min, ${report.errors} errors, leaks: ${JSON.stringify(report.leaks)}`,
    "latency per window (ms):  from-min  kind          n      p50      p99",
    ...report.windows.flatMap((w) =>
      Object.entries(w.latency).map(
        ([kind, l]) =>
          `  ${w.fromMinute.toFixed(1).padStart(22)}  ${kind.padEnd(10)} ${String(l.n).padStart(5)} ${ms(l.p50)}  ${ms(l.p99)}`,
      ),
    ),
    "memory (MiB):  minute  gateway  executor  postgres(Pss)  redis",
    ...report.memory.map(
      (m) => `  ${String(m.minute).padStart(14)}  ${m.gateway}  ${m.executor}  ${m.postgres}  ${m.redis}`,
    ),
    `report: ${file}`,
  ].join("\n");
}
