/**
 * A converge's snapshot (`loadHostSnapshot`, one prepared statement of JSON documents) holds
 * exactly the rows drizzle selects of each table, in the shapes it selects them: checked here
 * against plain drizzle queries, for a lab host with ports, a node being removed and open and
 * finished operations, and for machines on a LAN with an overlay network between them. The
 * app in process against a test database; no executor.
 */
import {
  type HostRow,
  type HostSnapshot,
  loadHostSnapshot,
  loadHostSnapshotIfOpen,
  schema,
} from "@labnet/db";
import { and, asc, eq, inArray, ne, or, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { registerTestHost, TEST_HOST_CAPABILITIES } from "../helpers/test-host";

const VXLAN_HOST = {
  ...TEST_HOST_CAPABILITIES,
  linkTypes: ["bridge", "veth", "macvlan", "vxlan"],
  drivers: ["bridge", "macvlan", "overlay"],
  interfaces: ["eth0"],
};

let labnet: TestLabnet;
let lab: HostRow;
const machineIds: Record<string, string> = {};

async function post(path: string, body: unknown): Promise<{ id: string }> {
  const res = await labnet.request("POST", path, { body });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as { id: string };
}

beforeAll(async () => {
  labnet = await startTestLabnet();
  lab = await registerTestHost(labnet.db, { name: "hs-lab", netnsPrefix: "hss-", capabilities: VXLAN_HOST });
  await post("/v1/networks", { name: "hs-web", host: lab.name, labels: { tier: "web" } });
  for (const name of ["hs-a", "hs-b", "hs-c"]) {
    await post("/v1/nodes", { name, networkMode: "hs-web", ports: ["80", "127.0.0.1::53/udp"] });
  }
  const gone = await labnet.request("DELETE", "/v1/nodes/hs-b");
  expect(gone.status).toBe(202);
  for (const [name, address] of [
    ["hs-m1", "10.0.0.11"],
    ["hs-m2", "10.0.0.12"],
  ] as const) {
    machineIds[name] = (await post("/v1/machines", { name, host: lab.name, lan: "hs-lan", address })).id;
  }
  await post("/v1/networks", {
    name: "hs-ov",
    driver: "overlay",
    host: "hs-m1",
    ipam: { configs: [{ subnet: "172.16.0.0/24", gateway: "172.16.0.254" }] },
  });
  await post("/v1/nodes", { name: "hs-n1", host: "hs-m1", networkMode: "hs-ov" });
  await post("/v1/nodes", { name: "hs-n2", host: "hs-m2", networkMode: "hs-ov" });
  // A finished operation is no longer open: the snapshot leaves it out.
  await labnet.db
    .update(schema.operations)
    .set({ state: "succeeded", finishedAt: new Date() })
    .where(eq(schema.operations.targetId, (await nodeId("hs-a")) ?? ""));
});

afterAll(async () => {
  await labnet?.stop();
});

async function nodeId(name: string): Promise<string | undefined> {
  const [row] = await labnet.db.select().from(schema.nodes).where(eq(schema.nodes.name, name));
  return row?.id;
}

/** The snapshot as drizzle would read it, table by table. */
async function drizzleSnapshot(hostId: string) {
  const { db } = labnet;
  const { networks, nodes, endpoints, ipamConfigs, portMappings, operations } = schema;
  const lanScope = sql`(SELECT 'lan:' || ue.network_id FROM hosts uh JOIN endpoints ue ON ue.node_id = uh.uplink_node_id
    WHERE uh.id = ${hostId} ORDER BY ue.if_index LIMIT 1)`;
  const ownNetworks = db.select({ id: networks.id }).from(networks).where(eq(networks.hostId, hostId));
  const lanNetworks = db.select({ id: networks.id }).from(networks).where(eq(networks.scope, lanScope));
  const configsOf = (ids: typeof ownNetworks) =>
    db
      .select()
      .from(ipamConfigs)
      .where(inArray(ipamConfigs.networkId, ids))
      .orderBy(ipamConfigs.networkId, ipamConfigs.position);
  const endpointRows = await db
    .select({ endpoint: endpoints, network: networks })
    .from(endpoints)
    .innerJoin(networks, eq(networks.id, endpoints.networkId))
    .where(inArray(endpoints.nodeId, db.select({ id: nodes.id }).from(nodes).where(eq(nodes.hostId, hostId))))
    .orderBy(endpoints.nodeId, endpoints.ifIndex);
  const configs = await db.select().from(ipamConfigs);
  return {
    operations: await db
      .select()
      .from(operations)
      .where(and(eq(operations.hostId, hostId), inArray(operations.state, ["queued", "running"])))
      .orderBy(operations.createdAt),
    networks: await db
      .select()
      .from(networks)
      .where(or(eq(networks.hostId, hostId), eq(networks.scope, lanScope)))
      .orderBy(sql`${networks.hostId} IS NULL`, asc(networks.createdAt)),
    ipamConfigs: [...(await configsOf(ownNetworks)), ...(await configsOf(lanNetworks))],
    nodes: await db.select().from(nodes).where(eq(nodes.hostId, hostId)).orderBy(nodes.createdAt),
    endpoints: endpointRows.map(({ endpoint, network }) => ({
      ...endpoint,
      networkName: network.name,
      bridgeName: network.bridgeName,
      mtu: network.mtu,
      internal: network.internal,
      gateway:
        configs
          .filter((c) => c.networkId === endpoint.networkId && c.gateway !== null)
          .find((c) => sameSubnet(c.subnet, endpoint.address))
          ?.gateway?.split("/")[0] ?? null,
    })),
    portMappings: (
      await db
        .select({ mapping: portMappings })
        .from(portMappings)
        .innerJoin(nodes, eq(nodes.id, portMappings.nodeId))
        .where(and(eq(portMappings.hostId, hostId), ne(nodes.state, "deleting")))
        .orderBy(asc(portMappings.createdAt), asc(portMappings.id))
    ).map((r) => r.mapping),
  };
}

/** The test's subnets are /16 and /24: enough to tell which config holds an address. */
function sameSubnet(subnet: string, address: string | null): boolean {
  const [base = "", bits = "32"] = subnet.split("/");
  const octets = Number(bits) / 8;
  return (
    address !== null &&
    base.split(".").slice(0, octets).join(".") === address.split(".").slice(0, octets).join(".")
  );
}

describe("a converge's snapshot", () => {
  it("of a lab host is what drizzle reads of each table: open operations, every node, live ports", async () => {
    const snapshot = await loadHostSnapshot(labnet.db, lab.id);
    const { overlayPeers, ...rest } = snapshot;
    expect(rest).toEqual(await drizzleSnapshot(lab.id));
    expect(overlayPeers).toEqual([]);
    // What the comparison covers: the removed node's ports are left out, it is not; its
    // operation is open, the finished one is not; timestamps are Dates.
    expect(snapshot.nodes.map((n) => [n.name, n.state])).toContainEqual(["hs-b", "deleting"]);
    expect(snapshot.portMappings.map((m) => m.nodeId)).not.toContain(await nodeId("hs-b"));
    expect(snapshot.portMappings.length).toBeGreaterThanOrEqual(4);
    expect(snapshot.operations.map((o) => o.targetId)).not.toContain(await nodeId("hs-a"));
    expect(snapshot.operations.map((o) => o.kind)).toContain("node.remove");
    expect(snapshot.nodes[0]?.createdAt).toBeInstanceOf(Date);
    expect(snapshot.endpoints.every((e) => e.gateway !== null)).toBe(true);
  });

  it("of a machine adds its LAN's overlay, with the other machines' endpoints as peers", async () => {
    const m1 = machineIds["hs-m1"] ?? "";
    const snapshot = await loadHostSnapshot(labnet.db, m1);
    const { overlayPeers, ...rest } = snapshot;
    expect(rest).toEqual(await drizzleSnapshot(m1));
    expect(snapshot.networks.map((n) => n.name)).toContain("hs-ov");
    expect(snapshot.ipamConfigs.map((c) => c.subnet)).toContain("172.16.0.0/24");
    const [n2endpoint] = await labnet.db
      .select()
      .from(schema.endpoints)
      .where(eq(schema.endpoints.nodeId, (await nodeId("hs-n2")) ?? ""));
    expect(overlayPeers).toEqual([
      expect.objectContaining({
        hostId: machineIds["hs-m2"],
        endpointId: n2endpoint?.id,
        mac: n2endpoint?.mac?.toLowerCase(),
        address: n2endpoint?.address?.split("/")[0],
        vtep: "10.0.0.12",
      }),
    ]);
  });

  it("if open: the same snapshot while a host has open operations, nothing once it has none", async () => {
    const host = await registerTestHost(labnet.db, { name: "hs-quiet", netnsPrefix: "hsq-" });
    // Its default bridge's operation is open.
    const open = await loadHostSnapshotIfOpen(labnet.db, host.id);
    expect(open?.operations.length).toBeGreaterThan(0);
    // The test stack's dispatcher may mark the operation dispatched between the two reads:
    // that column is its own, and no converge reads it.
    const undispatched = (snapshot: HostSnapshot | undefined) =>
      snapshot && {
        ...snapshot,
        operations: snapshot.operations.map((op) => ({ ...op, dispatchedAt: null })),
      };
    expect(undispatched(open)).toEqual(undispatched(await loadHostSnapshot(labnet.db, host.id)));
    await labnet.db
      .update(schema.operations)
      .set({ state: "succeeded", finishedAt: new Date() })
      .where(eq(schema.operations.hostId, host.id));
    expect(await loadHostSnapshotIfOpen(labnet.db, host.id)).toBeUndefined();
    // The whole snapshot is still there for a converge of everything.
    expect((await loadHostSnapshot(labnet.db, host.id)).networks.length).toBeGreaterThan(0);
  });
});
