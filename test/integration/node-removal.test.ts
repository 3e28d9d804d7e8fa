/**
 * `DELETE /v1/nodes/{id}`: a node named by its id is marked for removal in the round trip that
 * locks it, before its checks are read, so every refusal must leave it exactly as it was. The
 * app in process against a test database, no executor.
 */
import type { Schema } from "@labnet/api";
import { type HostRow, schema } from "@labnet/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { registerTestHost } from "../helpers/test-host";

type Node = Schema<"Node">;
type Operation = Schema<"Operation">;

let labnet: TestLabnet;
let host: HostRow;

async function post(body: Schema<"CreateNodeRequest">): Promise<Node> {
  const res = await labnet.request("POST", "/v1/nodes", { body: { host: host.name, ...body } });
  expect(res.status).toBe(202);
  return (await res.json()) as Node;
}

async function remove(ref: string): Promise<{ status: number; body: Operation & { code?: string } }> {
  const res = await labnet.request("DELETE", `/v1/nodes/${ref}`);
  return { status: res.status, body: (await res.json()) as Operation & { code?: string } };
}

/** The node's state and its operations' kinds, oldest first. */
async function recorded(id: string): Promise<{ state: string | undefined; operations: string[] }> {
  const [node] = await labnet.db.select().from(schema.nodes).where(eq(schema.nodes.id, id));
  const ops = await labnet.db
    .select()
    .from(schema.operations)
    .where(eq(schema.operations.targetId, id))
    .orderBy(schema.operations.createdAt);
  return { state: node?.state, operations: ops.map((op) => `${op.kind}:${op.state}`) };
}

beforeAll(async () => {
  labnet = await startTestLabnet();
  host = await registerTestHost(labnet.db, {
    name: "rm-host",
    netnsPrefix: "rm-",
    netnsPath: "/run/netns/rm-host",
  });
  const body = { name: "rmnet", host: host.name, ipam: { configs: [{ subnet: "10.62.0.0/24" }] } };
  expect((await labnet.request("POST", "/v1/networks", { body })).status).toBe(202);
});

afterAll(async () => {
  await labnet?.stop();
});

describe("removing a node", () => {
  it("by id: marks it deleting with one node.remove; a second DELETE answers that operation again", async () => {
    const node = await post({ name: "plain", networkMode: "rmnet", ports: ["80"] });
    const first = await remove(node.id);
    expect(first.status).toBe(202);
    expect(first.body.kind).toBe("node.remove");
    const again = await remove(node.id);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(await recorded(node.id)).toEqual({
      state: "deleting",
      operations: ["node.ensure:queued", "node.remove:queued"],
    });
  });

  it("by name: the same", async () => {
    const node = await post({ name: "named", networkMode: "rmnet" });
    const removed = await remove("named");
    expect(removed.status).toBe(202);
    expect(removed.body.target).toMatchObject({ id: node.id });
    expect((await recorded(node.id)).state).toBe("deleting");
  });

  it("refuses a node whose namespace another node shares, and changes nothing", async () => {
    const owner = await post({ name: "owner", networkMode: "rmnet", ports: ["81"] });
    await post({ name: "guest", networkMode: "container:owner" });
    const before = await recorded(owner.id);
    const refused = await remove(owner.id);
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain("shares its network namespace with guest");
    expect(await recorded(owner.id)).toEqual(before);
    expect(before.state).toBe("pending");
    // Its port is still its own: the refused removal left the ledger as it was.
    const view = (await (await labnet.request("GET", `/v1/nodes/${owner.id}`)).json()) as Node;
    expect(Object.keys(view.networkSettings.ports)).toEqual(["81/tcp"]);
  });

  it("refuses a machine's uplink node, and changes nothing", async () => {
    const uplink = await post({
      name: "uplink",
      networkMode: "rmnet",
      labels: { "labnet.machine": "hst_x" },
    });
    const before = await recorded(uplink.id);
    const refused = await remove(uplink.id);
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain("delete the machine instead");
    expect(await recorded(uplink.id)).toEqual(before);
  });

  it("answers 404 for an unknown id, writing nothing", async () => {
    const unknown = "nod_aaaaaaaaaaaaaaaa";
    expect((await remove(unknown)).status).toBe(404);
    expect(await recorded(unknown)).toEqual({ state: undefined, operations: [] });
  });

  it("records a new removal when the last one failed", async () => {
    const node = await post({ name: "retry", networkMode: "rmnet" });
    const first = await remove(node.id);
    await labnet.db
      .update(schema.operations)
      .set({ state: "failed" })
      .where(eq(schema.operations.id, first.body.id));
    const second = await remove(node.id);
    expect(second.status).toBe(202);
    expect(second.body.id).not.toBe(first.body.id);
    expect((await recorded(node.id)).operations).toEqual([
      "node.ensure:queued",
      "node.remove:failed",
      "node.remove:queued",
    ]);
  });
});
