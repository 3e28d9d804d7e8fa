/**
 * The macvlan driver at the API (issue 8, deliverable 4): `docker network create -d macvlan
 * --subnet=100.0.0.0/24 --gateway=100.0.0.254 -o parent=eth0 macvlan_1` as seed 002 types it,
 * the problems of a parent the host does not have, of a mode that is not one, of macvlan
 * options on a bridge and of a host without macvlan, each changing nothing; addresses and MACs
 * as for bridge networks. The app in process against a test database; no executor.
 */
import type { HostRow } from "@labnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { expectProblemChangingNothing, type ProblemCase } from "../helpers/problems";
import { countRows, NETWORK_TABLES } from "../helpers/row-counts";
import { registerTestHost, TEST_HOST_CAPABILITIES } from "../helpers/test-host";

const MACVLAN_HOST = {
  ...TEST_HOST_CAPABILITIES,
  linkTypes: ["bridge", "veth", "macvlan"],
  drivers: ["bridge", "macvlan"],
  interfaces: ["eth0", "eth1"],
};

let labnet: TestLabnet;
/** Reports macvlan and its interfaces (eth0, eth1), as a current executor does. */
let bdc01: HostRow;
/** Reports macvlan but no interface list (an older executor): any valid name goes. */
let older: HostRow;

const rowCounts = () => countRows(labnet.db, NETWORK_TABLES);

/** Seed 002's `docker network create`, on `host`, with `options` on top of `-o parent=eth0`. */
function seedNetwork(host: string, options: Record<string, unknown> = {}, name = "macvlan_1") {
  return {
    name,
    host,
    driver: "macvlan",
    ipam: { configs: [{ subnet: "100.0.0.0/24", gateway: "100.0.0.254" }] },
    options: { parent: "eth0", ...options },
  };
}

beforeAll(async () => {
  labnet = await startTestLabnet();
  bdc01 = await registerTestHost(labnet.db, {
    name: "bdc01",
    netnsPrefix: "mv1-",
    capabilities: MACVLAN_HOST,
  });
  older = await registerTestHost(labnet.db, {
    name: "mv-older",
    netnsPrefix: "mv2-",
    capabilities: {
      ...TEST_HOST_CAPABILITIES,
      linkTypes: MACVLAN_HOST.linkTypes,
      drivers: MACVLAN_HOST.drivers,
    },
  });
  // Has no macvlan at all.
  await registerTestHost(labnet.db, { name: "mv-plain", netnsPrefix: "mv3-" });
});

afterAll(async () => {
  await labnet?.stop();
});

describe("a macvlan network", () => {
  let networkId = "";

  it("is created as seed 002 types it and shown as docker network inspect shows it", async () => {
    const res = await labnet.request("POST", "/v1/networks", { body: seedNetwork(bdc01.name) });
    expect(res.status).toBe(202);
    const network = (await res.json()) as { id: string };
    networkId = network.id;
    expect(network).toMatchObject({
      name: "macvlan_1",
      driver: "macvlan",
      hostId: bdc01.id,
      ipam: { configs: [{ subnet: "100.0.0.0/24", gateway: "100.0.0.254" }] },
      options: { parent: "eth0", macvlan_mode: "bridge", mtu: 1500 },
    });
    // No bridge is built for it, so none is shown.
    expect(network).not.toHaveProperty("options.bridgeName");
    const listed = await labnet.client.GET("/v1/networks", { params: { query: { driver: "macvlan" } } });
    expect(listed.data?.items.map((n) => n.id)).toEqual([networkId]);
  });

  it("takes the same subnet on another host (each host its own scope), in any mode", async () => {
    const res = await labnet.request("POST", "/v1/networks", {
      body: seedNetwork(older.name, { parent: "ens18", macvlan_mode: "vepa" }),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ options: { parent: "ens18", macvlan_mode: "vepa" } });
  });

  it("gives nodes static and allocated addresses from its subnet, with Docker's MACs", async () => {
    const staticNode = await labnet.client.POST("/v1/nodes", {
      body: {
        name: "mv-static",
        host: bdc01.name,
        networks: [{ network: networkId, ipv4Address: "100.0.0.1" }],
      },
    });
    expect(staticNode.response.status).toBe(202);
    expect(staticNode.data?.networkSettings.networks.macvlan_1).toMatchObject({
      ipAddress: "100.0.0.1",
      ipPrefixLen: 24,
      gateway: "100.0.0.254",
      macAddress: "02:42:64:00:00:01",
    });
    const allocated = await labnet.client.POST("/v1/nodes", {
      body: { name: "mv-allocated", host: bdc01.name, networks: [{ network: networkId }] },
    });
    expect(allocated.response.status).toBe(202);
    const settings = allocated.data?.networkSettings.networks.macvlan_1;
    expect(settings?.ipAddress).toBe("100.0.0.2");
    expect(settings?.macAddress).toBe("02:42:64:00:00:02");
    // The gateway (on no interface of the host) is never handed out.
    const inspect = await labnet.client.GET("/v1/networks/{networkId}", {
      params: { path: { networkId } },
    });
    expect(Object.values(inspect.data?.containers ?? {}).map((c) => c.ipv4Address)).toEqual([
      "100.0.0.1/24",
      "100.0.0.2/24",
    ]);
  });

  it("refuses an address of the gateway or outside the subnet", async () => {
    for (const ipv4Address of ["100.0.0.254", "100.0.1.1"]) {
      const res = await labnet.request("POST", "/v1/nodes", {
        body: { name: "mv-bad", host: bdc01.name, networks: [{ network: networkId, ipv4Address }] },
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });
});

describe("creating a macvlan network refuses, changing nothing,", () => {
  const cases: (ProblemCase & { name: string })[] = [
    {
      name: "a parent the host does not have",
      method: "POST",
      path: "/v1/networks",
      body: seedNetwork("bdc01", { parent: "eth9" }, "mv-eth9"),
      status: 422,
      code: "INVALID_FIELD",
      location: "body.options.parent",
    },
    {
      name: "a parent that is not an interface name (host without a list)",
      method: "POST",
      path: "/v1/networks",
      body: seedNetwork("mv-older", { parent: "eth0;reboot" }, "mv-badname"),
      status: 422,
      code: "INVALID_FIELD",
      location: "body.options.parent",
    },
    {
      name: "a mode that is not a macvlan mode",
      method: "POST",
      path: "/v1/networks",
      body: seedNetwork("bdc01", { macvlan_mode: "l2" }, "mv-l2"),
      status: 422,
      code: "INVALID_FIELD",
      location: "body.options.macvlan_mode",
    },
    {
      name: "macvlan options on a bridge network",
      method: "POST",
      path: "/v1/networks",
      body: { name: "br-parent", host: "bdc01", options: { parent: "eth0" } },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.options.parent",
    },
    {
      name: "macvlan on a host that does not support it",
      method: "POST",
      path: "/v1/networks",
      body: seedNetwork("mv-plain", {}, "mv-plain"),
      status: 422,
      code: "UNSUPPORTED_DRIVER",
      location: "body.driver",
    },
    {
      name: "a driver Labnet does not know",
      method: "POST",
      path: "/v1/networks",
      body: { ...seedNetwork("bdc01", {}, "mv-ipvlan"), driver: "ipvlan" },
      status: 400,
      location: "body.driver",
    },
  ];
  it.each(cases)("$name", async (problem) => {
    await expectProblemChangingNothing(labnet, rowCounts, problem);
  });

  it("names the host's interfaces in the problem of a missing parent", async () => {
    const res = await labnet.request("POST", "/v1/networks", {
      body: seedNetwork("bdc01", { parent: "eth9" }),
    });
    const problem = (await res.json()) as { detail: string };
    expect(problem.detail).toBe("host bdc01 has no interface eth9 (it has eth0, eth1)");
  });
});
