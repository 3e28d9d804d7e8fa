/**
 * Issue 14's acceptance for the CLI, as a person sees it: the real `labnet` executable against a
 * gateway served over HTTP and a real executor in a sim host. The docker-like sequence (network
 * create, node run, node port), then `labnet lab create --template builtin:seed-000 --students 5`
 * in a tmux pane: the screen shows a live progress bar (the lab's `n/5 ready` and a bar per
 * instance) and then the instructor's table; `labnet lab check` shows the pass/fail matrix.
 * Meanwhile the executor's metrics (operations, converge phases) appear in the gateway's /metrics.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABNET_BIN, serveOnLoopback, spawnLabnet } from "../helpers/cli";
import { eventually } from "../helpers/kernel-state";
import type { TestLabnet } from "../helpers/labnet";
import type { SimHost } from "../helpers/netns";
import { parseMetrics } from "../helpers/prometheus";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";
import { startTestTerminal, type TestTerminal } from "../helpers/tmux";

let labnet: TestLabnet;
let host: SimHost;
let server: { url: string; close(): Promise<void> };
let terminal: TestTerminal;
let env: Record<string, string>;

beforeAll(async () => {
  ({ labnet, host } = await startSimHostLabnet("lc", 90));
  server = await serveOnLoopback((request) => labnet.app.fetch(request));
  terminal = startTestTerminal(`${inject("runPrefix")}cli`);
  env = { LABNET_URL: `${server.url}/v1`, LABNET_TOKEN: labnet.adminToken };
});

afterAll(async () => {
  await terminal?.stop();
  await server?.close();
  await labnet?.stop();
  await host?.destroy();
});

const labnetCli = (...argv: string[]) =>
  spawnLabnet(argv, {
    env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent", ...env },
    timeoutMs: 90_000,
  });

/**
 * Every screen of a pane until its command exits (a capture every 150 ms), and its exit status
 * (`null` when tmux did not collect it; the screen then says how it ended).
 */
async function watch(pane: string, timeoutMs: number): Promise<{ screens: string[]; status: number | null }> {
  const screens: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await terminal.exitStatus(pane);
    const screen = await terminal.screen(pane);
    if (screens.at(-1) !== screen) {
      screens.push(screen);
    }
    if (status !== undefined) {
      return { screens, status };
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${pane} still running after ${timeoutMs} ms (${await terminal.describe(pane)}); last screen:\n${screen}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** Exit status 0 when tmux collected it; in any case no error on the screen. */
function expectSucceeded(status: number | null, screen: string | undefined): void {
  if (status !== null) {
    expect(status, screen).toBe(0);
  }
  expect(screen).not.toMatch(/^Error: /m);
}

/** Keeps what the person saw beside the run's logs. */
async function keep(name: string, screens: string[]): Promise<void> {
  await writeFile(path.join(inject("runDir"), "logs", `${name}.screens.txt`), screens.join("\n\n-----\n\n"));
}

describe("labnet, as the acceptance of issue 14 types it", () => {
  it("network create, node run (twice), node port prints docker's line", async () => {
    const net = await labnetCli("network", "create", "my-net");
    expect(net.stderr).toBe("");
    expect(net.stdout).toMatch(/^net_\w+\n$/);
    const one = await labnetCli("node", "run", "--network", "my-net", "--name", "centos1");
    expect(one.stderr).toBe("");
    const two = await labnetCli("node", "run", "--network", "my-net", "-p", "8080:80", "centos2");
    expect(two.stderr).toBe("");
    const nodes = await labnetCli("node", "ls", "-f", "network=my-net");
    expect(nodes.stdout).toMatch(/centos1\s+\S+\s+my-net\s+my-net=172\.\d+\.0\.2\s+ready/);
    expect(nodes.stdout).toMatch(/centos2 .*0\.0\.0\.0:8080->80\/tcp\s+ready/);

    const pane = await terminal.run("port", [process.execPath, LABNET_BIN, "node", "port", "centos2"], env);
    const { screens, status } = await watch(pane, 60_000);
    expectSucceeded(status, screens.at(-1));
    await keep("node-port", screens);
    expect(screens.at(-1)?.split("\n")[0], screens.join("\n-----\n")).toBe("80/tcp -> 0.0.0.0:8080");
  });

  it("lab create shows a live progress bar per instance, then the table; lab check the matrix; lab rm", async () => {
    const pane = await terminal.run(
      "lab",
      [
        process.execPath,
        LABNET_BIN,
        "lab",
        "create",
        "class",
        "--template",
        "builtin:seed-000",
        "--students",
        "5",
      ],
      env,
    );
    const { screens, status } = await watch(pane, 150_000);
    await keep("lab-create", screens);
    expectSucceeded(status, screens.at(-1));

    // While it was building: the lab's bar with its count, and one bar per student.
    const building = screens.filter((s) => /^lab\s.*\d\/5 ready/m.test(s) && !s.includes("STUDENT"));
    expect(building.length, screens.join("\n-----\n")).toBeGreaterThan(0);
    const partial = building.find((s) => /^lab\s.*[0-4]\/5 ready/m.test(s));
    expect(partial, "a screen with the lab part built").toBeDefined();
    for (const student of ["s01", "s02", "s03", "s04", "s05"]) {
      expect(partial).toMatch(new RegExp(`^${student}\\s+.*\\d+/\\d+ (provisioning|ready)`, "m"));
    }

    // At the end: the bar full, then a row per student, ready, with its machine and nodes.
    const last = screens.at(-1) ?? "";
    expect(last).toMatch(/^lab\s.*5\/5 ready$/m);
    expect(last).toMatch(/^STUDENT\s+STATE\s+MACHINES\s+NODES/m);
    for (const student of ["s01", "s02", "s03", "s04", "s05"]) {
      expect(last).toMatch(new RegExp(`^${student}\\s+ready\\s+host=\\S+\\s+centos1=172\\.18\\.0\\.2`, "m"));
    }

    // The executor's own numbers reach the gateway's /metrics (published every heartbeat).
    const [labHost] = (await labnet.client.GET("/v1/hosts")).data?.items ?? [];
    const at = { host: labHost?.name ?? "?" };
    const metrics = await eventually(
      async () => {
        const res = await fetch(`${server.url}/metrics`, {
          headers: { authorization: `Bearer ${labnet.adminToken}` },
        });
        const parsed = parseMetrics(await res.text());
        // Published every heartbeat: wait for one taken after the lab's ten nodes were built.
        const nodesBuilt = parsed.count("labnet_operation_duration_seconds", {
          ...at,
          kind: "node.ensure",
          outcome: "succeeded",
        });
        return parsed.value("labnet_operations_total", { ...at, outcome: "succeeded" }) > 0 &&
          nodesBuilt >= 10
          ? parsed
          : undefined;
      },
      20_000,
      "the executor's metrics in /metrics",
    );
    expect(metrics.value("labnet_machines", at)).toBe(5);
    expect(
      metrics.count("labnet_converge_phase_duration_seconds", { ...at, phase: "apply" }),
    ).toBeGreaterThan(0);
    expect(
      metrics.count("labnet_operation_duration_seconds", {
        ...at,
        kind: "node.ensure",
        outcome: "succeeded",
      }),
    ).toBeGreaterThanOrEqual(10);
    expect(metrics.value("labnet_executor_heartbeat_age_seconds", at)).toBeLessThan(10);

    const check = await terminal.run("check", [process.execPath, LABNET_BIN, "lab", "check", "class"], env);
    const graded = await watch(check, 120_000);
    await keep("lab-check", graded.screens);
    const matrix = graded.screens.at(-1) ?? "";
    expectSucceeded(graded.status, matrix);
    expect(matrix).toMatch(/^STUDENT\s+1\s+2\s+3\s+4\s+5\s+PASSED$/m);
    // Before the solution centos2 does not exist: its checks fail, the isolation one passes.
    expect(matrix).toMatch(/^s01\s+FAIL\s+FAIL\s+FAIL\s+FAIL\s+pass\s+1\/5$/m);
    expect(matrix).toMatch(/^5\s+centos1 cannot reach web on the default bridge$/m);
    expect(matrix).toMatch(/^5 passed, 20 failed$/m);

    const removed = await labnetCli("lab", "rm", "class", "--wait", "120");
    expect(removed).toMatchObject({ code: 0, stdout: "class\n" });
  }, 400_000);
});
