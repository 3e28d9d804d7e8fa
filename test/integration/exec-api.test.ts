/**
 * `POST /v1/nodes/{id}/exec` and `POST /v1/machines/{id}/exec` with no executor behind the
 * host: the app in process over a real Postgres and Redis. Every refused command is a 422
 * naming the argument, and nothing reaches the host's queue; an allowed one waits for an
 * executor that never answers (503), and takes its request back.
 */
import type { HostRow } from "@labnet/db";
import { createRedisConnection, hostQueueName } from "@labnet/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { readProblem } from "../helpers/problems";
import { registerTestHost } from "../helpers/test-host";

let labnet: TestLabnet;
let host: HostRow;
let redis: Redis;
let queue: Queue;

beforeAll(async () => {
  labnet = await startTestLabnet();
  host = await registerTestHost(labnet.db, {
    name: "ex-host",
    netnsPrefix: "ex-",
    netnsPath: "/run/netns/ex-host",
  });
  redis = createRedisConnection(inject("redisUrl"), "worker");
  queue = new Queue(hostQueueName(host.id), { connection: redis, prefix: labnet.queuePrefix });
  const node = await labnet.request("POST", "/v1/nodes", { body: { name: "ex1", host: host.name } });
  expect(node.status).toBe(202);
});

afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
  await labnet?.stop();
});

/** Jobs of the host's queue that are not converges (those the node's creation queued). */
async function execJobs(): Promise<string[]> {
  const jobs = await queue.getJobs(["waiting", "prioritized", "active", "delayed", "completed", "failed"]);
  return jobs.map((job) => job.name).filter((name) => name !== "host.converge");
}

const refusals: [string, unknown[], string][] = [
  ["sh", ["sh"], "body.argv[0]"],
  ["bash -c", ["bash", "-c", "id"], "body.argv[0]"],
  ["ping;id", ["ping;id"], "body.argv[0]"],
  ["ping $(id)", ["ping", "$(id)"], "body.argv[1]"],
  ["../../bin/sh", ["../../bin/sh"], "body.argv[0]"],
  ["ip link set", ["ip", "link", "set", "eth0", "down"], "body.argv[2]"],
  ["iptables -F", ["iptables", "-F"], "body.argv[1]"],
  ["10,000 characters", ["ping", "a".repeat(10_000)], "body.argv[1]"],
  ["an unknown program", ["wireshark"], "body.argv[0]"],
  ["ping without target", ["ping", "-c", "1"], "body.argv"],
];

describe("exec refusals", () => {
  it.each(refusals)("node: %s is a 422 naming %s, nothing queued", async (_what, argv, location) => {
    const res = await labnet.request("POST", "/v1/nodes/ex1/exec", { body: { argv } });
    expect(res.status).toBe(422);
    const problem = await readProblem(res);
    expect(problem.code).toBe("INVALID_FIELD");
    // iptables runs in machines only: in a node the program itself is at fault.
    expect(problem.errors?.map((e) => e.location)).toEqual([
      argv[0] === "iptables" ? "body.argv[0]" : location,
    ]);
    expect(problem.detail).not.toBe("");
    expect(await execJobs()).toEqual([]);
  });

  it.each(refusals)("machine: %s is a 422 naming %s, nothing queued", async (_what, argv, location) => {
    const res = await labnet.request("POST", `/v1/machines/${host.name}/exec`, { body: { argv } });
    expect(res.status).toBe(422);
    expect((await readProblem(res)).errors?.map((e) => e.location)).toEqual([location]);
    expect(await execJobs()).toEqual([]);
  });

  it("refuses a NUL byte before the allow-list sees it: 400 naming the argument, nothing queued", async () => {
    const res = await labnet.request("POST", "/v1/nodes/ex1/exec", {
      body: { argv: ["ping", "-c", "1", "web\u0000x"] },
    });
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.code).toBe("VALIDATION_FAILED");
    expect(problem.errors?.map((e) => e.location)).toEqual(["body.argv[3]"]);
    expect(await execJobs()).toEqual([]);
  });

  it("refuses iptables in a node, allows it in a machine", async () => {
    const res = await labnet.request("POST", "/v1/nodes/ex1/exec", { body: { argv: ["iptables", "-S"] } });
    expect(res.status).toBe(422);
    expect((await readProblem(res)).errors?.[0]?.message).toMatch(/only in a machine/);
    expect(await execJobs()).toEqual([]);
  });

  it("refuses a time limit over 30 s and unknown fields; 404 for an unknown node", async () => {
    const slow = await labnet.request("POST", "/v1/nodes/ex1/exec", {
      body: { argv: ["ip", "addr"], timeoutMs: 60_000 },
    });
    expect(slow.status).toBe(400);
    const extra = await labnet.request("POST", "/v1/nodes/ex1/exec", {
      body: { argv: ["ip", "addr"], shell: true },
    });
    expect(extra.status).toBe(400);
    const missing = await labnet.request("POST", "/v1/nodes/nobody/exec", { body: { argv: ["ip", "addr"] } });
    expect(missing.status).toBe(404);
    expect(await execJobs()).toEqual([]);
  });

  it("queues an allowed command and answers 503 when no executor answers, taking it back", async () => {
    const res = await labnet.request("POST", "/v1/nodes/ex1/exec", {
      body: { argv: ["ping", "-c", "1", "web"], timeoutMs: 100 },
    });
    expect(res.status).toBe(503);
    expect((await readProblem(res)).code).toBe("HOST_UNAVAILABLE");
    expect(await execJobs()).toEqual([]);
  }, 20_000);
});
