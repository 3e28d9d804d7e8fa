/**
 * An operation's `progress` (issue 14): done/total steps counted from the rows its steps depend
 * on, not a 0 that jumps to 100. On a lab host one step (its converge); on a virtual machine two
 * (the machine's namespace, built by the lab host's converge, then the machine's). The app in
 * process against a test database with a host row and no executor: each converge's report is
 * written the way the executor writes it (`settleOperations`), so every count in between is seen.
 */
import { settleOperations } from "@labnet/commands";
import { getOperation, latestOperationFor, type OperationRow, schema, startOperations } from "@labnet/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { registerTestHost } from "../helpers/test-host";

let labnet: TestLabnet;
let labHostName: string;

beforeAll(async () => {
  labnet = await startTestLabnet();
  labHostName = (await registerTestHost(labnet.db, { name: "op-lab", netnsPrefix: "op-" })).name;
});

afterAll(async () => {
  await labnet?.stop();
});

/** The operation as `GET /v1/operations/{id}` answers it (checked against the contract). */
async function readOperation(id: string) {
  const { data, response } = await labnet.client.GET("/v1/operations/{operationId}", {
    params: { path: { operationId: id } },
  });
  expect(response.status).toBe(200);
  if (!data) {
    throw new Error(`operation ${id} not found`);
  }
  return data;
}

async function rowOf(id: string): Promise<OperationRow> {
  const row = await getOperation(labnet.db, id);
  if (!row) {
    throw new Error(`operation ${id} has no row`);
  }
  return row;
}

/** What a converge that built `ids` reports (the executor's settle, in one transaction). */
async function converged(...ids: string[]): Promise<void> {
  await startOperations(labnet.db, ids);
  await settleOperations(labnet.db, {
    succeeded: await Promise.all(ids.map(rowOf)),
    failed: [],
    retrying: [],
  });
}

describe("progress of an operation", () => {
  it("on a lab host is its one converge: 0/1 while open, 1/1 when it succeeded", async () => {
    const created = await labnet.client.POST("/v1/networks", { body: { name: "op-net", host: labHostName } });
    const id = created.data?.operation?.id ?? "";
    expect(await readOperation(id)).toMatchObject({
      state: "queued",
      progress: { done: 0, total: 1, waitingFor: "converge" },
    });
    await converged(id);
    const done = await readOperation(id);
    expect(done).toMatchObject({ state: "succeeded", progress: { done: 1, total: 1 } });
    expect(done.progress.waitingFor).toBeUndefined();
  });

  it("of a machine's build counts its namespace, then its own converge: 0/2, 1/2, 2/2", async () => {
    const res = await labnet.request("POST", "/v1/machines", { body: { name: "op-m1", host: labHostName } });
    expect(res.status, await res.clone().text()).toBe(202);
    const machineId = ((await res.json()) as { id: string }).id;
    const location = res.headers.get("operation-location") ?? "";
    const id = location.split("/").at(-1) ?? "";
    expect(id).toMatch(/^op_/);

    expect(await readOperation(id)).toMatchObject({
      kind: "network.ensure",
      hostId: machineId,
      state: "queued",
      progress: { done: 0, total: 2, waitingFor: "namespace" },
    });

    // The lab host's converge builds the uplink node: the machine's namespace.
    const [machine] = await labnet.db.select().from(schema.hosts).where(eq(schema.hosts.id, machineId));
    const uplinkId = machine?.uplinkNodeId ?? "";
    const uplinkOp = (await latestOperationFor(labnet.db, [uplinkId])).get(uplinkId);
    expect(uplinkOp).toMatchObject({ kind: "node.ensure", state: "queued" });
    expect((await readOperation(uplinkOp?.id ?? "")).progress).toEqual({
      done: 0,
      total: 1,
      waitingFor: "converge",
    });
    await converged(uplinkOp?.id ?? "");
    expect(await readOperation(id)).toMatchObject({
      state: "queued",
      progress: { done: 1, total: 2, waitingFor: "converge" },
    });

    // Then the machine's own converge builds its bridge.
    await converged(id);
    const done = await readOperation(id);
    expect(done).toMatchObject({ state: "succeeded", progress: { done: 2, total: 2 } });
    expect(done.progress.waitingFor).toBeUndefined();
  });

  it("keeps the count it reached when it failed", async () => {
    const res = await labnet.request("POST", "/v1/machines", { body: { name: "op-m2", host: labHostName } });
    expect(res.status).toBe(202);
    const machineId = ((await res.json()) as { id: string }).id;
    const [machine] = await labnet.db.select().from(schema.hosts).where(eq(schema.hosts.id, machineId));
    const uplinkId = machine?.uplinkNodeId ?? "";
    await converged((await latestOperationFor(labnet.db, [uplinkId])).get(uplinkId)?.id ?? "");

    const node = await labnet.client.POST("/v1/nodes", { body: { name: "op-n1", host: machineId } });
    const id = node.data?.operation?.id ?? "";
    expect((await readOperation(id)).progress).toEqual({ done: 1, total: 2, waitingFor: "converge" });
    await startOperations(labnet.db, [id]);
    await settleOperations(labnet.db, {
      succeeded: [],
      failed: [
        {
          op: await rowOf(id),
          problem: {
            type: "https://labnet.dev/problems/kernel-operation-failed",
            title: "The lab host could not apply the change",
            status: 500,
            detail: "RTNETLINK answers: Operation not permitted",
            code: "KERNEL_OPERATION_FAILED",
          },
        },
      ],
      retrying: [],
    });
    expect(await readOperation(id)).toMatchObject({ state: "failed", progress: { done: 1, total: 2 } });
  });

  it("is in a removal's 202 answer too (the operation it answers)", async () => {
    const res = await labnet.request("DELETE", "/v1/networks/op-net");
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({
      kind: "network.remove",
      progress: { done: 0, total: 1, waitingFor: "converge" },
    });
  });
});
