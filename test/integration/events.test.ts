/**
 * Events (issue 10, deliverables 3 and 5): the triggers record every change in the changing
 * transaction (also changes made directly in SQL), `GET /v1/events` streams them in order with
 * filters, a client reconnecting with Last-Event-ID gets every missed event exactly once (also
 * from another gateway), a client that never reads is dropped while others keep receiving, the
 * JSON page form, and a lab instance's timeline. The app in process; no executor.
 */

import { createDb, type HostRow, schema } from "@labnet/db";
import { createGatewayRuntime, type GatewayRuntime, startEventHub } from "@labnet/gateway";
import { DEFAULT_ADDRESS_POOLS } from "@labnet/ipam";
import { createLogger } from "@labnet/log";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startTestLabnet, type TestLabnet, validateResponses } from "../helpers/labnet";
import { readSse, type SseMessage } from "../helpers/sse";
import { registerTestHost } from "../helpers/test-host";

interface EventBody {
  id: number;
  type: string;
  resourceType: string;
  resourceId: string;
  labId: string | null;
  instanceId: string | null;
  machineId: string | null;
  data: Record<string, unknown>;
}

/** Small, so the slow-client test overflows quickly. */
const MAX_BUFFERED = 20;

let labnet: TestLabnet;
let host: HostRow;

const parse = (m: SseMessage) => JSON.parse(m.data) as EventBody;

const stream = async (query = "", headers: Record<string, string> = {}) => {
  const res = await labnet.request("GET", `/v1/events${query}`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  return readSse(res);
};

/** An event-producing change made in SQL, not through the API: a network's state flipped. */
const flip = async (networkId: string, state: "ready" | "pending") => {
  await labnet.db.update(schema.networks).set({ state }).where(eq(schema.networks.id, networkId));
};

const createNetwork = async (name: string) => {
  const res = await labnet.client.POST("/v1/networks", { body: { name, host: host.name } });
  expect(res.response.status, JSON.stringify(res.error)).toBe(202);
  const id = res.data?.id;
  if (!id) {
    throw new Error("no network id");
  }
  return id;
};

/** The events table after `after` for one machine and resource type, as ids. */
const tableIds = async (after: number, resourceType: string) =>
  (
    await labnet.db
      .select({ id: schema.events.id })
      .from(schema.events)
      .where(
        and(
          gt(schema.events.id, after),
          eq(schema.events.machineId, host.id),
          eq(schema.events.resourceType, resourceType),
        ),
      )
      .orderBy(asc(schema.events.id))
  ).map((r) => r.id);

beforeAll(async () => {
  labnet = await startTestLabnet({
    eventStreamLimits: { maxBufferedEvents: MAX_BUFFERED, heartbeatMs: 300 },
  });
  host = await registerTestHost(labnet.db, { name: "ev-lab", netnsPrefix: "ev-" });
});

afterAll(async () => {
  await labnet?.stop();
});

describe("GET /v1/events", () => {
  it("streams creations through the API and changes made in SQL, in order, filtered", async () => {
    const events = await stream(`?machine=${host.name}&resourceType=network`);
    const a = await createNetwork("ev-a");
    const b = await createNetwork("ev-b");
    // Not a network: filtered out.
    await labnet.client.POST("/v1/nodes", { body: { name: "ev-n1", host: host.name, networkMode: "ev-a" } });
    await flip(a, "ready");
    const got = (await events.take(3)).map(parse);
    expect(got.map((e) => [e.type, e.resourceId, e.data.state])).toEqual([
      ["network.created", a, "pending"],
      ["network.created", b, "pending"],
      ["network.state", a, "ready"],
    ]);
    expect(got.every((e) => e.machineId === host.id)).toBe(true);
    const ids = got.map((e) => e.id);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    await events.close();
  });

  it("filters by event type, with a prefix wildcard", async () => {
    const events = await stream(`?machine=${host.id}&type=node.*`);
    const res = await labnet.client.POST("/v1/nodes", {
      body: { name: "ev-n2", host: host.name, networkMode: "ev-b" },
    });
    const first = parse(await events.next());
    expect(first).toMatchObject({ type: "node.created", resourceId: res.data?.id, resourceType: "node" });
    expect(first.data).toMatchObject({ name: "ev-n2", state: "pending" });
    await events.close();
  });

  it("sends heartbeat comments while nothing happens", async () => {
    const events = await stream(`?machine=${host.id}&type=lab.deleted`);
    await events.rest(800);
    expect(events.comments).toContain("heartbeat");
    await events.close();
  });

  it("replays every missed event exactly once, in order, after a reconnect with Last-Event-ID, also on another gateway", async () => {
    const net = await createNetwork("ev-replay");
    const filter = `?machine=${host.id}&resourceType=network`;
    const first = await stream(filter);
    // Changes keep coming while the client is away, some concurrently.
    const producing = (async () => {
      for (let i = 0; i < 30; i += 1) {
        await flip(net, i % 2 === 0 ? "ready" : "pending");
      }
    })();
    const seen = (await first.take(5)).map(parse);
    await first.close();
    await producing;
    const lastId = seen.at(-1)?.id ?? 0;

    // The same gateway...
    const again = await stream(filter, { "Last-Event-ID": String(lastId) });
    const expected = await tableIds(lastId, "network");
    const replayed = (await again.take(expected.length)).map(parse);
    expect(replayed.map((e) => e.id)).toEqual(expected);
    await flip(net, "ready");
    const live = parse(await again.next());
    expect(live.id).toBeGreaterThan(expected.at(-1) ?? lastId);
    await again.close();

    // ...and a second gateway over the same database (a restart): the same replay.
    const other = await startSecondGateway();
    try {
      const res = await other.runtime.app.fetch(
        new Request(`http://labnet.test/v1/events${filter}`, {
          headers: { authorization: `Bearer ${labnet.adminToken}`, "last-event-id": String(lastId) },
        }),
      );
      const elsewhere = readSse(res);
      const all = await tableIds(lastId, "network");
      const got = (await elsewhere.take(all.length)).map(parse);
      expect(got.map((e) => e.id)).toEqual(all);
      expect(new Set(got.map((e) => e.id)).size).toBe(got.length);
      await elsewhere.close();
    } finally {
      await other.stop();
    }
  });

  it("never delivers an id before a lower one still in flight commits", async () => {
    const net = await createNetwork("ev-gap");
    const events = await stream(`?machine=${host.id}&resourceType=network`);
    // A transaction takes an id and stays open while a later one commits.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = () => {};
    const holds = new Promise<void>((resolve) => {
      holding = resolve;
    });
    const slow = labnet.db.transaction(async (tx) => {
      await tx.update(schema.networks).set({ state: "ready" }).where(eq(schema.networks.id, net));
      holding();
      await held;
    });
    await holds;
    await flip(await createNetwork("ev-gap-2"), "ready");
    // Nothing yet: the lower id is still open.
    await expect(events.next(500)).rejects.toThrow(/no message/);
    release();
    await slow;
    const got = (await events.take(3)).map(parse);
    const ids = got.map((e) => e.id);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(got[0]).toMatchObject({ type: "network.state", resourceId: net });
    await events.close();
  });

  it("waits for a lower id whose writer began after the one that commits first (above the snapshot's xmax)", async () => {
    // A snapshot lists only transactions below its xmax (the latest completed id + 1): here the
    // writer holding the lower event id has the higher transaction id, so right after the other
    // commits it is running yet in no snapshot's in-progress list.
    const net = await createNetwork("ev-xmax");
    const later = await createNetwork("ev-xmax-2");
    const events = await stream(`?machine=${host.id}&resourceType=network`);
    const signals = () => {
      let open = () => {};
      const opened = new Promise<void>((resolve) => {
        open = resolve;
      });
      return { open, opened };
    };
    const firstHasXid = signals();
    const holderWrote = signals();
    const releaseHolder = signals();
    const first = labnet.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_current_xact_id()`);
      firstHasXid.open();
      await holderWrote.opened;
      await tx.update(schema.networks).set({ state: "ready" }).where(eq(schema.networks.id, later));
    });
    await firstHasXid.opened;
    const holder = labnet.db.transaction(async (tx) => {
      await tx.update(schema.networks).set({ state: "ready" }).where(eq(schema.networks.id, net));
      holderWrote.open();
      await releaseHolder.opened;
    });
    await first;
    // The higher id is committed, the lower one open: nothing may be delivered past the gap.
    await expect(events.next(600)).rejects.toThrow(/no message/);
    releaseHolder.open();
    await holder;
    const got = (await events.take(2)).map(parse);
    expect(got.map((e) => e.resourceId)).toEqual([net, later]);
    expect(got[1]?.id).toBe((got[0]?.id ?? 0) + 1);
    await events.close();
  });

  it("drops a client that never reads once its buffer is over the limit, while another keeps receiving", async () => {
    const net = await createNetwork("ev-slow");
    const filter = `?machine=${host.id}&resourceType=network`;
    const slowRes = await labnet.request("GET", `/v1/events${filter}`);
    const reader = await stream(filter);
    // Two bursts: the slow stream is dropped when events come while its write of earlier ones
    // is still pending. Had the hub delivered the whole first burst in one round (a loaded
    // machine), that write would hold it all and no later delivery would come to drop it.
    const first = MAX_BUFFERED * 4;
    const total = first + MAX_BUFFERED + 1;
    for (let i = 0; i < first; i += 1) {
      await flip(net, i % 2 === 0 ? "ready" : "pending");
    }
    const received = (await reader.take(first, 20_000)).map(parse);
    for (let i = first; i < total; i += 1) {
      await flip(net, i % 2 === 0 ? "ready" : "pending");
    }
    received.push(...(await reader.take(total - first, 20_000)).map(parse));
    expect(received).toHaveLength(total);
    // The slow one: its stream ends having held what the pipe took, far fewer than all.
    const slow = readSse(slowRes);
    const { messages, ended } = await slow.rest(5_000);
    expect(ended).toBe(true);
    expect(messages.length).toBeLessThan(total);
    // It reconnects where it stopped and gets the rest from the table.
    const lastSlow = messages.length > 0 ? Number(messages.at(-1)?.id) : (received[0]?.id ?? 1) - 1;
    const resumed = await stream(filter, { "Last-Event-ID": String(lastSlow) });
    const missing = received.filter((e) => e.id > lastSlow).length;
    const rest = (await resumed.take(missing, 20_000)).map(parse);
    expect(rest.map((e) => e.id)).toEqual(received.filter((e) => e.id > lastSlow).map((e) => e.id));
    await resumed.close();
    await reader.close();
  });

  it("answers a page as JSON with format=json, after and limit", async () => {
    const net = await createNetwork("ev-page");
    const firstPage = await labnet.request("GET", `/v1/events?format=json&resourceType=network&limit=1000`);
    const { next: start } = (await firstPage.json()) as { next: number };
    await flip(net, "ready");
    await flip(net, "pending");
    await flip(net, "ready");
    // The hub's horizon follows the commits within a round.
    let items: EventBody[] = [];
    let next = start;
    for (let i = 0; i < 50 && items.length < 3; i += 1) {
      const res = await labnet.request(
        "GET",
        `/v1/events?format=json&resourceType=network&machine=${host.id}&after=${next}&limit=2`,
      );
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: EventBody[]; next: number };
      expect(page.items.length).toBeLessThanOrEqual(2);
      items = [...items, ...page.items];
      next = page.next;
      if (page.items.length === 0) {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(items.map((e) => e.data.state)).toEqual(["ready", "pending", "ready"]);
    expect(items.every((e) => e.resourceId === net)).toBe(true);
  });

  it("refuses unknown filters and bad values naming the parameter", async () => {
    const bad = await labnet.request("GET", "/v1/events?resourceType=cat&format=json");
    expect(bad.status).toBe(400);
    const unknown = await labnet.request("GET", "/v1/events?lab=nope&format=json");
    expect(unknown.status).toBe(404);
    const header = await labnet.request("GET", "/v1/events?format=json", {
      headers: { "Last-Event-ID": "x" },
    });
    expect(header.status).toBe(400);
  });
});

describe("the event hub without streams", () => {
  it("follows a burst of commits in one round a second, and settle() catches up at once", async () => {
    const { db, sql: pg, close } = createDb(labnet.databaseUrl, { max: 2 });
    // Every statement the hub sends goes through execute or transaction: counted.
    let statements = 0;
    const counted = new Proxy(db, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if ((key === "execute" || key === "transaction") && typeof value === "function") {
          return (...args: unknown[]) => {
            statements += 1;
            return value.apply(target, args);
          };
        }
        return value;
      },
    });
    const hub = startEventHub({ db: counted, pg, log: createLogger("test-hub"), pollMs: 60_000 });
    try {
      await hub.ready();
      const net = await createNetwork("ev-idle");
      await new Promise((r) => setTimeout(r, 1_200));
      statements = 0;
      // 20 commits, each with its NOTIFY, within about half a second.
      for (let i = 0; i < 20; i += 1) {
        await flip(net, i % 2 === 0 ? "ready" : "pending");
        await new Promise((r) => setTimeout(r, 25));
      }
      // At most one idle round (a head read, a bound, a second head read) has run: at the
      // round gap of a stream's hub it would have been about ten.
      expect(statements).toBeLessThanOrEqual(4);
      const [last] = await labnet.db
        .select({ id: sql<string>`max(${schema.events.id})` })
        .from(schema.events);
      const started = performance.now();
      await hub.settle();
      expect(hub.horizon()).toBeGreaterThanOrEqual(Number(last?.id));
      expect(performance.now() - started).toBeLessThan(500);
    } finally {
      await hub.stop();
      await close();
    }
  });
});

describe("GET /v1/labs/{labId}/instances/{instanceId}/timeline", () => {
  it("lists what was created in one instance and its check results, in order", async () => {
    const res = await labnet.request("POST", "/v1/labs", {
      body: { name: "ev-lab", template: "builtin:seed-001-ex2", count: 2, host: host.name },
    });
    expect(res.status).toBe(202);
    const lab = (await res.json()) as { id: string; instances: { id: string; student: string }[] };
    const [s01, s02] = lab.instances;
    if (!s01 || !s02) {
      throw new Error("two instances expected");
    }
    // A check run, finished, as the gateway records one.
    const [run] = await labnet.db
      .insert(schema.labCheckRuns)
      .values({ id: "chk_aaaaaaaaaaaaaaaa", labId: lab.id, instanceIds: [s01.id, s02.id] })
      .returning();
    await labnet.db
      .update(schema.labCheckRuns)
      .set({
        state: "done",
        finishedAt: sql`now()`,
        results: {
          [s01.id]: [
            { name: "app reaches web", passed: true, expected: "x", observed: "y", evidence: null },
            { name: "web resolves", passed: false, expected: "x", observed: "z", evidence: null },
          ],
          [s02.id]: [],
        },
      })
      .where(eq(schema.labCheckRuns.id, run?.id ?? ""));

    const timeline = await labnet.client.GET("/v1/labs/{labId}/instances/{instanceId}/timeline", {
      params: { path: { labId: "ev-lab", instanceId: "s01" } },
    });
    expect(timeline.response.status).toBe(200);
    const body = timeline.data;
    if (!body) {
      throw new Error("no timeline");
    }
    expect(body).toMatchObject({ labId: lab.id, instanceId: s01.id, student: "s01" });
    expect(body.items.every((e) => e.instanceId === s01.id)).toBe(true);
    const types = body.items.map((e) => e.type);
    expect(types[0]).toBe("lab_instance.created");
    expect(types).toEqual(expect.arrayContaining(["machine.created", "network.created", "node.created"]));
    const nodes = body.items.filter((e) => e.type === "node.created").map((e) => e.data.name);
    expect(nodes).toEqual(expect.arrayContaining(["web_container", "app_container"]));
    const done = body.items.find((e) => e.type === "check_run.done");
    expect(done?.data).toMatchObject({
      id: "chk_aaaaaaaaaaaaaaaa",
      summary: { total: 2, passed: 1, failed: 1 },
      checks: [
        { name: "app reaches web", passed: true },
        { name: "web resolves", passed: false },
      ],
    });
    const ids = body.items.map((e) => e.id);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);

    const other = await labnet.client.GET("/v1/labs/{labId}/instances/{instanceId}/timeline", {
      params: { path: { labId: lab.id, instanceId: s02.id } },
    });
    expect(other.data?.items.some((e) => ids.includes(e.id))).toBe(false);

    const missing = await labnet.request("GET", "/v1/labs/ev-lab/instances/s09/timeline");
    expect(missing.status).toBe(404);
  });
});

/** Another gateway process's worth (its own hub) over the test's database, no controller. */
async function startSecondGateway(): Promise<{ runtime: GatewayRuntime; stop(): Promise<void> }> {
  const { db, sql: pg, close } = createDb(labnet.databaseUrl, { max: 4 });
  const runtime = createGatewayRuntime({
    db,
    pg,
    redisUrl: inject("redisUrl"),
    queuePrefix: labnet.queuePrefix,
    addressPools: DEFAULT_ADDRESS_POOLS,
    defaultMtu: 1500,
    log: createLogger("test-gateway-2"),
    runController: false,
    redispatchAfterMs: 30_000,
  });
  validateResponses(runtime.app);
  return {
    runtime,
    async stop() {
      await runtime.stop();
      await close();
    },
  };
}
