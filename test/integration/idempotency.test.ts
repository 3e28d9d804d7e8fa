/**
 * Idempotency-Key: answers replayed per token and operation, a claim that is a lease (a crashed
 * attempt's key is taken over once it ran out), commits fenced by the lease, keys that expire.
 * The app in process against a test database, no executor (creates stay pending: 202).
 */
import { randomBytes } from "node:crypto";
import {
  claimIdempotencyKey,
  createToken,
  getIdempotencyKey,
  markIdempotencyKeyCommitted,
  pruneIdempotencyKeys,
  schema,
  takeOverIdempotencyKey,
} from "@labnet/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { readProblem } from "../helpers/problems";
import { registerTestHost } from "../helpers/test-host";

const LEASE_MS = 1_000;
const TTL_MS = 3_000;
let labnet: TestLabnet;
let hostName: string;
let adminTokenId: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uniqueKey = () => `k-${randomBytes(6).toString("hex")}`;

function post(path: string, body: unknown, key: string, token = labnet.adminToken): Promise<Response> {
  return labnet.request("POST", path, {
    body,
    headers: { "idempotency-key": key, authorization: `Bearer ${token}` },
  });
}

async function nodesNamed(name: string): Promise<number> {
  return (await labnet.db.select().from(schema.nodes).where(eq(schema.nodes.name, name))).length;
}

beforeAll(async () => {
  labnet = await startTestLabnet({ idempotencyLeaseMs: LEASE_MS, idempotencyTtlMs: TTL_MS });
  const host = await registerTestHost(labnet.db, { name: "idem-host", netnsPrefix: "idem-" });
  hostName = host.name;
  const [token] = await labnet.db.select().from(schema.tokens);
  adminTokenId = token?.id ?? "";
});

afterAll(async () => {
  await labnet?.stop();
});

describe("Idempotency-Key", () => {
  it("replays the first answer to a retry with the same key and body, creating once", async () => {
    const key = uniqueKey();
    const body = { name: "idem-a", host: hostName, networkMode: "none" };
    const first = await post("/v1/nodes", body, key);
    expect(first.status).toBe(202);
    const again = await post("/v1/nodes", body, key);
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("location")).toBe(first.headers.get("location"));
    expect(await again.json()).toEqual(await first.json());
    expect(await nodesNamed("idem-a")).toBe(1);
  });

  it("refuses the same key with another body (422 naming the header) and changes nothing", async () => {
    const key = uniqueKey();
    expect(
      (await post("/v1/nodes", { name: "idem-b", host: hostName, networkMode: "none" }, key)).status,
    ).toBe(202);
    const reused = await post("/v1/nodes", { name: "idem-b2", host: hostName, networkMode: "none" }, key);
    const problem = await readProblem(reused);
    expect(reused.status).toBe(422);
    expect(problem.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(problem.errors?.[0]?.location).toBe("header.Idempotency-Key");
    expect(await nodesNamed("idem-b2")).toBe(0);
  });

  it("scopes a key to its token and its operation", async () => {
    const key = uniqueKey();
    const other = `lnt_test_${randomBytes(16).toString("hex")}`;
    await createToken(labnet.db, { name: "second admin", role: "admin", secret: other });
    const asFirst = await post("/v1/nodes", { name: "idem-c1", host: hostName, networkMode: "none" }, key);
    const asSecond = await post(
      "/v1/nodes",
      { name: "idem-c2", host: hostName, networkMode: "none" },
      key,
      other,
    );
    const onNetworks = await post(
      "/v1/networks",
      { name: "idem-c-net", host: hostName, ipam: { configs: [{ subnet: "10.71.0.0/24" }] } },
      key,
    );
    expect([asFirst.status, asSecond.status, onNetworks.status]).toEqual([202, 202, 202]);
    for (const res of [asSecond, onNetworks]) {
      expect(res.headers.get("idempotent-replayed")).toBeNull();
    }
    expect(await nodesNamed("idem-c1")).toBe(1);
    expect(await nodesNamed("idem-c2")).toBe(1);
  });

  it("holds a crashed attempt's key as a lease: 409 with Retry-After while it lasts, then a retry runs the request", async () => {
    const key = uniqueKey();
    const body = { name: "idem-d", host: hostName, networkMode: "none" };
    // What an attempt that died before committing leaves: a claim nobody renews.
    const request = await labnet.request("POST", "/v1/nodes", { body, headers: { "idempotency-key": key } });
    expect(request.status).toBe(202);
    await labnet.db.delete(schema.nodes).where(eq(schema.nodes.name, "idem-d"));
    const ref = { tokenId: adminTokenId, operation: "POST /v1/nodes", key };
    const row = await getIdempotencyKey(labnet.db, ref);
    await labnet.db.delete(schema.idempotencyKeys).where(eq(schema.idempotencyKeys.key, key));
    expect(
      await claimIdempotencyKey(labnet.db, {
        ...ref,
        requestHash: row?.requestHash ?? "",
        leaseId: "crashed-attempt",
        leaseMs: LEASE_MS,
        ttlMs: TTL_MS,
      }),
    ).toBe(true);

    const meanwhile = await post("/v1/nodes", body, key);
    expect(meanwhile.status).toBe(409);
    expect(Number(meanwhile.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await nodesNamed("idem-d")).toBe(0);

    await sleep(LEASE_MS + 200);
    const retried = await post("/v1/nodes", body, key);
    expect(retried.status).toBe(202);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    expect(await nodesNamed("idem-d")).toBe(1);
    const replayed = await post("/v1/nodes", body, key);
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(await nodesNamed("idem-d")).toBe(1);
  });

  it("answers a retry of a request that committed without storing its answer with the committed node, not NAME_CONFLICT", async () => {
    const key = uniqueKey();
    const body = { name: "idem-e", host: hostName, networkMode: "none" };
    const first = await post("/v1/nodes", body, key);
    expect(first.status).toBe(202);
    const node = (await first.json()) as { id: string };
    // What a crash after the commit leaves: the key committed (in the create's own
    // transaction, with its operation), no answer, the lease run out.
    const ref = { tokenId: adminTokenId, operation: "POST /v1/nodes", key };
    const row = await getIdempotencyKey(labnet.db, ref);
    expect(row?.committedAt).not.toBeNull();
    expect(row?.operationIds).toHaveLength(1);
    await labnet.db
      .update(schema.idempotencyKeys)
      .set({ status: null, headers: null, body: null, leaseExpiresAt: new Date(Date.now() - 1_000) })
      .where(eq(schema.idempotencyKeys.key, key));

    const retried = await post("/v1/nodes", body, key);
    expect(retried.status).toBe(202);
    expect(retried.headers.get("location")).toBe(`/v1/nodes/${node.id}`);
    expect(retried.headers.get("operation-location")).toBe(`/v1/operations/${row?.operationIds[0]}`);
    expect(((await retried.json()) as { id: string }).id).toBe(node.id);
    expect(await nodesNamed("idem-e")).toBe(1);
  });

  it("lets only the attempt holding the lease mark a key committed", async () => {
    const ref = { tokenId: adminTokenId, operation: "POST /v1/nodes", key: uniqueKey() };
    const lease = { leaseMs: 50, ttlMs: TTL_MS, requestHash: "h" };
    expect(await claimIdempotencyKey(labnet.db, { ...ref, ...lease, leaseId: "first" })).toBe(true);
    expect(await takeOverIdempotencyKey(labnet.db, { ...ref, leaseId: "second", leaseMs: 50 })).toBe(false);
    await sleep(100);
    expect(await takeOverIdempotencyKey(labnet.db, { ...ref, leaseId: "second", leaseMs: LEASE_MS })).toBe(
      true,
    );
    expect(await markIdempotencyKeyCommitted(labnet.db, { ...ref, leaseId: "first", operationIds: [] })).toBe(
      false,
    );
    expect(
      await markIdempotencyKeyCommitted(labnet.db, { ...ref, leaseId: "second", operationIds: [] }),
    ).toBe(true);
    await sleep(LEASE_MS + 100);
    // Committed: no retry takes it over to run it again.
    expect(await takeOverIdempotencyKey(labnet.db, { ...ref, leaseId: "third", leaseMs: LEASE_MS })).toBe(
      false,
    );
  });

  it("forgets keys after the configured time: the same key then runs anew, and expired rows are pruned", async () => {
    const key = uniqueKey();
    expect(
      (await post("/v1/nodes", { name: "idem-f1", host: hostName, networkMode: "none" }, key)).status,
    ).toBe(202);
    await sleep(TTL_MS + 200);
    const afresh = await post("/v1/nodes", { name: "idem-f2", host: hostName, networkMode: "none" }, key);
    expect(afresh.status).toBe(202);
    expect(await nodesNamed("idem-f2")).toBe(1);
    await sleep(TTL_MS + 200);
    expect(await pruneIdempotencyKeys(labnet.db, 1_000)).toBeGreaterThanOrEqual(1);
    expect(
      await labnet.db.select().from(schema.idempotencyKeys).where(eq(schema.idempotencyKeys.key, key)),
    ).toEqual([]);
  });
});
