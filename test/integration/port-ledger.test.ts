/**
 * The host port ledger against a real Postgres: the collision rule is the database's
 * (exclusion constraint), and concurrent allocations never hand one port out twice.
 */
import { allocatePorts, DomainError, type LocatedPortRequest } from "@labnet/commands";
import {
  createDb,
  type Database,
  type HostRow,
  listHostPortMappings,
  newId,
  type PortProtocol,
  registerHost,
  schema,
  tryInsertPortMappings,
} from "@labnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

let database: TestDatabase;
let db: Database;
let close: () => Promise<void>;

beforeAll(async () => {
  database = await createTestDatabase("ports");
  ({ db, close } = createDb(database.url, { max: 40 }));
});

afterAll(async () => {
  await close?.();
  await database?.drop();
});

async function makeHost(range?: { start: number; end: number }): Promise<HostRow> {
  const name = `h-${newId("host").slice(4, 12)}`;
  return registerHost(db, {
    id: newId("host"),
    name,
    netnsPrefix: "ln-",
    underlayAddress: null,
    capabilities: { linkTypes: [], drivers: [], iptables: true },
    ...(range ? { portRangeStart: range.start, portRangeEnd: range.end } : {}),
  });
}

async function makeNode(host: HostRow, name: string): Promise<{ id: string; name: string }> {
  const id = newId("node");
  await db
    .insert(schema.nodes)
    .values({ id, name, hostId: host.id, networkMode: "bridge", netns: `ln-${id}` });
  return { id, name };
}

function request(spec: {
  protocol?: PortProtocol;
  hostIp?: string;
  port?: number;
  range?: [number, number];
  containerPort?: number;
}): LocatedPortRequest {
  const hostPorts =
    spec.port !== undefined
      ? { start: spec.port, end: spec.port }
      : spec.range
        ? { start: spec.range[0], end: spec.range[1] }
        : undefined;
  return {
    protocol: spec.protocol ?? "tcp",
    hostIp: spec.hostIp ?? "0.0.0.0",
    containerPort: spec.containerPort ?? 80,
    location: "body.ports[0]",
    ...(hostPorts ? { hostPorts } : {}),
  };
}

function allocate(host: HostRow, node: { id: string; name: string }, requests: LocatedPortRequest[]) {
  return db.transaction((tx) => allocatePorts(tx, { host, node }, requests));
}

async function domainErrorOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe("collision rule (exclusion constraint port_mappings_no_collision)", () => {
  const cases: {
    name: string;
    given: { protocol: PortProtocol; hostIp: string };
    next: { protocol: PortProtocol; hostIp: string };
    collides: boolean;
  }[] = [
    { name: "same port, every address twice", given: tcp("0.0.0.0"), next: tcp("0.0.0.0"), collides: true },
    { name: "udp next to tcp", given: tcp("0.0.0.0"), next: udp("0.0.0.0"), collides: false },
    { name: "every address blocks one", given: tcp("0.0.0.0"), next: tcp("10.1.2.3"), collides: true },
    { name: "one address blocks every", given: tcp("10.1.2.3"), next: tcp("0.0.0.0"), collides: true },
    { name: "the same address", given: tcp("10.1.2.3"), next: tcp("10.1.2.3"), collides: true },
    { name: "two addresses", given: tcp("10.1.2.3"), next: tcp("10.1.2.4"), collides: false },
    { name: "loopback and an address", given: tcp("127.0.0.1"), next: tcp("10.1.2.4"), collides: false },
  ];
  it.each(cases)("$name → collides: $collides", async ({ given, next, collides }) => {
    const host = await makeHost();
    const a = await makeNode(host, "a");
    const b = await makeNode(host, "b");
    const row = { hostId: host.id, hostPort: 8080, containerPort: 80, random: false };
    expect(await tryInsertPortMappings(db, [{ ...row, nodeId: a.id, ...given }])).toHaveLength(1);
    expect(await tryInsertPortMappings(db, [{ ...row, nodeId: b.id, ...next }])).toHaveLength(
      collides ? 0 : 1,
    );
  });

  it("refuses a collision within one statement too", async () => {
    const host = await makeHost();
    const a = await makeNode(host, "a");
    const row = { hostId: host.id, nodeId: a.id, hostPort: 8080, containerPort: 80, random: false };
    const inserted = await tryInsertPortMappings(db, [
      { ...row, ...tcp("0.0.0.0") },
      { ...row, ...tcp("10.0.0.1"), containerPort: 81 },
    ]);
    expect(inserted.map((m) => m.containerPort)).toEqual([80]);
  });

  it("is per host", async () => {
    const [one, two] = [await makeHost(), await makeHost()];
    await allocate(one, await makeNode(one, "a"), [request({ port: 8080 })]);
    await allocate(two, await makeNode(two, "a"), [request({ port: 8080 })]);
  });
});

describe("allocatePorts", () => {
  it("names the node and mapping a fixed port collides with, and records none of the request", async () => {
    const host = await makeHost();
    const web = await makeNode(host, "web");
    await allocate(host, web, [request({ port: 8080 })]);
    const dup = await makeNode(host, "dup");
    const error = await domainErrorOf(
      allocate(host, dup, [
        request({ port: 9000 }),
        { ...request({ port: 8080 }), location: "body.ports[1]" },
      ]),
    );
    expect(error.code).toBe("PORT_IN_USE");
    expect(error.message).toMatch(/node web as 0\.0\.0\.0:8080->80\/tcp \(pm_[a-z2-7]{16}\)/);
    expect(error.errors).toEqual([
      { location: "body.ports[1]", message: expect.stringContaining("node web") },
    ]);
    expect((await listHostPortMappings(db, host.id)).map((m) => m.hostPort)).toEqual([8080]);
  });

  it("says when a node collides with itself", async () => {
    const host = await makeHost();
    const web = await makeNode(host, "web");
    const error = await domainErrorOf(
      allocate(host, web, [request({ port: 8080 }), request({ port: 8080, containerPort: 81 })]),
    );
    expect(error.message).toContain("node web (this node)");
  });

  it("takes the lowest free port of an explicit range, and says when it is full", async () => {
    const host = await makeHost();
    const node = await makeNode(host, "n");
    await allocate(host, node, [request({ port: 8000 })]);
    const [picked] = await allocate(host, node, [request({ range: [8000, 8002] })]);
    expect(picked).toMatchObject({ hostPort: 8001, random: false });
    await allocate(host, node, [request({ range: [8000, 8002] })]);
    const error = await domainErrorOf(allocate(host, node, [request({ range: [8000, 8002] })]));
    expect(error.code).toBe("PORT_RANGE_EXHAUSTED");
    expect(error.message).toContain("the requested range 8000-8002");
  });

  it("draws random ports of the host's range at random, not in sequence", async () => {
    const host = await makeHost();
    const node = await makeNode(host, "n");
    const rows = await allocate(
      host,
      node,
      Array.from({ length: 20 }, (_, i) => request({ containerPort: 1000 + i })),
    );
    const ports = rows.map((r) => r.hostPort);
    expect(new Set(ports).size).toBe(20);
    expect(ports.every((p) => p >= 32768 && p <= 60999)).toBe(true);
    expect(rows.every((r) => r.random && r.createdAt instanceof Date)).toBe(true);
    const sorted = [...ports].sort((a, b) => a - b);
    const consecutive = sorted.every((p, i) => i === 0 || p === (sorted[i - 1] ?? 0) + 1);
    expect(consecutive).toBe(false);
  });

  it("gives 200 concurrent requests 200 distinct ports", async () => {
    const host = await makeHost();
    const nodes = await Promise.all(Array.from({ length: 200 }, (_, i) => makeNode(host, `c${i}`)));
    const rows = await Promise.all(nodes.map((node) => allocate(host, node, [request({})])));
    expect(new Set(rows.map((r) => r[0]?.hostPort)).size).toBe(200);
  });

  it("gives a small range out once, concurrently, and then answers PORT_RANGE_EXHAUSTED quickly", async () => {
    const host = await makeHost({ start: 49000, end: 49009 });
    const nodes = await Promise.all(Array.from({ length: 40 }, (_, i) => makeNode(host, `s${i}`)));
    const started = Date.now();
    const results = await Promise.allSettled(nodes.map((node) => allocate(host, node, [request({})])));
    expect(Date.now() - started).toBeLessThan(10_000);
    const ports = results.flatMap((r) => (r.status === "fulfilled" ? r.value.map((m) => m.hostPort) : []));
    expect(ports.sort()).toEqual(Array.from({ length: 10 }, (_, i) => 49000 + i));
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused).toHaveLength(30);
    for (const r of refused) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "PORT_RANGE_EXHAUSTED" });
    }
  });

  it("finds the last free port of a wide range that random draws keep missing", async () => {
    const host = await makeHost({ start: 50000, end: 50099 });
    const node = await makeNode(host, "n");
    const taken = Array.from({ length: 100 }, (_, i) => 50000 + i).filter((p) => p !== 50042);
    await allocate(
      host,
      node,
      taken.map((port, i) => request({ port, containerPort: 1000 + i })),
    );
    const [last] = await allocate(host, node, [request({ containerPort: 80 })]);
    expect(last).toMatchObject({ hostPort: 50042, random: true });
    const error = await domainErrorOf(allocate(host, node, [request({ containerPort: 81 })]));
    expect(error.code).toBe("PORT_RANGE_EXHAUSTED");
  });

  it("lets two callers taking the same fixed ports in different orders finish: one wins, one is told", async () => {
    const host = await makeHost();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, async (_, i) => {
        const node = await makeNode(host, `o${i}`);
        const ports = [7001, 7002, 7003, 7004].map((port) => request({ port }));
        return allocate(host, node, i % 2 === 0 ? ports : ports.reverse());
      }),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected")) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "PORT_IN_USE" });
    }
  });
});

function tcp(hostIp: string): { protocol: PortProtocol; hostIp: string } {
  return { protocol: "tcp", hostIp };
}

function udp(hostIp: string): { protocol: PortProtocol; hostIp: string } {
  return { protocol: "udp", hostIp };
}
