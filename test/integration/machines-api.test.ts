/**
 * Machines at the API (issue 8): what `POST /v1/machines` records (the machine, its uplink on
 * a LAN of the lab host, its own `bridge` 172.17.0.0/16), per-machine scopes for names,
 * subnets and ports, and every refusal as a problem naming its field that changes nothing.
 * The app in process against a test database; no executor.
 */
import { basename } from "node:path";
import { type HostRow, schema } from "@labnet/db";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { machineNetnsOwners } from "../../services/executor/src/machines";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { expectProblemChangingNothing, type ProblemCase } from "../helpers/problems";
import { countRows } from "../helpers/row-counts";
import { registerTestHost } from "../helpers/test-host";

let labnet: TestLabnet;
let lab: HostRow;

const rowCounts = () =>
  countRows(labnet.db, {
    hosts: schema.hosts,
    networks: schema.networks,
    nodes: schema.nodes,
    endpoints: schema.endpoints,
    portMappings: schema.portMappings,
    operations: schema.operations,
  });

beforeAll(async () => {
  labnet = await startTestLabnet();
  lab = await registerTestHost(labnet.db, { name: "ma-lab", netnsPrefix: "ma-" });
});

afterAll(async () => {
  await labnet?.stop();
});

interface MachineBody {
  id: string;
  name: string;
  kind: string;
  state: string;
  hostname: string;
  uid: number | null;
  netnsPath: string | null;
  netnsPrefix: string;
  host: { id: string; name: string } | null;
  lan: { name: string; subnet: string; gateway: string; address: string | null } | null;
}

async function createMachine(body: Record<string, unknown>): Promise<MachineBody> {
  const res = await labnet.request("POST", "/v1/machines", { body: { host: lab.name, ...body } });
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as MachineBody;
}

describe("a virtual machine", () => {
  let bdc01: MachineBody;
  let bdc02: MachineBody;

  it("is recorded pending, on the LAN it names (made from the LAN pool), with its own account", async () => {
    bdc01 = await createMachine({ name: "ma-bdc01", hostname: "bdc01", lan: "lan-a", address: "10.0.0.11" });
    expect(bdc01).toMatchObject({
      name: "ma-bdc01",
      kind: "virtual",
      state: "pending",
      hostname: "bdc01",
      host: { id: lab.id, name: lab.name },
      lan: { name: "lan-a", subnet: "10.0.0.0/24", gateway: "10.0.0.1", address: "10.0.0.11" },
    });
    expect(bdc01.netnsPath).toMatch(/^\/run\/netns\/ma-[a-z2-7]{16}$/);
    expect(bdc01.netnsPrefix).toMatch(/^mam[a-z2-7]{8}-$/);
    bdc02 = await createMachine({ name: "ma-bdc02", lan: "lan-a", address: "10.0.0.12" });
    expect(bdc02.hostname).toBe("ma-bdc02");
    expect(bdc02.uid).toBe((bdc01.uid ?? 0) + 1);
    // A second LAN gets the next /24 of the pool.
    const other = await createMachine({ name: "ma-other", lan: "lan-b" });
    expect(other.lan).toMatchObject({ subnet: "10.0.1.0/24", address: "10.0.1.2" });
  });

  it("has its own bridge network at docker0's addresses, and names and subnets of its own", async () => {
    const networks = await labnet.client.GET("/v1/networks", { params: { query: { host: bdc01.name } } });
    expect(networks.data?.items.map((n) => [n.name, n.ipam.configs[0]?.subnet])).toEqual([
      ["bridge", "172.17.0.0/16"],
    ]);
    for (const machine of [bdc01, bdc02]) {
      const net = await labnet.request("POST", "/v1/networks", {
        body: { name: "my-net", host: machine.name, ipam: { configs: [{ subnet: "172.18.0.0/16" }] } },
      });
      expect(net.status).toBe(202);
      const node = await labnet.request("POST", "/v1/nodes", {
        body: { name: "centos1", host: machine.name, networkMode: "my-net", ports: ["8080:80"] },
      });
      expect(node.status).toBe(202);
    }
    // Each machine's ledger has its 8080, and each has a forward on the lab host's ledger.
    const ledger = await labnet.client.GET("/v1/machines/{machineId}/ports", {
      params: { path: { machineId: bdc02.name } },
    });
    expect(ledger.data?.items).toMatchObject([
      { hostPort: 8080, containerPort: 80, external: { hostId: lab.id } },
    ]);
    const labLedger = await labnet.client.GET("/v1/hosts/{hostId}/ports", {
      params: { path: { hostId: lab.id } },
    });
    expect(labLedger.data?.items.map((m) => m.containerPort).sort()).toEqual([8080, 8080]);
    expect(new Set(labLedger.data?.items.map((m) => m.hostPort)).size).toBe(2);
  });

  it("is listed with the lab host's own machine, and filtered by kind", async () => {
    const all = await labnet.client.GET("/v1/machines", { params: { query: { host: lab.name } } });
    expect(all.data?.items.map((m) => `${m.kind}:${m.name}`)).toEqual([
      "virtual:ma-bdc01",
      "virtual:ma-bdc02",
      "lab:ma-lab",
      "virtual:ma-other",
    ]);
    const virtual = await labnet.client.GET("/v1/machines", { params: { query: { kind: "lab" } } });
    expect(virtual.data?.items.every((m) => m.kind === "lab")).toBe(true);
    // GET /v1/hosts lists lab hosts only.
    const hosts = await labnet.client.GET("/v1/hosts");
    expect(hosts.data?.items.map((h) => h.name)).not.toContain("ma-bdc01");
  });

  it("cannot lose its uplink node to a node removal", async () => {
    const [machine] = await labnet.db.select().from(schema.hosts).where(eq(schema.hosts.id, bdc01.id));
    await expectProblemChangingNothing(labnet, rowCounts, {
      method: "DELETE",
      path: `/v1/nodes/${machine?.uplinkNodeId}`,
      status: 409,
      code: "CONFLICT",
      location: "path.nodeId",
    });
  });

  const refusals: [string, ProblemCase][] = [
    [
      "a name that is not a DNS label",
      {
        method: "POST",
        path: "/v1/machines",
        body: { name: "Bad_Name" },
        status: 422,
        location: "body.name",
      },
    ],
    [
      "a name taken by another machine",
      {
        method: "POST",
        path: "/v1/machines",
        body: { name: "ma-bdc01" },
        status: 409,
        location: "body.name",
      },
    ],
    [
      "a name taken by a lab host",
      { method: "POST", path: "/v1/machines", body: { name: "ma-lab" }, status: 409, location: "body.name" },
    ],
    [
      "an address outside the LAN",
      {
        method: "POST",
        path: "/v1/machines",
        body: { name: "ma-x", lan: "lan-a", address: "10.9.0.5" },
        status: 422,
        location: "body.address",
      },
    ],
    [
      "an address another machine has",
      {
        method: "POST",
        path: "/v1/machines",
        body: { name: "ma-x", lan: "lan-a", address: "10.0.0.11" },
        status: 409,
        location: "body.address",
      },
    ],
    [
      "a virtual machine as the host to build on",
      {
        method: "POST",
        path: "/v1/machines",
        body: { name: "ma-x", host: "ma-bdc01" },
        status: 422,
        location: "body.host",
      },
    ],
    [
      "an unknown lab host",
      {
        method: "POST",
        path: "/v1/machines",
        body: { name: "ma-x", host: "nowhere" },
        status: 404,
        location: "body.host",
      },
    ],
    [
      "an unknown field",
      {
        method: "POST",
        path: "/v1/machines",
        body: { name: "ma-x", cpus: 2 },
        status: 400,
        location: "body.cpus",
      },
    ],
    [
      "removing a machine with nodes without force",
      {
        method: "DELETE",
        path: "/v1/machines/ma-bdc01",
        status: 409,
        code: "CONFLICT",
        location: "query.force",
      },
    ],
    [
      "removing a lab host's own machine",
      {
        method: "DELETE",
        path: "/v1/machines/ma-lab",
        status: 409,
        code: "CONFLICT",
        location: "path.machineId",
      },
    ],
    [
      "an unknown machine",
      { method: "GET", path: "/v1/machines/nowhere", status: 404, location: "path.machineId" },
    ],
  ];
  for (const [what, problem] of refusals) {
    it(`refuses ${what}, changing nothing`, async () => {
      const body =
        problem.method === "POST" && problem.path === "/v1/machines" && !("host" in (problem.body as object))
          ? { host: lab.name, ...(problem.body as object) }
          : problem.body;
      await expectProblemChangingNothing(labnet, rowCounts, { ...problem, body });
    });
  }

  it("is marked deleting with everything on it when removed with force", async () => {
    const res = await labnet.request("DELETE", "/v1/machines/ma-bdc02?force=true");
    expect(res.status).toBe(202);
    expect(((await res.json()) as MachineBody).state).toBe("deleting");
    const left = await labnet.db.select().from(schema.nodes).where(eq(schema.nodes.hostId, bdc02.id));
    expect(left.map((n) => n.state)).toEqual(["deleting"]);
    // Its forward on the lab host went at once.
    const labLedger = await labnet.client.GET("/v1/hosts/{hostId}/ports", {
      params: { path: { hostId: lab.id } },
    });
    expect(labLedger.data?.items).toHaveLength(1);
  });
});

describe("a virtual machine's namespace", () => {
  let other: HostRow;
  beforeAll(async () => {
    other = await registerTestHost(labnet.db, { name: "mo-lab", netnsPrefix: "mo-" });
  });

  it("is named in the commit of its uplink's operation: the lab host's converge, woken by that commit, makes it the machine's account's", async () => {
    // Named in a later commit, a converge woken by the uplink's found no machine owning the
    // namespace, so `ip netns add` made it root's, and no node of the machine could ever be
    // made in its user namespace. One transaction (the node's operation is written in it): the
    // rows share their xmin.
    const made = await Promise.all(
      ["mo-1", "mo-2", "mo-3"].map(async (name) => {
        const res = await labnet.request("POST", "/v1/machines", { body: { host: other.name, name } });
        expect(res.status, await res.clone().text()).toBe(202);
        return (await res.json()) as MachineBody;
      }),
    );
    for (const machine of made) {
      const [row] = (await labnet.db.execute(sql`
        SELECT h.xmin::text AS machine, n.xmin::text AS node, n.netns
        FROM hosts h JOIN nodes n ON n.id = h.uplink_node_id
        WHERE h.id = ${machine.id}`)) as unknown as {
        machine: string;
        node: string;
        op: string;
        netns: string;
      }[];
      expect(row?.machine, machine.name).toBe(row?.node);
      expect(`/run/netns/${row?.netns}`).toBe(machine.netnsPath);
    }
    const owners = await machineNetnsOwners(
      labnet.db,
      other.id,
      made.map((m) => basename(m.netnsPath ?? "")),
    );
    expect([...owners.values()]).toEqual(made.map((m) => ({ kind: "account", uid: m.uid })));
  });
});
