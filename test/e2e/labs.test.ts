/**
 * Issue 9, labs: seed 001 exercise 2 provisioned for a class in one call, graded by real probes
 * before and after the solution, reset of one student, isolation between students, teardown.
 */
import { type components, createLabnetClient } from "@labnet/api";
import { runCommandOrThrow } from "@labnet/devstack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import { listNetns, netnsOf, ping, type SimHost } from "../helpers/netns";
import type { TestProcess } from "../helpers/processes";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

type Lab = components["schemas"]["Lab"];
type CheckRun = components["schemas"]["LabCheckRun"];

const STUDENTS = Number(process.env.LABNET_TEST_LAB_STUDENTS ?? 30);
const APP_REACHES_WEB = "app_container reaches web_container.app";

let labnet: TestLabnet;
let host: SimHost;
let executor: TestProcess;

beforeAll(async () => {
  ({ labnet, host, executor } = await startSimHostLabnet("lb", 64));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

async function getLab(name: string): Promise<Lab> {
  const res = await labnet.client.GET("/v1/labs/{labId}", { params: { path: { labId: name } } });
  if (!res.data) {
    throw new Error(`no lab ${name}: ${JSON.stringify(res.error)}`);
  }
  return res.data;
}

async function waitReady(name: string): Promise<Lab> {
  return eventually(
    async () => {
      const lab = await getLab(name);
      return lab.summary.ready === lab.summary.total ? lab : undefined;
    },
    60_000,
    `every instance of ${name} to be ready`,
  );
}

async function runChecks(name: string, instances?: string[]): Promise<CheckRun> {
  const res = await labnet.waitingClient.POST("/v1/labs/{labId}/checks", {
    params: { path: { labId: name } },
    body: instances ? { instances } : {},
  });
  expect(res.response.status, JSON.stringify(res.error)).toBe(200);
  if (!res.data) {
    throw new Error("no run");
  }
  expect(res.data.state).toBe("done");
  return res.data;
}

function outcome(run: CheckRun, student: string, check: string) {
  return run.results.find((r) => r.student === student)?.checks.find((c) => c.name === check);
}

describe(`seed 001 exercise 2 for ${STUDENTS} students`, () => {
  const students = Array.from({ length: STUDENTS }, (_, i) => `s${String(i + 1).padStart(2, "0")}`);
  const solved = students.slice(0, Math.ceil(STUDENTS / 3)); // 10 of 30

  it("provisions with one call: every instance ready, with the template's names and addresses", async () => {
    const res = await labnet.waitingClient.POST("/v1/labs", {
      body: { name: "ex2", template: "builtin:seed-001-ex2", count: STUDENTS },
    });
    expect([201, 202], JSON.stringify(res.error)).toContain(res.response.status);
    const lab = await waitReady("ex2");
    expect(lab.summary).toMatchObject({ total: STUDENTS, ready: STUDENTS, failed: 0 });
    const addresses = new Set(
      lab.instances.map((i) => JSON.stringify(i.nodes.map((n) => [n.name, n.addresses]).sort())),
    );
    expect(addresses.size).toBe(1);
  });

  it("before the solution, app_container does not reach web_container.app anywhere, with evidence", async () => {
    const run = await runChecks("ex2");
    for (const student of students) {
      const check = outcome(run, student, APP_REACHES_WEB);
      expect(check?.passed, JSON.stringify(check)).toBe(false);
      expect(check?.evidence?.command).toContain("ping");
      expect(check?.evidence?.output.length).toBeGreaterThan(0);
    }
  });

  it("after solve on some, exactly those pass", async () => {
    const res = await labnet.client.POST("/v1/labs/{labId}/solve", {
      params: { path: { labId: "ex2" } },
      body: { instances: solved },
    });
    expect(res.response.status, JSON.stringify(res.error)).toBe(202);
    await waitReady("ex2");
    const run = await eventually(
      async () => {
        const attempt = await runChecks("ex2");
        return solved.every((s) => outcome(attempt, s, APP_REACHES_WEB)?.passed) ? attempt : undefined;
      },
      30_000,
      "the solved instances to pass",
    );
    for (const student of students) {
      expect(outcome(run, student, APP_REACHES_WEB)?.passed, student).toBe(solved.includes(student));
    }
    const lab = await getLab("ex2");
    const first = lab.instances.find((i) => i.student === students[0]);
    expect(first?.lastCheck?.runId).toBe(run.id);
  });

  it("a node of one student reaches nothing of another's", async () => {
    const lab = await getLab("ex2");
    const [a, b] = [lab.instances[0], lab.instances[1]];
    const nodeOf = async (instance: typeof a, name: string) => {
      const id = instance?.nodes.find((n) => n.name === name)?.id ?? "";
      const res = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: id } } });
      return netnsOf(res.data?.sandboxKey);
    };
    const from = await nodeOf(a, "app_container");
    for (const machine of b?.machines ?? []) {
      expect(await ping(from, machine.address ?? "", { timeoutSec: 1 })).toBe(false);
    }
  });

  it("reset puts one instance back to the start, the others untouched", async () => {
    const student = solved[0] ?? "s01";
    const res = await labnet.client.POST("/v1/labs/{labId}/instances/{instanceId}/reset", {
      params: { path: { labId: "ex2", instanceId: student } },
    });
    expect(res.response.status, JSON.stringify(res.error)).toBe(202);
    await waitReady("ex2");
    const run = await runChecks("ex2");
    expect(outcome(run, student, APP_REACHES_WEB)?.passed).toBe(false);
    for (const other of solved.slice(1)) {
      expect(outcome(run, other, APP_REACHES_WEB)?.passed).toBe(true);
    }
  });

  it("teardown leaves nothing on the host", async () => {
    const res = await labnet.waitingClient.DELETE("/v1/labs/{labId}", { params: { path: { labId: "ex2" } } });
    expect([202, 204]).toContain(res.response.status);
    await eventually(
      async () =>
        (await labnet.client.GET("/v1/labs/{labId}", { params: { path: { labId: "ex2" } } })).response
          .status === 404
          ? true
          : undefined,
      60_000,
      "the lab to be gone",
    );
    const left = (await listNetns(host.hostNetns)).filter((n) => n !== host.hostNetns);
    expect(left).toEqual([]);
  });
});

describe("a lab's life around its executor and its TTL", () => {
  it("an instance recorded while the executor was down completes after it returns, and retry rebuilds it alone", async () => {
    await executor.kill();
    const res = await labnet.client.POST("/v1/labs", {
      body: { name: "down", template: "builtin:seed-001-ex1", count: 2 },
    });
    expect(res.response.status, JSON.stringify(res.error)).toBe(202);
    expect(res.data?.summary.provisioning).toBe(2);
    // Reconciles every 2 s from here on (the drift test below waits for them).
    executor = labnet.startExecutor(host.hostNetns, { LABNET_RECONCILE_MS: "2000" });
    const retried = await labnet.client.POST("/v1/labs/{labId}/instances/{instanceId}/retry", {
      params: { path: { labId: "down", instanceId: "s02" } },
    });
    expect(retried.response.status, JSON.stringify(retried.error)).toBe(202);
    const lab = await waitReady("down");
    expect(lab.instances.map((i) => [i.student, i.generation])).toEqual([
      ["s01", 1],
      ["s02", 2],
    ]);
    await labnet.waitingClient.DELETE("/v1/labs/{labId}", { params: { path: { labId: "down" } } });
  });

  it("is torn down when its TTL has passed", async () => {
    const res = await labnet.client.POST("/v1/labs", {
      body: { name: "ttl", template: "builtin:seed-001-ex1", count: 1, ttlSeconds: 1 },
    });
    expect(res.response.status, JSON.stringify(res.error)).toBe(202);
    await eventually(
      async () =>
        (await labnet.client.GET("/v1/labs/{labId}", { params: { path: { labId: "ttl" } } })).response
          .status === 404
          ? true
          : undefined,
      60_000,
      "the expired lab to be gone",
    );
    await eventually(
      async () =>
        (await listNetns(host.hostNetns)).filter((n) => n !== host.hostNetns).length === 0 ? true : undefined,
      30_000,
      "its namespaces to be gone",
    );
  });

  it("a student's change is shown as drift, not undone; reset restores the start", async () => {
    await labnet.waitingClient.POST("/v1/labs", {
      body: { name: "drift", template: "builtin:seed-001-ex2", count: 1 },
    });
    const lab = await waitReady("drift");
    const app = lab.instances[0]?.nodes.find((n) => n.name === "app_container");
    const node = await labnet.client.GET("/v1/nodes/{nodeId}", {
      params: { path: { nodeId: app?.id ?? "" } },
    });
    const netns = netnsOf(node.data?.sandboxKey);
    // The student flushes app_container's address.
    await runCommandOrThrow(["ip", "-n", netns, "addr", "flush", "dev", "eth0"]);
    const drifted = await eventually(
      async () => {
        const current = await getLab("drift");
        const changes = current.instances[0]?.machines.flatMap((m) => m.drift?.changes ?? []) ?? [];
        return changes.some((c) => c.includes("addr replace")) ? changes : undefined;
      },
      20_000,
      "the drift to be reported",
    );
    expect(drifted.join("\n")).toContain(`${netns}: addr replace ${app?.addresses.app}`);
    // Reconciles went by and the student's change stands.
    const addr = await runCommandOrThrow(["ip", "-n", netns, "-4", "addr", "show", "dev", "eth0"]);
    expect(addr.stdout).not.toContain("inet ");
    await labnet.client.POST("/v1/labs/{labId}/instances/{instanceId}/reset", {
      params: { path: { labId: "drift", instanceId: "s01" } },
    });
    const reset = await waitReady("drift");
    expect(reset.instances[0]?.generation).toBe(2);
    expect(reset.instances[0]?.machines.every((m) => m.drift === null)).toBe(true);
    await labnet.waitingClient.DELETE("/v1/labs/{labId}", { params: { path: { labId: "drift" } } });
  });
});

describe("students with their own tokens", () => {
  it("a student does the exercise with their token, sees it graded, and reaches nothing of a classmate's", async () => {
    const created = await labnet.client.POST("/v1/labs", {
      body: { name: "tok", template: "builtin:seed-001-ex2", count: 2, studentTokens: {} },
    });
    expect(created.response.status, JSON.stringify(created.error)).toBe(202);
    const tokens = created.data?.studentTokens ?? [];
    expect(tokens.map((t) => t.student)).toEqual(["s01", "s02"]);
    const lab = await waitReady("tok");
    const as = (secret: string) =>
      createLabnetClient({
        baseUrl: "http://labnet.test",
        token: secret,
        fetch: (request: Request) => labnet.app.fetch(request),
        headers: { prefer: "wait=60" },
      });
    const s01 = as(tokens[0]?.token.secret ?? "");
    const s02 = as(tokens[1]?.token.secret ?? "");

    // `docker network connect app web_container`, by the names the seed uses, on s01's own machine.
    const connected = await s01.POST("/v1/networks/{networkId}/connect", {
      params: { path: { networkId: "app" } },
      body: { node: "web_container" },
    });
    expect(connected.response.status, JSON.stringify(connected.error)).toBeLessThan(300);
    // Real packets, asked for with the student's token.
    const pinged = await s01.POST("/v1/nodes/{nodeId}/exec", {
      params: { path: { nodeId: "app_container" } },
      body: { argv: ["ping", "-c", "1", "-W", "2", "web_container.app"] },
    });
    const result = pinged.data as { exitCode: number | null } | undefined;
    expect(result?.exitCode, JSON.stringify(pinged.data ?? pinged.error)).toBe(0);

    const mine = await s01.POST("/v1/labs/{labId}/checks", { params: { path: { labId: "tok" } }, body: {} });
    expect(mine.response.status, JSON.stringify(mine.error)).toBe(200);
    expect(mine.data?.results.map((r) => r.student)).toEqual(["s01"]);
    expect(mine.data && outcome(mine.data, "s01", APP_REACHES_WEB)?.passed).toBe(true);
    const theirs = await s02.POST("/v1/labs/{labId}/checks", {
      params: { path: { labId: "tok" } },
      body: {},
    });
    expect(theirs.data && outcome(theirs.data, "s02", APP_REACHES_WEB)?.passed).toBe(false);

    // s02 cannot reach s01's node, by id, even to exec in it.
    const s01Node = lab.instances
      .find((i) => i.student === "s01")
      ?.nodes.find((n) => n.name === "app_container");
    const exec = await s02.POST("/v1/nodes/{nodeId}/exec", {
      params: { path: { nodeId: s01Node?.id ?? "" } },
      body: { argv: ["ip", "addr", "show"] },
    });
    expect(exec.response.status).toBe(404);
    await labnet.waitingClient.DELETE("/v1/labs/{labId}", { params: { path: { labId: "tok" } } });
    // The students' tokens went with their instances.
    expect((await s01.GET("/v1/whoami")).response.status).toBe(401);
  });
});
