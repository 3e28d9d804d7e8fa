/**
 * A Linux bridge takes at most 1,023 ports, so a bridge network holds at most 1,023
 * endpoints: the API refuses the 1,024th with a 409 NETWORK_FULL naming the field, and the
 * database refuses it too (the count kept at commit, checked by networks_bridge_ports_chk),
 * so concurrent requests and raw SQL cannot go past it. The app in process against a test
 * database; no executor.
 */
import { constraintViolation, type HostRow, schema } from "@labnet/db";
import { eq, like, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { expectProblemChangingNothing, readProblem } from "../helpers/problems";
import { countRows } from "../helpers/row-counts";
import { registerTestHost } from "../helpers/test-host";

const { MAX_BRIDGE_PORTS } = schema;

let labnet: TestLabnet;
let host: HostRow;
let fullId: string;

const rowCounts = () =>
  countRows(labnet.db, {
    nodes: schema.nodes,
    endpoints: schema.endpoints,
    allocations: schema.allocations,
    operations: schema.operations,
  });

async function endpointCount(networkId: string): Promise<number | undefined> {
  const [row] = await labnet.db
    .select({ n: schema.networks.endpointCount })
    .from(schema.networks)
    .where(eq(schema.networks.id, networkId));
  return row?.n;
}

/** `count` nodes on the network straight in SQL (the API would take a while): `fill1` ... */
async function fillNetwork(networkId: string, count: number): Promise<void> {
  await labnet.db.transaction(async (tx) => {
    await tx.execute(sql`
      INSERT INTO nodes (id, name, host_id, network_mode, netns)
      SELECT 'nod_fill' || g, 'fill' || g, ${host.id}, 'full', 'ln-fill' || g FROM generate_series(1, ${count}) g`);
    await tx.execute(sql`
      INSERT INTO endpoints (id, node_id, network_id, if_index, host_veth, address, mac)
      SELECT 'ep_fill' || g, 'nod_fill' || g, ${networkId}, 0, 'lnvfill' || g,
        set_masklen('10.77.0.1'::inet + g, 16), '02:42:00:00:00:00'::macaddr
      FROM generate_series(1, ${count}) g`);
    await tx.execute(sql`
      INSERT INTO allocations (network_id, address, ipam_config_id, kind, endpoint_id)
      SELECT ${networkId}, '10.77.0.1'::inet + g, c.id, 'endpoint', 'ep_fill' || g
      FROM generate_series(1, ${count}) g, ipam_configs c WHERE c.network_id = ${networkId}`);
  });
}

/** Removes filler nodes `fill<from>` to `fill<to>` (their endpoints go with them). */
async function removeFillers(from: number, to: number): Promise<void> {
  await labnet.db.execute(
    sql`DELETE FROM nodes WHERE id IN (SELECT 'nod_fill' || g FROM generate_series(${from}::int, ${to}::int) g)`,
  );
}

beforeAll(async () => {
  labnet = await startTestLabnet();
  host = await registerTestHost(labnet.db, { name: "bp-host", netnsPrefix: "bp-" });
  const res = await labnet.request("POST", "/v1/networks", {
    body: { name: "full", host: host.name, ipam: { configs: [{ subnet: "10.77.0.0/16" }] } },
  });
  expect(res.status).toBe(202);
  fullId = ((await res.json()) as { id: string }).id;
  await fillNetwork(fullId, MAX_BRIDGE_PORTS - 1);
});

afterAll(async () => {
  await labnet?.stop();
});

describe("a bridge network's endpoints", () => {
  it("are counted when their transaction commits", async () => {
    expect(await endpointCount(fullId)).toBe(MAX_BRIDGE_PORTS - 1);
  });

  it("take the 1,023rd node and refuse the 1,024th with NETWORK_FULL naming body.networkMode", async () => {
    const last = await labnet.request("POST", "/v1/nodes", { body: { name: "n1023", networkMode: "full" } });
    expect(last.status).toBe(202);
    expect(await endpointCount(fullId)).toBe(MAX_BRIDGE_PORTS);
    await expectProblemChangingNothing(labnet, rowCounts, {
      method: "POST",
      path: "/v1/nodes",
      body: { name: "n1024", networkMode: "full" },
      status: 409,
      code: "NETWORK_FULL",
      location: "body.networkMode",
    });
  });

  it("refuse a node whose second network is the full one, naming body.networks[1].network", async () => {
    await expectProblemChangingNothing(labnet, rowCounts, {
      method: "POST",
      path: "/v1/nodes",
      body: { name: "two", networks: [{ network: "bridge" }, { network: "full" }] },
      status: 409,
      code: "NETWORK_FULL",
      location: "body.networks[1].network",
    });
  });

  it("refuse connecting one more node, naming path.networkId", async () => {
    const res = await labnet.request("POST", "/v1/nodes", {
      body: { name: "outside", networkMode: "bridge" },
    });
    expect(res.status).toBe(202);
    await expectProblemChangingNothing(labnet, rowCounts, {
      method: "POST",
      path: "/v1/networks/full/connect",
      body: { node: "outside" },
      status: 409,
      code: "NETWORK_FULL",
      location: "path.networkId",
    });
  });

  it("cannot be pushed past the limit by raw SQL", async () => {
    const error = await labnet.db
      .transaction(async (tx) => {
        await tx.execute(sql`
          INSERT INTO endpoints (id, node_id, network_id, if_index, host_veth, address, mac)
          SELECT 'ep_raw', id, ${fullId}, 1, 'lnvraw', '10.77.200.1/16', '02:42:0a:4d:c8:01'
          FROM nodes WHERE name = 'outside'`);
      })
      .catch((e: unknown) => e);
    expect(constraintViolation(error)?.constraint).toBe("networks_bridge_ports_chk");
    expect(await endpointCount(fullId)).toBe(MAX_BRIDGE_PORTS);
  });

  it("let exactly as many of 20 concurrent nodes in as there are ports left", async () => {
    await removeFillers(1, 10);
    expect(await endpointCount(fullId)).toBe(MAX_BRIDGE_PORTS - 10);
    // All 20 read the same count before any commits: the check at commit decides.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        labnet.request("POST", "/v1/nodes", { body: { name: `race${i}`, networkMode: "full" } }),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(10).fill(202), ...Array(10).fill(409)]);
    for (const refused of answers.filter((r) => r.status === 409)) {
      const problem = await readProblem(refused);
      expect(problem.code).toBe("NETWORK_FULL");
      expect(problem.errors?.map((e) => e.location)).toEqual(["body.networkMode"]);
    }
    expect(await endpointCount(fullId)).toBe(MAX_BRIDGE_PORTS);
    const onNetwork = await labnet.db
      .select({ id: schema.endpoints.id })
      .from(schema.endpoints)
      .where(eq(schema.endpoints.networkId, fullId));
    expect(onNetwork).toHaveLength(MAX_BRIDGE_PORTS);
  });

  it("have room again once a node is gone", async () => {
    await labnet.db.delete(schema.nodes).where(like(schema.nodes.name, "race%"));
    expect(await endpointCount(fullId)).toBe(MAX_BRIDGE_PORTS - 10);
    const res = await labnet.request("POST", "/v1/nodes", { body: { name: "again", networkMode: "full" } });
    expect(res.status).toBe(202);
  });
});
