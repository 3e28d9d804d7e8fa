/**
 * Postgres faults against the real processes: the gateway (services/gateway/src/main.ts, with
 * its dispatcher) and an executor in a sim host, both over a private Postgres this file stops
 * and restarts. Both start while Postgres is down and come up with it; both ride out an
 * outage; and under a stream of creates across 20 fast restarts the gateway never exits,
 * never answers 500, every accepted create ends ready exactly once, no Idempotency-Key stays
 * in progress after its lease, and the kernel matches Postgres.
 */
import { createDb, type Database, schema } from "@labnet/db";
import { inArray, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startExecutor } from "../helpers/executor-process";
import {
  type GatewayAnswer as Answer,
  type GatewayProcess,
  startGatewayProcess,
} from "../helpers/gateway-process";
import { eventually, expectHostMatchesDatabase, waitForOperations } from "../helpers/kernel-state";
import { createSimHost, listNetns, netnsOf, ping, type SimHost } from "../helpers/netns";
import { type PrivatePostgres, startPrivatePostgres } from "../helpers/private-postgres";
import type { TestProcess } from "../helpers/processes";

const RESTARTS = 20;
/** The outage is 8 s in CI; LABNET_FAULTS_OUTAGE_MS=60000 makes it the minute of the issue. */
const OUTAGE_MS = Number(process.env.LABNET_FAULTS_OUTAGE_MS ?? 8_000);
const LEASE_MS = 2_000;

let pg: PrivatePostgres;
let host: SimHost;
let db: Database;
let closeDb: () => Promise<void>;
let gateway: GatewayProcess;
let executor: TestProcess;
const exits: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const call = (...args: Parameters<GatewayProcess["call"]>) => gateway.call(...args);

function expectUnavailable(answer: Answer): void {
  expect(answer.status).toBe(503);
  expect(answer.headers.get("content-type")).toBe("application/problem+json");
  expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(answer.body?.code).toBe("DATABASE_UNAVAILABLE");
}

/** The id of the operation an accepted create started (its Operation-Location). */
function operationIdOf(answer: Answer): string {
  return answer.headers.get("operation-location")?.split("/").at(-1) ?? "";
}

/**
 * Creates a node with its Idempotency-Key, retrying 503s and held leases (409) until accepted:
 * 202, or 201 when a retry finds the create committed and already carried out. A 503 may
 * still come right after a restart, from a pooled connection the restart closed.
 */
async function createAccepted(name: string, retrying: readonly number[] = [409, 503]): Promise<Answer> {
  const timeoutMs = 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await call(
      "POST",
      "/v1/nodes",
      { name, networkMode: "faults-net" },
      { "idempotency-key": name },
    );
    if (answer.status === 202 || answer.status === 201 || Date.now() > deadline) {
      expect([201, 202], JSON.stringify(answer.body)).toContain(answer.status);
      return answer;
    }
    expect(retrying, JSON.stringify(answer.body)).toContain(answer.status);
    await sleep(300);
  }
}

function watch(process: TestProcess): TestProcess {
  void process.exited.then((status) => exits.push(`${process.name}: ${JSON.stringify(status)}`));
  return process;
}

beforeAll(async () => {
  pg = await startPrivatePostgres("pg-faults");
  ({ db, close: closeDb } = createDb(pg.url, { max: 4 }));
  host = await createSimHost(inject("runPrefix"), "fpg", { withOutside: true, index: 120 });
});

afterAll(async () => {
  const mismatches = gateway?.contractMismatches() ?? [];
  await gateway?.process.stop();
  await executor?.stop();
  await closeDb?.();
  await pg?.stop();
  await host?.destroy();
  expect(mismatches).toEqual([]);
});

describe("Postgres faults", () => {
  it("a gateway and an executor started while Postgres is down answer 503 meanwhile and come up with it", async () => {
    await pg.stop();
    gateway = await startGatewayProcess({
      databaseUrl: pg.url,
      name: "gateway-faults",
      env: {
        LABNET_IDEMPOTENCY_LEASE_MS: String(LEASE_MS),
        LABNET_REDISPATCH_AFTER_MS: "2000",
        LABNET_RATE_LIMIT_ADMIN: "0",
      },
    });
    watch(gateway.process);
    executor = watch(
      startExecutor({
        hostNetns: host.hostNetns,
        env: {
          DATABASE_URL: pg.url,
          LABNET_QUEUE_PREFIX: gateway.queuePrefix,
          LABNET_HEARTBEAT_MS: "1000",
          LABNET_RECONCILE_MS: "5000",
        },
      }),
    );
    await gateway.process.waitForOutput(/Postgres unavailable, retrying/);
    await executor.waitForOutput(/Postgres unavailable, retrying registration/);

    expectUnavailable(await call("GET", "/v1/nodes"));
    expectUnavailable(await call("POST", "/v1/networks", { name: "early" }));
    expect((await call("GET", "/v1/healthz")).status).toBe(200);
    expect((await call("GET", "/v1/readyz")).status).toBe(503);
    await sleep(2_000); // a few more retries, still up
    expect(exits).toEqual([]);

    await pg.start();
    await eventually(
      async () => {
        const hosts = await call("GET", "/v1/hosts");
        return hosts.body?.items?.some((h: { name: string; status: string }) => h.status === "online")
          ? true
          : undefined;
      },
      60_000,
      "the executor to register once Postgres is up",
    );
    const net = await call("POST", "/v1/networks", { name: "faults-net" }, { prefer: "wait=30" });
    expect(net.status, JSON.stringify(net.body)).toBe(201);
    const nodes = await Promise.all(
      ["a1", "a2"].map((name) =>
        call("POST", "/v1/nodes", { name, networkMode: "faults-net" }, { prefer: "wait=30" }),
      ),
    );
    expect(nodes.map((n) => [n.status, n.body?.state])).toEqual([
      [201, "ready"],
      [201, "ready"],
    ]);
    const [a1, a2] = nodes.map((n) => n.body);
    expect(await ping(netnsOf(a1.sandboxKey), a2.networkSettings.networks["faults-net"].ipAddress)).toBe(
      true,
    );
    expect(exits).toEqual([]);
  });

  it(
    `the executor and the gateway ride out a ${OUTAGE_MS / 1000} s outage: work accepted before and after completes`,
    async () => {
      // The executor, frozen, takes the creates' jobs only once Postgres is gone: their work
      // spans the outage for certain.
      process.kill(executor.pid, "SIGSTOP");
      const before = await Promise.all(Array.from({ length: 8 }, (_, i) => createAccepted(`pre${i}`)));
      await pg.stop();
      process.kill(executor.pid, "SIGCONT");
      const outageEnds = Date.now() + OUTAGE_MS;
      while (Date.now() < outageEnds) {
        expectUnavailable(await call("POST", "/v1/nodes", { name: "during", networkMode: "faults-net" }));
        await sleep(1_000);
      }
      const sandboxes = await listNetns(`${host.hostNetns}-`);
      expect(before.filter((a) => sandboxes.includes(netnsOf(a.body.sandboxKey)))).toEqual([]);
      await pg.start();
      const after = await Promise.all(Array.from({ length: 8 }, (_, i) => createAccepted(`post${i}`)));
      await waitForOperations({ db }, [...before, ...after].map(operationIdOf), 60_000);
      expect(exits).toEqual([]);
      await expectHostMatchesDatabase({ db }, host.hostNetns);
      const first = before[0]?.body;
      const last = (await call("GET", "/v1/nodes/post7")).body;
      expect(
        await ping(netnsOf(first.sandboxKey), last.networkSettings.networks["faults-net"].ipAddress),
      ).toBe(true);
    },
    OUTAGE_MS + 120_000,
  );

  it(`${RESTARTS} fast restarts under a stream of creates: no exit, no 500, every accepted create ready exactly once`, async () => {
    const statuses = new Map<string, number>();
    const note = (answer: Answer) => {
      const label = answer.status === 409 ? `409 ${answer.body?.code}` : String(answer.status);
      statuses.set(label, (statuses.get(label) ?? 0) + 1);
    };
    const pending: string[] = [];
    let streaming = true;
    let n = 0;
    // About 12 creates a second, each with its own key, none waiting for the kernel.
    const stream = (async () => {
      const inFlight: Promise<void>[] = [];
      while (streaming) {
        const name = `s${n++}`;
        inFlight.push(
          call("POST", "/v1/nodes", { name, networkMode: "faults-net" }, { "idempotency-key": name }).then(
            (answer) => {
              note(answer);
              if (answer.status !== 202) {
                pending.push(name);
              }
            },
          ),
        );
        await sleep(80);
      }
      await Promise.all(inFlight);
    })();
    for (let i = 0; i < RESTARTS; i++) {
      await sleep(600);
      await pg.restart(200);
    }
    await sleep(1_000);
    streaming = false;
    await stream;

    const seen = JSON.stringify(Object.fromEntries(statuses));
    expect(exits, gateway.process.output().slice(-3_000)).toEqual([]);
    // Only accepted, unavailable, or a lease still held by an attempt the restart cut off.
    expect(
      [...statuses.keys()].filter((s) => s !== "202" && s !== "503" && s !== "409 CONFLICT"),
      seen,
    ).toEqual([]);
    expect(statuses.get("503") ?? 0, seen).toBeGreaterThan(0);
    for (const name of pending) {
      await createAccepted(name);
    }

    // Every key, retried after its lease, replays its one answer: none stays in progress.
    await sleep(LEASE_MS + 500);
    const names = Array.from({ length: n }, (_, i) => `s${i}`);
    // A lease still held (409) would fail here: only 503 is retried.
    const replays = await Promise.all(names.map((name) => createAccepted(name, [503])));
    expect(
      replays.filter((r) => r.status !== 202 && r.status !== 201).map((r) => [r.status, r.body?.code]),
    ).toEqual([]);
    const rows = await db
      .select({ id: schema.nodes.id, name: schema.nodes.name })
      .from(schema.nodes)
      .where(inArray(schema.nodes.name, names));
    expect(rows.map((r) => r.name).sort()).toEqual([...names].sort());
    const idOf = new Map(rows.map((r) => [r.name, r.id]));
    expect(replays.filter((r) => r.body?.id !== idOf.get(r.body?.name)).length).toBe(0);
    const open = await db
      .select({ key: schema.idempotencyKeys.key })
      .from(schema.idempotencyKeys)
      .where(isNull(schema.idempotencyKeys.status));
    expect(open).toEqual([]);

    // Each accepted create ends ready; the kernel holds exactly what Postgres does.
    await waitForOperations({ db }, replays.map(operationIdOf), 120_000);
    const states = await db
      .selectDistinct({ state: schema.nodes.state })
      .from(schema.nodes)
      .where(inArray(schema.nodes.name, names));
    expect(states).toEqual([{ state: "ready" }]);
    await expectHostMatchesDatabase({ db }, host.hostNetns);
    const [first, last] = [replays[0]?.body, replays.at(-1)?.body];
    expect(await ping(netnsOf(first.sandboxKey), last.networkSettings.networks["faults-net"].ipAddress)).toBe(
      true,
    );
    expect(exits).toEqual([]);
  }, 240_000);
});
