/**
 * Issue 10, events: a client subscribed before `POST /v1/labs` sees every instance's machines
 * and nodes go to ready as the executor builds them; a client that disconnects mid-lab and
 * reconnects with Last-Event-ID receives every event it missed exactly once, in order.
 */
import type { components } from "@labnet/api";
import { schema } from "@labnet/db";
import { and, asc, eq, gt } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import type { SimHost } from "../helpers/netns";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";
import { readSse, type SseMessage } from "../helpers/sse";

type Lab = components["schemas"]["Lab"];
type Event = components["schemas"]["Event"];

const STUDENTS = 3;

let labnet: TestLabnet;
let host: SimHost;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("ev", 75));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

const parse = (m: SseMessage) => JSON.parse(m.data) as Event;

async function openStream(query = "", headers: Record<string, string> = {}) {
  const res = await labnet.request("GET", `/v1/events${query}`, { headers });
  expect(res.status).toBe(200);
  return readSse(res);
}

describe("events of a lab being built", () => {
  it("show a subscriber every instance's machines and nodes going to ready, and replay what a reconnecting one missed", async () => {
    const all = await openStream();
    // A second client that will leave mid-lab and come back.
    const leaver = await openStream();

    const res = await labnet.client.POST("/v1/labs", {
      body: { name: "evlab", template: "builtin:seed-001-ex2", count: STUDENTS },
    });
    expect([201, 202], JSON.stringify(res.error)).toContain(res.response.status);
    const labId = res.data?.id ?? "";

    const before = (await leaver.take(10, 30_000)).map(parse);
    await leaver.close();
    const lastSeen = before.at(-1)?.id ?? 0;

    const lab = await eventually(
      async () => {
        const got = await labnet.client.GET("/v1/labs/{labId}", { params: { path: { labId } } });
        const view: Lab | undefined = got.data;
        return view && view.summary.ready === view.summary.total ? view : undefined;
      },
      90_000,
      "every instance ready",
    );
    expect(lab.instances).toHaveLength(STUDENTS);

    // Every machine and node of every instance went to ready, as events the subscriber got.
    const seen: Event[] = [];
    const wanted = lab.instances.flatMap((instance) => [
      ...instance.machines.map((m) => ({ type: "machine.state", id: m.id, instance: instance.id })),
      ...instance.nodes.map((n) => ({ type: "node.state", id: n.id, instance: instance.id })),
    ]);
    expect(wanted.length).toBeGreaterThanOrEqual(STUDENTS * 3);
    await eventually(
      async () => {
        const more = await all.rest(200);
        seen.push(...more.messages.map(parse));
        const missing = wanted.filter(
          (w) =>
            !seen.some(
              (e) =>
                e.type === w.type &&
                e.resourceId === w.id &&
                e.data.state === "ready" &&
                e.instanceId === w.instance &&
                e.labId === labId,
            ),
        );
        return missing.length === 0 ? true : undefined;
      },
      15_000,
      "a ready event for every machine and node",
    );
    const ids = seen.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    await all.close();

    // The leaver comes back: exactly what it missed (of this lab), in order.
    const back = await openStream(`?lab=${labId}`, { "Last-Event-ID": String(lastSeen) });
    const missed = (
      await labnet.db
        .select({ id: schema.events.id })
        .from(schema.events)
        .where(and(gt(schema.events.id, lastSeen), eq(schema.events.labId, labId)))
        .orderBy(asc(schema.events.id))
    ).map((r) => r.id);
    const replayed = (await back.take(missed.length, 30_000)).map(parse);
    expect(replayed.map((e) => e.id)).toEqual(missed);
    expect(seen.filter((e) => e.labId === labId && e.id > lastSeen).map((e) => e.id)).toEqual(
      missed.filter((id) => id <= (ids.at(-1) ?? 0)),
    );
    await back.close();
  });
});
