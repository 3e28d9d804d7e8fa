/**
 * Issue 2 acceptance, continued: teardown leaves nothing, work survives a killed
 * executor and a lost Redis, the reconciler repairs drift, and the API's HTTP
 * semantics (auth, idempotency, operations, probes) hold.
 */
import { writeFile } from "node:fs/promises";
import { schema } from "@labnet/db";
import { runCommand } from "@labnet/devstack";
import { createRedisConnection } from "@labnet/queue";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deleteNode } from "../helpers/api-steps";
import {
  eventually,
  expectHostMatchesDatabase,
  labnetLinks,
  labnetRules,
  waitForOperations,
} from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, listNetns, netnsOf, ping, type SimHost } from "../helpers/netns";
import type { TestProcess } from "../helpers/processes";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

let labnet: TestLabnet;
let host: SimHost;
let executor: TestProcess;
const EXECUTOR_ENV = { LABNET_RECONCILE_MS: "2000" };

beforeAll(async () => {
  ({ labnet, host, executor } = await startSimHostLabnet("lh", 22, {
    labnet: { redispatchAfterMs: 2_000 },
    executorEnv: EXECUTOR_ENV,
  }));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

describe("teardown", () => {
  it("removing the nodes and then the network leaves no namespace, link or rule of theirs", async () => {
    const net = await labnet.waitingClient.POST("/v1/networks", {
      body: { name: "gone", ipam: { configs: [{ subnet: "10.77.0.0/24" }] } },
    });
    expect(net.response.status).toBe(201);
    const bridge = net.data?.options.bridgeName ?? "";
    const nodes = await Promise.all(
      ["a", "b"].map((name) =>
        labnet.waitingClient.POST("/v1/nodes", { body: { name, networkMode: "gone" } }),
      ),
    );
    const sandboxes = nodes.map((n) => netnsOf(n.data?.sandboxKey));
    expect(await listNetns(`${host.hostNetns}-`)).toEqual(expect.arrayContaining(sandboxes));
    expect(await labnetLinks(host.hostNetns)).toContain(bridge);
    expect((await labnetRules(host.hostNetns)).join("\n")).toContain("10.77.0.0/24");

    for (const node of nodes) {
      const res = await labnet.waitingClient.DELETE("/v1/nodes/{nodeId}", {
        params: { path: { nodeId: node.data?.id ?? "" } },
      });
      expect(res.response.status).toBe(204);
    }
    const removed = await labnet.waitingClient.DELETE("/v1/networks/{networkId}", {
      params: { path: { networkId: "gone" } },
    });
    expect(removed.response.status).toBe(204);

    const missing = await labnet.client.GET("/v1/networks/{networkId}", {
      params: { path: { networkId: "gone" } },
    });
    expect(missing.response.status).toBe(404);
    await eventually(
      async () =>
        (await listNetns(`${host.hostNetns}-`)).some((n) => sandboxes.includes(n)) ? undefined : true,
      10_000,
      "sandboxes to disappear",
    );
    const links = await labnetLinks(host.hostNetns);
    expect(links).not.toContain(bridge);
    expect(links.filter((l) => l.startsWith("lnv"))).toEqual([]);
    const rules = (await labnetRules(host.hostNetns)).join("\n");
    expect(rules).not.toContain("10.77.0.0/24");
    expect(rules).not.toContain(bridge);
    // The addresses went back to the pool with the endpoints.
    const [row] = await labnet.db
      .select()
      .from(schema.allocations)
      .where(eq(schema.allocations.address, "10.77.0.2"));
    expect(row).toBeUndefined();
    await expectHostMatchesDatabase(labnet, host.hostNetns);
  });
});

describe("resilience", () => {
  it("finishes every operation queued while the executor was killed, and the kernel matches Postgres", async () => {
    await labnet.waitingClient.POST("/v1/networks", { body: { name: "durable" } });
    await executor.kill();
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        labnet.client.POST("/v1/nodes", { body: { name: `d${i}`, networkMode: "durable" } }),
      ),
    );
    expect(created.map((c) => c.response.status)).toEqual(Array(6).fill(202));
    const opIds = created.map((c) => c.data?.operation?.id ?? "");
    const open = await labnet.db
      .select({ state: schema.operations.state })
      .from(schema.operations)
      .where(inArray(schema.operations.id, opIds));
    expect(open.every((o) => o.state === "queued")).toBe(true);

    executor = labnet.startExecutor(host.hostNetns, EXECUTOR_ENV);
    await waitForOperations(labnet, opIds, 60_000);
    // One converge served all six: they were settled in one transaction (one now()).
    const settled = await labnet.db
      .selectDistinct({ at: schema.operations.finishedAt })
      .from(schema.operations)
      .where(inArray(schema.operations.id, opIds));
    expect(settled).toHaveLength(1);
    await expectHostMatchesDatabase(labnet, host.hostNetns);
    const [first, last] = [created[0]?.data, created[5]?.data];
    expect(
      await ping(netnsOf(first?.sandboxKey), last?.networkSettings.networks.durable?.ipAddress ?? ""),
    ).toBe(true);
  });

  it("loses no operation when Redis loses its queue", async () => {
    await executor.kill();
    const res = await labnet.client.POST("/v1/nodes", { body: { name: "survivor", networkMode: "durable" } });
    const opId = res.data?.operation?.id ?? "";
    await eventually(
      async () => {
        const [op] = await labnet.db.select().from(schema.operations).where(eq(schema.operations.id, opId));
        return op?.dispatchedAt ? true : undefined;
      },
      10_000,
      "the operation to be dispatched",
    );
    // Redis forgets everything of this stack's queues.
    const redis = createRedisConnection(inject("redisUrl"), "worker");
    const keys = await redis.keys(`${labnet.queuePrefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
    redis.disconnect();

    executor = labnet.startExecutor(host.hostNetns, EXECUTOR_ENV);
    await waitForOperations(labnet, [opId], 60_000);
    const node = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "survivor" } } });
    expect(node.data?.state).toBe("ready");
    const addr = await execIn(netnsOf(node.data?.sandboxKey), [
      "ip",
      "-o",
      "-4",
      "addr",
      "show",
      "dev",
      "eth0",
    ]);
    expect(addr.stdout).toContain(node.data?.networkSettings.networks.durable?.ipAddress);
  });

  it("one node whose kernel work fails is failed with its problem, and the rest of the host converges", async () => {
    await executor.kill();
    const created = await Promise.all(
      ["b0", "b1", "b2", "b3"].map((name) =>
        labnet.client.POST("/v1/nodes", { body: { name, networkMode: "durable" } }),
      ),
    );
    const [b0, b1, b2, b3] = created.map((c) => c.data);
    // b1's namespace name is taken by a plain file: nothing can enter it or add it.
    const broken = netnsOf(b1?.sandboxKey);
    await writeFile(`/run/netns/${broken}`, "");
    executor = labnet.startExecutor(host.hostNetns, EXECUTOR_ENV);

    await waitForOperations(
      labnet,
      [b0, b2, b3].map((n) => n?.operation?.id ?? ""),
      60_000,
    );
    expect(await ping(netnsOf(b0?.sandboxKey), b3?.networkSettings.networks.durable?.ipAddress ?? "")).toBe(
      true,
    );
    const failed = await eventually(
      async () => {
        const [op] = await labnet.db
          .select()
          .from(schema.operations)
          .where(eq(schema.operations.id, b1?.operation?.id ?? ""));
        return op?.state === "failed" ? op : undefined;
      },
      60_000,
      "b1's operation to fail",
    );
    expect(failed.attempts).toBe(5);
    expect(failed.error).toMatchObject({ code: "KERNEL_OPERATION_FAILED" });
    expect(failed.error?.detail).toContain(broken);
    const view = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "b1" } } });
    expect(view.data?.state).toBe("failed");
    // A failed node has no kernel side: what it held is pruned, the file included.
    await eventually(
      async () => ((await listNetns(broken)).length === 0 ? true : undefined),
      10_000,
      "b1's netns to go",
    );
    for (const name of ["b0", "b1", "b2", "b3"]) {
      await deleteNode(labnet, name);
    }
    await expectHostMatchesDatabase(labnet, host.hostNetns);
  });

  it("repairs drift: a sandbox deleted by hand comes back, a stray Labnet namespace goes", async () => {
    const node = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "survivor" } } });
    const ns = netnsOf(node.data?.sandboxKey);
    const stray = `${host.hostNetns}-aaaaaaaaaaaaaaaa`;
    await execIn(ns, ["true"]);
    const del = await runCommand(["ip", "netns", "del", ns]);
    expect(del.code).toBe(0);
    const add = await runCommand(["ip", "netns", "add", stray]);
    expect(add.code).toBe(0);
    await eventually(
      async () => {
        const present = await listNetns(`${host.hostNetns}-`);
        if (!present.includes(ns) || present.includes(stray)) {
          return undefined;
        }
        const addr = await execIn(ns, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]);
        return addr.stdout.includes(node.data?.networkSettings.networks.durable?.ipAddress ?? "?")
          ? true
          : undefined;
      },
      20_000,
      "the reconciler to repair the host",
    );
  });
});

describe("HTTP semantics", () => {
  it("refuses requests without a valid token, with a problem document", async () => {
    for (const authorization of [undefined, "Bearer nope", "Basic abc"]) {
      const res = await labnet.app.fetch(
        new Request("http://labnet.test/v1/networks", { headers: authorization ? { authorization } : {} }),
      );
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
  });

  it("refuses a body over 1 MiB with a problem document, before reading it", async () => {
    const huge = JSON.stringify({ name: "big", labels: { padding: "x".repeat(1_100_000) } });
    const res = await labnet.request("POST", "/v1/networks", { body: huge });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(((await res.json()) as { code: string }).code).toBe("PAYLOAD_TOO_LARGE");
    const rows = await labnet.db.select().from(schema.networks).where(eq(schema.networks.name, "big"));
    expect(rows).toEqual([]);
  });

  it("replays a POST with the same Idempotency-Key and refuses the key for another body", async () => {
    const body = { name: "idem", ipam: { configs: [{ subnet: "10.78.0.0/24" }] } };
    const first = await labnet.request("POST", "/v1/networks", {
      body,
      headers: { "idempotency-key": "k-1" },
    });
    const second = await labnet.request("POST", "/v1/networks", {
      body,
      headers: { "idempotency-key": "k-1" },
    });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(((await second.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    const other = await labnet.request("POST", "/v1/networks", {
      body: { ...body, name: "idem2" },
      headers: { "idempotency-key": "k-1" },
    });
    expect(other.status).toBe(422);
    const rows = await labnet.db
      .select()
      .from(schema.networks)
      .where(inArray(schema.networks.name, ["idem", "idem2"]));
    expect(rows.map((r) => r.name)).toEqual(["idem"]);
  });

  it("answers 202 with an operation link, and the operation shows how it went", async () => {
    const res = await labnet.client.POST("/v1/networks", {
      body: { name: "async", ipam: { configs: [{ subnet: "10.79.0.0/24" }] } },
    });
    expect(res.response.status).toBe(202);
    expect(res.data?.state).toBe("pending");
    const href = res.response.headers.get("operation-location") ?? "";
    expect(href).toBe(`/v1/operations/${res.data?.operation?.id}`);
    await waitForOperations(labnet, [res.data?.operation?.id ?? ""]);
    const op = await labnet.client.GET("/v1/operations/{operationId}", {
      params: { path: { operationId: res.data?.operation?.id ?? "" } },
    });
    expect(op.data).toMatchObject({
      state: "succeeded",
      kind: "network.ensure",
      target: { type: "network" },
    });
    expect(op.data?.attempts).toBeGreaterThanOrEqual(1);
  });

  it("reports readiness and health without a token, and serves the API reference", async () => {
    const ready = await labnet.app.fetch(new Request("http://labnet.test/v1/readyz"));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ok", checks: { executors: { ok: true } } });
    const health = await labnet.app.fetch(new Request("http://labnet.test/v1/healthz"));
    expect(health.status).toBe(200);
    const docs = await labnet.app.fetch(new Request("http://labnet.test/docs"));
    expect(docs.headers.get("content-type")).toContain("text/html");
  });
});
