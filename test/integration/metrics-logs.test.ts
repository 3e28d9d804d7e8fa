/**
 * Issue 14, metrics and logs, with the gateway in process (no executor): `GET /metrics` is
 * Prometheus text (read by a Prometheus parser) for admins only, and its counters, histograms and
 * per-host gauges move with the requests made; every request writes one access line with its
 * request id (the one answered in X-Request-Id); no token ever reaches the log, whatever
 * the request carried it in.
 */
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { createDb, createToken, type Database } from "@labnet/db";
import { createGatewayRuntime, type GatewayRuntime } from "@labnet/gateway";
import { DEFAULT_ADDRESS_POOLS } from "@labnet/ipam";
import { createLogger } from "@labnet/log";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { validateResponses } from "../helpers/labnet";
import { parseMetrics } from "../helpers/prometheus";
import { registerTestHost } from "../helpers/test-host";

let database: TestDatabase;
let db: Database;
let closeDb: () => Promise<void>;
let runtime: GatewayRuntime;
let logText = "";
const lnt = `lnt_test_${randomBytes(16).toString("hex")}`;
// An admin token from LABNET_ADMIN_TOKEN may look like anything.
const plain = `plain-admin-secret-${randomBytes(8).toString("hex")}`;
const instructor = `lnt_instr_${randomBytes(16).toString("hex")}`;

beforeAll(async () => {
  database = await createTestDatabase("ml");
  const created = createDb(database.url, { max: 10 });
  db = created.db;
  closeDb = created.close;
  await createToken(db, { name: "admin", role: "admin", secret: lnt });
  await createToken(db, { name: "admin from env", role: "admin", secret: plain });
  await createToken(db, { name: "an instructor", role: "instructor", secret: instructor });
  await registerTestHost(db, { name: "ml-lab", netnsPrefix: "ml-" });
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logText += chunk.toString();
      done();
    },
  });
  runtime = createGatewayRuntime({
    db,
    pg: created.sql,
    redisUrl: inject("redisUrl"),
    queuePrefix: `lnq${randomBytes(4).toString("hex")}`,
    addressPools: DEFAULT_ADDRESS_POOLS,
    defaultMtu: 1500,
    log: createLogger("gateway", { level: "debug", destination }),
    runController: true,
    redispatchAfterMs: 30_000,
    pollMs: 200,
  });
  validateResponses(runtime.app);
});

afterAll(async () => {
  await runtime?.stop();
  await closeDb?.();
  await database?.drop();
});

function call(
  path: string,
  init: { token?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  return runtime.app.fetch(
    new Request(`http://labnet.test${path}`, {
      method: init.method ?? "GET",
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    }),
  );
}

async function scrape() {
  const res = await call("/metrics", { token: lnt });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

/** The access lines written so far (JSON lines with message "request"). */
function accessLines(): Record<string, unknown>[] {
  return logText
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.message === "request");
}

const eventually = async <T>(read: () => Promise<T | undefined>, what: string): Promise<T> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe("GET /metrics", () => {
  it("is for admins: 401 without a token, 403 for an instructor, 200 for an admin", async () => {
    expect((await call("/metrics")).status).toBe(401);
    const forbidden = await call("/metrics", { token: instructor });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect((await call("/metrics", { token: plain })).status).toBe(200);
  });

  it("declares every family of issue 14 with its type", async () => {
    const metrics = await scrape();
    expect(metrics.type("labnet_http_requests_total")).toBe("COUNTER");
    expect(metrics.type("labnet_http_request_duration_seconds")).toBe("HISTOGRAM");
    for (const gauge of [
      "labnet_machines",
      "labnet_networks",
      "labnet_nodes",
      "labnet_published_ports",
      "labnet_executor_heartbeat_age_seconds",
      "labnet_queue_jobs",
    ]) {
      expect(metrics.type(gauge), gauge).toBe("GAUGE");
    }
    expect(metrics.value("labnet_executor_heartbeat_age_seconds", { host: "ml-lab" })).toBeGreaterThanOrEqual(
      0,
    );
  });

  it("moves with work: requests by route template and status, their durations, the host's networks, nodes, ports and queue", async () => {
    const before = await scrape();
    const created = await call("/v1/networks", { token: lnt, method: "POST", body: { name: "m-net" } });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    expect((await call(`/v1/networks/${id}`, { token: lnt })).status).toBe(200);
    expect((await call("/v1/networks/nope", { token: lnt })).status).toBe(404);
    const node = await call("/v1/nodes", {
      token: lnt,
      method: "POST",
      body: { name: "m-node", networkMode: "m-net", ports: ["8081:80"] },
    });
    expect(node.status).toBe(202);

    const after = await eventually(async () => {
      const m = await scrape();
      return m.value("labnet_queue_jobs", { host: "ml-lab" }) > 0 ? m : undefined;
    }, "the converge job on ml-lab's queue");
    const posts = { method: "POST", route: "/v1/networks", status: "202" };
    expect(
      after.value("labnet_http_requests_total", posts) - before.value("labnet_http_requests_total", posts),
    ).toBe(1);
    const reads = { method: "GET", route: "/v1/networks/:networkId" };
    expect(after.value("labnet_http_requests_total", { ...reads, status: "200" })).toBe(
      before.value("labnet_http_requests_total", { ...reads, status: "200" }) + 1,
    );
    expect(after.value("labnet_http_requests_total", { ...reads, status: "404" })).toBe(
      before.value("labnet_http_requests_total", { ...reads, status: "404" }) + 1,
    );
    expect(after.count("labnet_http_request_duration_seconds", posts)).toBe(
      before.count("labnet_http_request_duration_seconds", posts) + 1,
    );
    // No raw path (an id) ever becomes a label.
    expect(after.families.flatMap((f) => f.metrics.map((m) => m.labels?.route ?? ""))).not.toContain(
      `/v1/networks/${id}`,
    );
    const host = { host: "ml-lab" };
    expect(after.value("labnet_networks", host)).toBe(before.value("labnet_networks", host) + 1);
    expect(after.value("labnet_nodes", host)).toBe(before.value("labnet_nodes", host) + 1);
    expect(after.value("labnet_published_ports", host)).toBe(
      before.value("labnet_published_ports", host) + 1,
    );
  });
});

describe("logs", () => {
  it("write one access line per request, with the request id answered in X-Request-Id", async () => {
    const seen = accessLines().length;
    const answers = [
      await call("/v1/networks", { token: lnt }),
      await call("/v1/networks", { token: lnt, headers: { "x-request-id": "my-trace-42" } }),
      await call("/v1/networks"),
    ];
    const lines = accessLines().slice(seen);
    expect(lines).toHaveLength(3);
    for (const [i, res] of answers.entries()) {
      expect(lines[i]).toMatchObject({
        requestId: res.headers.get("x-request-id"),
        method: "GET",
        route: "/v1/networks",
        path: "/v1/networks",
        status: res.status,
        component: "gateway",
      });
      expect(typeof lines[i]?.ms).toBe("number");
    }
    expect(lines[1]?.requestId).toBe("my-trace-42");
    expect(lines.map((l) => l.level)).toEqual(["info", "info", "warn"]);
  });

  it("never contain a token, wherever a request carried it", async () => {
    const wrong = `lnt_wrong_${randomBytes(16).toString("hex")}`;
    await call("/v1/networks", { token: plain });
    await call("/v1/networks", { token: wrong });
    await call(`/v1/networks?token=${lnt}`, { token: lnt });
    await call(`/v1/networks/${lnt}`, { token: lnt });
    await call("/v1/networks", { token: lnt, method: "POST", body: { name: lnt } });
    await call("/v1/networks", {
      token: lnt,
      method: "POST",
      body: { name: "t-net", labels: { secret: lnt, plain } },
    });
    await call("/v1/networks", { headers: { authorization: `Basic ${plain}` } });
    await call("/v1/nodes", { token: lnt, method: "POST", body: `{"name": "${lnt}", ` });
    expect(accessLines().length).toBeGreaterThan(8);
    for (const secret of [lnt, plain, wrong, instructor]) {
      expect(logText).not.toContain(secret);
    }
  });
});
