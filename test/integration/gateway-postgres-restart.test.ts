/**
 * The gateway process (services/gateway/src/main.ts) under a stream of creates while its
 * Postgres restarts (fast shutdown, like `pg_ctl restart -m fast`) again and again: it never
 * exits, never answers 500, and every create, retried with its Idempotency-Key until it is
 * accepted, exists exactly once.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createDb, type Database, schema } from "@labnet/db";
import { REPO_ROOT } from "@labnet/devstack";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type PrivatePostgres, startPrivatePostgres } from "../helpers/private-postgres";
import { startTestProcess, type TestProcess } from "../helpers/processes";
import { registerTestHost } from "../helpers/test-host";

const GATEWAY_MAIN = path.join(REPO_ROOT, "services", "gateway", "src", "main.ts");
const RESTARTS = 5;
const token = `lnt_test_${randomBytes(16).toString("hex")}`;
let pg: PrivatePostgres;
let gateway: TestProcess;
let db: Database;
let closeDb: () => Promise<void>;
let base: string;
let hostName: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  pg = await startPrivatePostgres("pg-gateway");
  ({ db, close: closeDb } = createDb(pg.url, { max: 2 }));
  hostName = (await registerTestHost(db, { name: "restart-host", netnsPrefix: "rst-" })).name;
  gateway = startTestProcess("gateway-pg-restart", [process.execPath, "--import", "tsx", GATEWAY_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: pg.url,
      REDIS_URL: inject("redisUrl"),
      LABNET_PORT: "0",
      LABNET_ADMIN_TOKEN: token,
      LABNET_QUEUE_PREFIX: `lnq${randomBytes(4).toString("hex")}`,
      LABNET_IDEMPOTENCY_LEASE_MS: "2000",
    },
  });
  const line = await gateway.waitForOutput(/^Labnet API: (http:\/\/\S+)\/v1$/);
  base = line.replace(/^Labnet API: /, "");
});

afterAll(async () => {
  await gateway?.stop();
  await closeDb?.();
  await pg?.stop();
});

async function create(name: string, key: string): Promise<number> {
  try {
    const res = await fetch(`${base}/nodes`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "idempotency-key": key,
      },
      body: JSON.stringify({ name, host: hostName, networkMode: "none" }),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // no answer at all (the process is gone): counted against it below
  }
}

describe("the gateway process across Postgres restarts", () => {
  it(`keeps serving a stream of creates through ${RESTARTS} fast restarts: no exit, no 500, each create once`, async () => {
    let exited = false;
    void gateway.exited.then(() => {
      exited = true;
    });
    const statuses = new Map<number, number>();
    const pending: { name: string; key: string }[] = [];
    let streaming = true;
    let n = 0;
    // About 25 creates a second, each with its own key.
    const stream = (async () => {
      const inFlight: Promise<void>[] = [];
      while (streaming) {
        const name = `r${n++}`;
        const key = `key-${name}`;
        inFlight.push(
          create(name, key).then((status) => {
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status !== 202) {
              pending.push({ name, key });
            }
          }),
        );
        await sleep(40);
      }
      await Promise.all(inFlight);
    })();
    for (let i = 0; i < RESTARTS; i++) {
      await sleep(700);
      await pg.restart(300);
    }
    await sleep(1_500);
    streaming = false;
    await stream;

    expect(exited, gateway.output().slice(-3_000)).toBe(false);
    expect([...statuses.keys()].filter((s) => s !== 202 && s !== 503 && s !== 409)).toEqual([]);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    // Retry what was not accepted, with the same key, until it is (a 409 is a lease still held).
    const deadline = Date.now() + 40_000;
    while (pending.length > 0 && Date.now() < deadline) {
      const { name, key } = pending[0] as { name: string; key: string };
      const status = await create(name, key);
      expect([202, 409, 503]).toContain(status);
      if (status === 202) {
        pending.shift();
      } else {
        await sleep(500);
      }
    }
    expect(pending, JSON.stringify(Object.fromEntries(statuses))).toEqual([]);
    const names = (await db.select({ name: schema.nodes.name }).from(schema.nodes)).map((row) => row.name);
    const wanted = Array.from({ length: n }, (_, i) => `r${i}`);
    expect(names.filter((name) => name.startsWith("r")).sort()).toEqual(wanted.sort());
  }, 90_000);
});
