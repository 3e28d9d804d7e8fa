/**
 * Subnets a bridge must never get (issue 13 item 4): reserved address space, the lab host's own
 * uplink subnet (as its executor reports it) and a virtual machine's LAN answer 422 naming the
 * subnet and change nothing; pool picks go around the host's own subnets; a macvlan may share its
 * parent's. The app in process against a test database; no executor.
 */
import { schema } from "@labnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { expectProblemChangingNothing } from "../helpers/problems";
import { countRows } from "../helpers/row-counts";
import { registerTestHost, TEST_HOST_CAPABILITIES } from "../helpers/test-host";

let labnet: TestLabnet;
const HOST = "hs-lab";

const rowCounts = () =>
  countRows(labnet.db, {
    hosts: schema.hosts,
    networks: schema.networks,
    ipamConfigs: schema.ipamConfigs,
    allocations: schema.allocations,
    nodes: schema.nodes,
    operations: schema.operations,
  });

beforeAll(async () => {
  labnet = await startTestLabnet();
  await registerTestHost(labnet.db, {
    name: HOST,
    netnsPrefix: "hs-",
    capabilities: {
      ...TEST_HOST_CAPABILITIES,
      linkTypes: [...TEST_HOST_CAPABILITIES.linkTypes, "macvlan"],
      drivers: [...TEST_HOST_CAPABILITIES.drivers, "macvlan"],
      interfaces: ["docker0", "uplink0"],
      // What an executor in sim host 85 reports, and a Docker daemon's docker0 beside it.
      addresses: [
        { interface: "docker0", address: "172.18.0.1/16" },
        { interface: "uplink0", address: "198.18.85.1/24" },
      ],
    },
  });
});

afterAll(async () => {
  await labnet?.stop();
});

function network(name: string, subnet: string, extra: Record<string, unknown> = {}) {
  return { name, host: HOST, ipam: { configs: [{ subnet }] }, ...extra };
}

describe("a network's subnet", () => {
  it.each([
    ["loopback", "127.0.0.0/8", /it is loopback \(127\.0\.0\.0\/8\)/],
    ["multicast", "224.0.0.0/4", /it is multicast \(224\.0\.0\.0\/4\)/],
    ['"this network"', "0.0.0.0/8", /it is "this network"/],
    ["the broadcast block", "255.255.255.0/24", /reserved, with the broadcast address 255\.255\.255\.255/],
    ["link-local", "169.254.7.0/24", /link-local/],
    ["everything", "0.0.0.0/0", /it overlaps "this network"/],
    [
      "the host's uplink subnet",
      "198.18.85.0/24",
      /overlaps 198\.18\.85\.0\/24 of lab host hs-lab's interface uplink0 \(198\.18\.85\.1\/24\)/,
    ],
    ["a part of the uplink subnet", "198.18.85.128/25", /interface uplink0/],
    ["a block around the uplink subnet", "198.18.0.0/16", /interface uplink0/],
    ["Docker's docker0 beside Labnet", "172.18.0.0/24", /interface docker0 \(172\.18\.0\.1\/16\)/],
  ])("%s (%s) is a 422 naming it, and nothing is recorded", async (_what, subnet, message) => {
    await expectProblemChangingNothing(labnet, rowCounts, {
      method: "POST",
      path: "/v1/networks",
      body: network("hs-bad", subnet),
      status: 422,
      code: "INVALID_FIELD",
      location: "body.ipam.configs[0].subnet",
    });
    const res = await labnet.request("POST", "/v1/networks", { body: network("hs-bad", subnet) });
    const problem = (await res.json()) as { errors: { message: string }[] };
    expect(problem.errors[0]?.message).toMatch(message);
  });

  it("from the pools goes around the host's own subnets", async () => {
    const res = await labnet.request("POST", "/v1/networks", { body: { name: "hs-pool", host: HOST } });
    expect(res.status, await res.clone().text()).toBe(202);
    const body = (await res.json()) as { ipam: { configs: { subnet: string }[] } };
    // 172.17.0.0/16 is the host's bridge; 172.18.0.0/16 is docker0's.
    expect(body.ipam.configs[0]?.subnet).toBe("172.19.0.0/16");
  });

  it("of a macvlan network may be its parent's segment", async () => {
    const res = await labnet.request("POST", "/v1/networks", {
      body: network("hs-macvlan", "198.18.85.0/24", { driver: "macvlan", options: { parent: "uplink0" } }),
    });
    expect(res.status, await res.clone().text()).toBe(202);
  });

  it("of a macvlan network is never reserved space", async () => {
    await expectProblemChangingNothing(labnet, rowCounts, {
      method: "POST",
      path: "/v1/networks",
      body: network("hs-macvlan2", "127.0.0.0/8", { driver: "macvlan", options: { parent: "uplink0" } }),
      status: 422,
      code: "INVALID_FIELD",
      location: "body.ipam.configs[0].subnet",
    });
  });

  it("on a virtual machine must not overlap the machine's LAN", async () => {
    const res = await labnet.request("POST", "/v1/machines", {
      body: { name: "hs-bdc01", host: HOST, lan: "hs-lan", address: "10.0.0.11" },
    });
    expect(res.status, await res.clone().text()).toBe(202);
    await expectProblemChangingNothing(labnet, rowCounts, {
      method: "POST",
      path: "/v1/networks",
      body: { name: "hs-inner", host: "hs-bdc01", ipam: { configs: [{ subnet: "10.0.0.0/25" }] } },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.ipam.configs[0].subnet",
    });
    const again = await labnet.request("POST", "/v1/networks", {
      body: { name: "hs-inner", host: "hs-bdc01", ipam: { configs: [{ subnet: "10.0.0.0/25" }] } },
    });
    expect(((await again.json()) as { detail: string }).detail).toBe(
      "subnet 10.0.0.0/25 overlaps 10.0.0.0/24 of machine hs-bdc01's LAN hs-lan (eth0): its own traffic would go to the bridge",
    );
  });
});
