/**
 * `GET /v1/machines/{id}/kernel` with no executor behind the machine: the app in process over
 * a real Postgres and Redis. An unknown machine is a 404; a known one whose executor does not
 * answer is a 503 after the wait, and the unanswered request leaves nothing on the host's
 * queue while the converge job waiting there (deduplicated per host) is left as it was.
 */
import type { HostRow } from "@labnet/db";
import { convergeDedupId, createRedisConnection, hostQueueName } from "@labnet/queue";
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
    name: "mk-host",
    netnsPrefix: "mk-",
    netnsPath: "/run/netns/mk-host",
  });
  redis = createRedisConnection(inject("redisUrl"), "worker");
  queue = new Queue(hostQueueName(host.id), { connection: redis, prefix: labnet.queuePrefix });
});

afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
  await labnet?.stop();
});

describe("GET /v1/machines/{machineId}/kernel without an executor", () => {
  it("answers 404 for a machine that does not exist", async () => {
    const res = await labnet.request("GET", "/v1/machines/no-such-machine/kernel");
    expect(res.status).toBe(404);
    const problem = await readProblem(res);
    expect(problem).toMatchObject({
      code: "NOT_FOUND",
      status: 404,
      instance: "/v1/machines/no-such-machine/kernel",
    });
    expect(problem.detail).toContain("machine no-such-machine");
    expect(problem.errors?.map((e) => e.location)).toEqual(["path.machineId"]);
  });

  it("answers 503 HOST_UNAVAILABLE when no executor answers, leaving the converge job alone", async () => {
    // A network on the host: its operation puts a converge job on the host's queue, which
    // nobody consumes.
    const created = await labnet.request("POST", "/v1/networks", {
      body: { name: "mk-net", host: host.name, ipam: { configs: [{ subnet: "10.62.0.0/24" }] } },
    });
    expect(created.status).toBe(202);
    await expect.poll(() => queue.getJobCountByTypes("waiting", "prioritized"), { timeout: 10_000 }).toBe(1);
    const [converge] = await queue.getJobs(["waiting"]);
    expect(converge?.name).toBe("host.converge");

    for (const ref of [host.name, host.id]) {
      const started = Date.now();
      const res = await labnet.request("GET", `/v1/machines/${ref}/kernel`);
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_500);
      const problem = await readProblem(res);
      expect(problem).toMatchObject({ code: "HOST_UNAVAILABLE", status: 503, title: "Host unavailable" });
      expect(problem.detail).toContain("mk-host");
    }

    // The unanswered inspections were taken back; the converge job still waits, still the
    // one deduplicated job of its host.
    const waiting = await queue.getJobs(["waiting", "prioritized", "active", "delayed"]);
    expect(waiting.map((job) => job.name)).toEqual(["host.converge"]);
    expect(waiting[0]?.id).toBe(converge?.id);
    expect(await queue.getDeduplicationJobId(convergeDedupId(host.id))).toBe(converge?.id);
  });
});
