/**
 * Issue 13 item 4 on a real lab host (sim host 85: `uplink0` 198.18.85.1/24, its outside router
 * at 198.18.85.2): the executor reports the uplink's address, the API refuses a network on the
 * uplink's subnet and on reserved space, and a row that says so anyway (written around the API)
 * is failed by the executor instead of built: the host keeps its address and reaches its router.
 */
import { insertOperation, schema } from "@labnet/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, ping, type SimHost } from "../helpers/netns";
import { expectProblemChangingNothing } from "../helpers/problems";
import { countRows } from "../helpers/row-counts";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

let labnet: TestLabnet;
let host: SimHost;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("hsub", 85));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

const rowCounts = () =>
  countRows(labnet.db, {
    networks: schema.networks,
    ipamConfigs: schema.ipamConfigs,
    operations: schema.operations,
  });

/** IPv4 addresses per link of the sim host, as `ip -j addr` shows them. */
async function hostAddresses(): Promise<Record<string, string[]>> {
  const res = await execIn(host.hostNetns, ["ip", "-j", "addr", "show"]);
  expect(res.code).toBe(0);
  const links = JSON.parse(res.stdout) as {
    ifname: string;
    addr_info: { family: string; local: string; prefixlen: number }[];
  }[];
  return Object.fromEntries(
    links.map((l) => [
      l.ifname,
      l.addr_info.filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`),
    ]),
  );
}

describe("the lab host's own subnets", () => {
  it("are reported by its executor", async () => {
    const [row] = await labnet.db.select().from(schema.hosts).where(eq(schema.hosts.name, host.hostNetns));
    expect(row?.capabilities.addresses).toContainEqual({ interface: "uplink0", address: "198.18.85.1/24" });
  });

  it.each([
    ["the uplink's subnet", "198.18.85.0/24"],
    ["a block around it", "198.18.0.0/16"],
    ["loopback", "127.0.0.0/8"],
    ["multicast", "224.0.0.0/4"],
    ["the broadcast block", "255.255.255.0/24"],
  ])("%s (%s) is refused at the API and reaches no kernel", async (_what, subnet) => {
    await expectProblemChangingNothing(labnet, rowCounts, {
      method: "POST",
      path: "/v1/networks",
      body: { name: "hsub-bad", host: host.hostNetns, ipam: { configs: [{ subnet }] } },
      status: 422,
      code: "INVALID_FIELD",
      location: "body.ipam.configs[0].subnet",
    });
  });

  it("are never given to a bridge, even when a row says so", async () => {
    const res = await labnet.request("POST", "/v1/networks", {
      body: { name: "hsub-net", host: host.hostNetns, ipam: { configs: [{ subnet: "198.19.85.0/24" }] } },
      headers: { prefer: "wait=30" },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const network = (await res.json()) as { id: string; hostId: string };
    // Around the API (a bug, an old row, a hand in the database): the uplink's subnet and address.
    await labnet.db.transaction(async (tx) => {
      await tx.delete(schema.allocations).where(eq(schema.allocations.networkId, network.id));
      const [config] = await tx
        .update(schema.ipamConfigs)
        .set({ subnet: "198.18.85.0/24", gateway: "198.18.85.1" })
        .where(eq(schema.ipamConfigs.networkId, network.id))
        .returning();
      expect(config).toBeDefined();
      await tx.insert(schema.allocations).values({
        networkId: network.id,
        ipamConfigId: config?.id ?? "",
        address: "198.18.85.1",
        kind: "gateway",
      });
    });
    const operation = await insertOperation(labnet.db, {
      kind: "network.ensure",
      hostId: network.hostId,
      targetType: "network",
      targetId: network.id,
    });
    const failed = await eventually(
      async () => {
        const [op] = await labnet.db
          .select()
          .from(schema.operations)
          .where(eq(schema.operations.id, operation.id));
        return op?.state === "failed" ? op : undefined;
      },
      60_000,
      "the executor to fail the network",
    );
    expect(JSON.stringify(failed.error)).toMatch(
      /overlaps 198\.18\.85\.0\/24 of the host's own address 198\.18\.85\.1\/24/,
    );
    const addresses = await hostAddresses();
    const holders = Object.entries(addresses).filter(([, list]) =>
      list.some((a) => a.startsWith("198.18.85.1/")),
    );
    expect(holders.map(([name]) => name)).toEqual(["uplink0"]);
    expect(await ping(host.hostNetns, "198.18.85.2")).toBe(true);
  });
});
