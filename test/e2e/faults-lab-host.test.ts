/**
 * Lab host faults, with real packets: the executor SIGKILLed in the middle of a burst of
 * creates, and a lab host whose namespace was wiped as by a reboot (every sandbox, machine,
 * bridge and rule gone while Postgres remembers them), rebuilt by the executor at its start,
 * machines included, with the operations queued meanwhile carried out.
 * Redis losing its queues and an executor killed before a burst: lifecycle.test.ts.
 */
import type { components } from "@labnet/api";
import { schema } from "@labnet/db";
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  expectHostMatchesDatabase,
  labnetLinks,
  labnetRules,
  waitForOperations,
} from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import { listNetns, netnsOf, ping, type SimHost } from "../helpers/netns";
import { callPeer, startPeer } from "../helpers/peers";
import type { TestProcess } from "../helpers/processes";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

type Node = components["schemas"]["Node"];
type Machine = components["schemas"]["Machine"];

let labnet: TestLabnet;
let host: SimHost;
let executor: TestProcess;
const BURST = 30;

beforeAll(async () => {
  ({ labnet, host, executor } = await startSimHostLabnet("flh", 121, {
    labnet: { redispatchAfterMs: 2_000 },
  }));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

async function created<T extends { state: string }>(res: {
  response: Response;
  data?: T;
  error?: unknown;
}): Promise<T> {
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  expect(res.data?.state).toBe("ready");
  return res.data as T;
}

const operationOf = (res: { data?: { operation?: { id: string } | null } }) => res.data?.operation?.id ?? "";

describe("the executor killed mid-burst", () => {
  it(`finishes every one of ${BURST} creates exactly once after a SIGKILL during their converge`, async () => {
    await created(await labnet.waitingClient.POST("/v1/networks", { body: { name: "burst" } }));
    const burst = Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        labnet.client.POST("/v1/nodes", { body: { name: `k${i}`, networkMode: "burst" } }),
      ),
    );
    // Killed once the kernel work has begun: some sandboxes exist, not all are settled.
    await eventually(
      async () => ((await listNetns(`${host.hostNetns}-`)).length > 0 ? true : undefined),
      30_000,
      "the first sandboxes of the burst",
    );
    await executor.kill();
    const answers = await burst;
    expect(answers.map((a) => a.response.status)).toEqual(Array(BURST).fill(202));
    executor = labnet.startExecutor(host.hostNetns);
    await waitForOperations(labnet, answers.map(operationOf), 60_000);

    const names = answers.map((a) => a.data?.name ?? "");
    const rows = await labnet.db
      .select({ name: schema.nodes.name, state: schema.nodes.state })
      .from(schema.nodes)
      .where(inArray(schema.nodes.name, names));
    expect(rows.map((r) => r.name).sort()).toEqual([...names].sort());
    expect(new Set(rows.map((r) => r.state))).toEqual(new Set(["ready"]));
    await expectHostMatchesDatabase(labnet, host.hostNetns);
    const [first, last] = [answers[0]?.data, answers.at(-1)?.data];
    expect(
      await ping(netnsOf(first?.sandboxKey), last?.networkSettings.networks.burst?.ipAddress ?? ""),
    ).toBe(true);
  });
});

describe("a wiped lab host", () => {
  let web: Node;
  let peer: Node;
  let m1: Machine;
  let m2: Machine;
  let inner: Node;
  let outsidePeer: Promise<unknown> | undefined;

  it("is built: nodes, a published port, two machines on a LAN with a network and a node of their own", async () => {
    await created(await labnet.waitingClient.POST("/v1/networks", { body: { name: "wnet" } }));
    web = await created(
      await labnet.waitingClient.POST("/v1/nodes", {
        body: { name: "web", networkMode: "wnet", ports: ["8080:80"] },
      }),
    );
    peer = await created(
      await labnet.waitingClient.POST("/v1/nodes", { body: { name: "peer", networkMode: "wnet" } }),
    );
    m1 = await created(
      await labnet.waitingClient.POST("/v1/machines", {
        body: { name: "flh-m1", hostname: "m1", lan: "flh-lan", address: "10.0.0.11" },
      }),
    );
    m2 = await created(
      await labnet.waitingClient.POST("/v1/machines", {
        body: { name: "flh-m2", hostname: "m2", lan: "flh-lan", address: "10.0.0.12" },
      }),
    );
    await created(
      await labnet.waitingClient.POST("/v1/networks", { body: { name: "inner", host: m1.name } }),
    );
    inner = await created(
      await labnet.waitingClient.POST("/v1/nodes", {
        body: { name: "c1", host: m1.name, networkMode: "inner" },
      }),
    );
    await expectPackets();
  });

  it("is rebuilt by the executor at its start, machines included, and the operations queued meanwhile finish", async () => {
    await executor.stop();
    await host.wipe();
    expect(await listNetns(`${host.hostNetns}-`)).toEqual([]);
    expect(await listNetns(netnsOf(inner.sandboxKey))).toEqual([]);
    expect(await labnetLinks(host.hostNetns)).toEqual([]);
    expect(await labnetRules(host.hostNetns)).toEqual([]);

    // In flight while the host is down: a create, a removal, a machine's node.
    const k0 = (await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "k0" } } })).data;
    const later = await labnet.client.POST("/v1/nodes", { body: { name: "later", networkMode: "wnet" } });
    const gone = await labnet.client.DELETE("/v1/nodes/{nodeId}", { params: { path: { nodeId: "k0" } } });
    const inner2 = await labnet.client.POST("/v1/nodes", {
      body: { name: "c2", host: m1.name, networkMode: "inner" },
    });
    expect([later.response.status, gone.response.status, inner2.response.status]).toEqual([202, 202, 202]);
    const removal = gone.response.headers.get("operation-location")?.split("/").at(-1) ?? "";

    executor = labnet.startExecutor(host.hostNetns);
    await waitForOperations(labnet, [operationOf(later), removal, operationOf(inner2)], 90_000);
    await expectPackets();
    const laterNode = (
      await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "later" } } })
    ).data;
    expect(
      await ping(netnsOf(laterNode?.sandboxKey), web.networkSettings.networks.wnet?.ipAddress ?? ""),
    ).toBe(true);
    const c2 = (await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "c2" } } })).data;
    expect(await ping(netnsOf(c2?.sandboxKey), inner.networkSettings.networks.inner?.ipAddress ?? "")).toBe(
      true,
    );
    // Every node Postgres has, on the lab host or in a machine, has its sandbox again.
    const sandboxes = (await labnet.db.select({ netns: schema.nodes.netns }).from(schema.nodes)).flatMap(
      (n) => (n.netns ? [n.netns] : []),
    );
    const present = new Set([
      ...(await listNetns(`${host.hostNetns}-`)),
      ...(await listNetns(`${host.hostNetns}m`)),
    ]);
    expect(sandboxes.filter((n) => !present.has(n))).toEqual([]);
    expect(present.has(netnsOf(m1.netnsPath ?? undefined))).toBe(true);
    expect(present.has(netnsOf(k0?.sandboxKey))).toBe(false);
  });

  /** Nodes reach each other and the outside (MASQUERADE), the port answers, machines reach each other. */
  async function expectPackets(): Promise<void> {
    const webNetns = netnsOf(web.sandboxKey);
    const peerNetns = netnsOf(peer.sandboxKey);
    expect(await ping(peerNetns, web.networkSettings.networks.wnet?.ipAddress ?? "")).toBe(true);
    outsidePeer ??= startPeer(host.outsideNetns ?? "", { tcpPort: 7000, name: "flh-outside" });
    await outsidePeer;
    expect(
      (await callPeer(peerNetns, host.outsideAddress ?? "", { protocol: "tcp", port: 7000 }))?.address,
    ).toBe(host.uplinkAddress);
    await startPeer(webNetns, { tcpPort: 80, name: "flh-web" });
    expect(
      (await callPeer(host.outsideNetns ?? "", host.uplinkAddress ?? "", { protocol: "tcp", port: 8080 }))
        ?.address,
    ).toBe(host.outsideAddress);
    expect(await ping(netnsOf(m1.netnsPath ?? undefined), m2.lan?.address ?? "")).toBe(true);
    // The machine's node leaves through the machine (its own nat table) to the other machine.
    expect(await ping(netnsOf(inner.sandboxKey), m2.lan?.address ?? "")).toBe(true);
  }
});
