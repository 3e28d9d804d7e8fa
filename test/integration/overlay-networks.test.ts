/**
 * The overlay driver at the API (issue 8, deliverable 5): an overlay network belongs to the LAN
 * of the machine named (scope `lan:<LAN id>`), is listed on every machine of that LAN, and takes
 * its VNI from 256 up unless given; the problems of an unknown machine, a lab host on no LAN,
 * a subnet that overlaps another overlay of the LAN and a VNI taken, each changing nothing.
 * Attaching a node records its machine's docker_gwbridge and a converge of the other machines
 * with endpoints on the overlay. The app in process against a test database; no executor.
 */
import { type HostRow, schema } from "@labnet/db";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { expectProblemChangingNothing, type ProblemCase } from "../helpers/problems";
import { countRows, NETWORK_TABLES } from "../helpers/row-counts";
import { registerTestHost, TEST_HOST_CAPABILITIES } from "../helpers/test-host";

const VXLAN_HOST = {
  ...TEST_HOST_CAPABILITIES,
  linkTypes: ["bridge", "veth", "macvlan", "vxlan"],
  drivers: ["bridge", "macvlan", "overlay"],
  interfaces: ["eth0"],
};
const VXLANID = "com.docker.network.driver.overlay.vxlanid_list";

let labnet: TestLabnet;
let lab: HostRow;
const machines: Record<string, { id: string; name: string }> = {};

const rowCounts = () => countRows(labnet.db, NETWORK_TABLES);

async function createMachine(name: string, lan: string, address: string) {
  const res = await labnet.request("POST", "/v1/machines", { body: { name, host: lab.name, lan, address } });
  expect(res.status, await res.clone().text()).toBe(202);
  machines[name] = (await res.json()) as { id: string; name: string };
}

beforeAll(async () => {
  labnet = await startTestLabnet();
  lab = await registerTestHost(labnet.db, { name: "ovi-lab", netnsPrefix: "ovi-", capabilities: VXLAN_HOST });
  await createMachine("ovi-bdc01", "ovi-lan", "10.0.0.11");
  await createMachine("ovi-bdc02", "ovi-lan", "10.0.0.12");
  await createMachine("ovi-other", "ovi-lan2", "10.0.1.11");
});

afterAll(async () => {
  await labnet?.stop();
});

describe("an overlay network", () => {
  let network: {
    id: string;
    scope: string;
    hostId: string;
    lanId?: string;
    options: Record<string, unknown>;
  };

  it("is recorded in the LAN's scope, with VNI 256 and MTU 1450, and listed on every machine of the LAN", async () => {
    const res = await labnet.request("POST", "/v1/networks", {
      body: {
        name: "ov_net",
        driver: "overlay",
        host: "ovi-bdc01",
        ipam: { configs: [{ subnet: "172.16.0.0/24", gateway: "172.16.0.254" }] },
      },
    });
    expect(res.status, await res.clone().text()).toBe(202);
    network = (await res.json()) as typeof network;
    expect(network).toMatchObject({
      driver: "overlay",
      scope: "lan",
      hostId: "",
      options: { mtu: 1450, [VXLANID]: "256" },
    });
    const [row] = await labnet.db.select().from(schema.networks).where(eq(schema.networks.id, network.id));
    expect(row).toMatchObject({ hostId: null, scope: `lan:${network.lanId}`, vni: 256 });
    // Its operation is carried out by the machine that named it.
    const [op] = await labnet.db
      .select()
      .from(schema.operations)
      .where(eq(schema.operations.targetId, network.id));
    expect(op?.hostId).toBe(machines["ovi-bdc01"]?.id);

    const listed = async (host: string) => {
      const list = await labnet.request("GET", `/v1/networks?host=${host}`);
      return ((await list.json()) as { items: { name: string }[] }).items.map((n) => n.name);
    };
    expect(await listed("ovi-bdc01")).toContain("ov_net");
    expect(await listed("ovi-bdc02")).toContain("ov_net");
    expect(await listed("ovi-other")).not.toContain("ov_net");
  });

  it("takes the next free VNI, or the one given (seed 001's 257)", async () => {
    const given = await labnet.request("POST", "/v1/networks", {
      body: { name: "net_overlay", driver: "overlay", host: "ovi-bdc02", options: { [VXLANID]: "257" } },
    });
    expect(given.status, await given.clone().text()).toBe(202);
    expect(((await given.json()) as typeof network).options[VXLANID]).toBe("257");
    const next = await labnet.request("POST", "/v1/networks", {
      body: { name: "ov_third", driver: "overlay", host: "ovi-bdc02" },
    });
    expect(((await next.json()) as typeof network).options[VXLANID]).toBe("258");
    // Another LAN has VNIs of its own.
    const other = await labnet.request("POST", "/v1/networks", {
      body: {
        name: "ov_net",
        driver: "overlay",
        host: "ovi-other",
        ipam: { configs: [{ subnet: "172.16.0.0/24" }] },
      },
    });
    expect(other.status, await other.clone().text()).toBe(202);
    expect(((await other.json()) as typeof network).options[VXLANID]).toBe("256");
  });

  it("gives a node its machine's docker_gwbridge as eth1 and has the other machines converge", async () => {
    const c1 = await labnet.request("POST", "/v1/nodes", {
      body: { name: "c1", host: "ovi-bdc01", networkMode: "ov_net" },
    });
    expect(c1.status, await c1.clone().text()).toBe(202);
    const node1 = (await c1.json()) as {
      networkSettings: { networks: Record<string, { ipAddress: string; gateway: string }> };
    };
    expect(Object.keys(node1.networkSettings.networks).sort()).toEqual(["docker_gwbridge", "ov_net"]);
    expect(node1.networkSettings.networks.ov_net?.ipAddress).toBe("172.16.0.1");
    const [gwbridge] = await labnet.db
      .select()
      .from(schema.networks)
      .where(
        and(
          eq(schema.networks.hostId, machines["ovi-bdc01"]?.id ?? ""),
          eq(schema.networks.name, "docker_gwbridge"),
        ),
      );
    expect(gwbridge).toMatchObject({ driver: "bridge", isolated: true });

    const c2 = await labnet.request("POST", "/v1/nodes", {
      body: { name: "c2", host: "ovi-bdc02", networkMode: "ov_net" },
    });
    expect(c2.status).toBe(202);
    // bdc01 (c1's machine) converges the overlay for c2's arrival.
    const ensures = await labnet.db
      .select()
      .from(schema.operations)
      .where(
        and(
          eq(schema.operations.targetId, network.id),
          eq(schema.operations.hostId, machines["ovi-bdc01"]?.id ?? ""),
          eq(schema.operations.kind, "network.ensure"),
        ),
      );
    expect(ensures).toHaveLength(2); // its creation, and c2's arrival
  });

  it("connects a node later (its docker_gwbridge comes along) and disconnects it (and the gwbridge goes)", async () => {
    const created = await labnet.request("POST", "/v1/nodes", { body: { name: "c5", host: "ovi-bdc02" } });
    expect(created.status).toBe(202);
    const c5 = (await created.json()) as { id: string };
    type View = { networkSettings: { networks: Record<string, { ipAddress: string }> } };
    const endpointsOf = async () => {
      const rows = await labnet.db
        .select({ ifIndex: schema.endpoints.ifIndex, name: schema.networks.name })
        .from(schema.endpoints)
        .innerJoin(schema.networks, eq(schema.networks.id, schema.endpoints.networkId))
        .where(eq(schema.endpoints.nodeId, c5.id));
      return rows.sort((a, b) => a.ifIndex - b.ifIndex).map((r) => `eth${r.ifIndex} ${r.name}`);
    };
    const connected = await labnet.request("POST", `/v1/networks/${network.id}/connect`, {
      body: { node: c5.id },
    });
    expect(connected.status, await connected.clone().text()).toBe(202);
    expect(Object.keys(((await connected.json()) as View).networkSettings.networks).sort()).toEqual([
      "bridge",
      "docker_gwbridge",
      "ov_net",
    ]);
    expect(await endpointsOf()).toEqual(["eth0 bridge", "eth1 ov_net", "eth2 docker_gwbridge"]);
    const disconnected = await labnet.request("POST", `/v1/networks/${network.id}/disconnect`, {
      body: { node: c5.id },
    });
    expect(disconnected.status, await disconnected.clone().text()).toBe(202);
    expect(await endpointsOf()).toEqual(["eth0 bridge"]);
  });

  it("is removed through the machine that created it", async () => {
    const res = await labnet.request("DELETE", "/v1/networks/ov_third");
    expect(res.status, await res.clone().text()).toBe(202);
    const [row] = await labnet.db.select().from(schema.networks).where(eq(schema.networks.name, "ov_third"));
    expect(row?.state).toBe("deleting");
    const [op] = await labnet.db
      .select()
      .from(schema.operations)
      .where(
        and(eq(schema.operations.targetId, row?.id ?? ""), eq(schema.operations.kind, "network.remove")),
      );
    expect(op?.hostId).toBe(machines["ovi-bdc02"]?.id);
  });

  const cases: (ProblemCase & { name: string })[] = [
    {
      name: "an unknown machine",
      method: "POST",
      path: "/v1/networks",
      body: { name: "ov_x", driver: "overlay", host: "ovi-nowhere" },
      status: 404,
      code: "NOT_FOUND",
      location: "body.host",
    },
    {
      name: "a lab host, on no LAN",
      method: "POST",
      path: "/v1/networks",
      body: { name: "ov_x", driver: "overlay", host: "ovi-lab" },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.host",
    },
    {
      name: "a subnet overlapping another overlay of the LAN (named from the other machine)",
      method: "POST",
      path: "/v1/networks",
      body: {
        name: "ov_x",
        driver: "overlay",
        host: "ovi-bdc02",
        ipam: { configs: [{ subnet: "172.16.0.0/16" }] },
      },
      status: 409,
      code: "SUBNET_OVERLAP",
      location: "body.ipam.configs[0].subnet",
    },
    {
      name: "a name taken on the LAN",
      method: "POST",
      path: "/v1/networks",
      body: { name: "ov_net", driver: "overlay", host: "ovi-bdc02" },
      status: 409,
      code: "NAME_CONFLICT",
      location: "body.name",
    },
    {
      name: "a VNI taken on the LAN",
      method: "POST",
      path: "/v1/networks",
      body: { name: "ov_x", driver: "overlay", host: "ovi-bdc01", options: { [VXLANID]: "257" } },
      status: 409,
      code: "CONFLICT",
      location: `body.options.${VXLANID}`,
    },
    {
      name: "a VNI on a bridge network",
      method: "POST",
      path: "/v1/networks",
      body: { name: "br_x", host: "ovi-bdc01", options: { [VXLANID]: "300" } },
      status: 422,
      code: "INVALID_FIELD",
      location: `body.options.${VXLANID}`,
    },
    {
      name: "a change of an overlay's options",
      method: "PATCH",
      path: "/v1/networks/net_overlay",
      body: { options: { isolated: false } },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.options",
    },
    {
      name: "a node of another LAN's machine on the overlay",
      method: "POST",
      path: "/v1/nodes",
      body: { name: "c9", host: "ovi-other", networks: [{ network: "net_overlay" }] },
      status: 404,
      code: "NOT_FOUND",
      location: "body.networks[0].network",
    },
  ];
  it.each(cases)("refuses $name, changing nothing", async (problem) => {
    await expectProblemChangingNothing(labnet, rowCounts, problem);
  });
});
