/**
 * The `labnet` CLI (issue 14) against the gateway in process (no executor: kernel work stays
 * queued, so changes run with `--wait 0`): docker-like flags become the contract's bodies,
 * `-o json|yaml|table`, problems as one sentence with exit code 1, usage errors exit 2; and
 * the real executable over HTTP, configured by LABNET_URL / LABNET_TOKEN and by a config file.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { OperationTimeoutError, waitForOperation } from "@labnet/api";
import { settleOperations } from "@labnet/commands";
import {
  failOperation,
  getOperation,
  latestOperationFor,
  schema,
  startOperations,
  succeedOperations,
} from "@labnet/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type CliRun, runLabnet, serveOnLoopback, spawnLabnet } from "../helpers/cli";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { registerTestHost } from "../helpers/test-host";

let labnet: TestLabnet;
let home: string;

beforeAll(async () => {
  labnet = await startTestLabnet();
  await registerTestHost(labnet.db, { name: "cli-lab", netnsPrefix: "cl-" });
  home = await mkdtemp(path.join(tmpdir(), "labnet-cli-"));
});

afterAll(async () => {
  await labnet?.stop();
  if (home) {
    await rm(home, { recursive: true, force: true });
  }
});

/** A loopback port nothing listens on (the OS's pick, closed again). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `labnet …` in process, authenticated as the test's admin through LABNET_TOKEN. */
function labnetCli(...argv: string[]): Promise<CliRun> {
  return runLabnet(argv, {
    fetch: (request) => labnet.app.fetch(request),
    env: { LABNET_URL: "http://labnet.test", LABNET_TOKEN: labnet.adminToken },
    home,
  });
}

function ok(run: CliRun): CliRun {
  expect(run.stderr, run.stdout).toBe("");
  expect(run.code).toBe(0);
  return run;
}

describe("labnet network", () => {
  it("creates a network from docker's flags and prints its id", async () => {
    const run = ok(
      await labnetCli(
        "network",
        "create",
        "my-net",
        "--subnet",
        "172.28.0.0/16",
        "--gateway",
        "172.28.0.254",
        "--ip-range",
        "172.28.5.0/24",
        "--opt",
        "mtu=1400",
        "--label",
        "course=net101",
        "--wait",
        "0",
      ),
    );
    expect(run.stdout).toMatch(/^net_[a-z0-9]+\n$/);
    const res = await labnet.client.GET("/v1/networks/{networkId}", {
      params: { path: { networkId: "my-net" } },
    });
    expect(res.data?.ipam.configs[0]).toMatchObject({
      subnet: "172.28.0.0/16",
      gateway: "172.28.0.254",
      ipRange: "172.28.5.0/24",
    });
    expect(res.data?.options.mtu).toBe(1400);
    expect(res.data?.labels).toEqual({ course: "net101" });
  });

  it("lists networks as a table, JSON and YAML", async () => {
    const table = ok(await labnetCli("network", "ls"));
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+MACHINE\s+SUBNET\s+STATE$/);
    expect(rows.find((r) => r.includes(" my-net "))).toMatch(
      /my-net\s+bridge\s+cli-lab\s+172\.28\.0\.0\/16\s+pending/,
    );

    const json = JSON.parse(ok(await labnetCli("network", "ls", "-o", "json")).stdout);
    expect(json.items.map((n: { name: string }) => n.name)).toEqual(
      expect.arrayContaining(["bridge", "my-net"]),
    );
    const yaml = parse(ok(await labnetCli("-o", "yaml", "network", "ls", "-f", "name=my-net")).stdout);
    expect(yaml.items.map((n: { name: string }) => n.name)).toEqual(["my-net"]);
    expect(ok(await labnetCli("network", "ls", "-q", "-f", "name=my-net")).stdout).toMatch(/^net_\w+\n$/);
  });

  it("inspects as JSON by default", async () => {
    const run = ok(await labnetCli("network", "inspect", "my-net"));
    const [network] = JSON.parse(run.stdout);
    expect(network).toMatchObject({ name: "my-net", driver: "bridge" });
  });

  it("prints a refused request as one sentence from the problem document, exit code 1", async () => {
    const run = await labnetCli("network", "create", "bad-net", "--subnet", "172.29.0.0/33", "--wait", "0");
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.split("\n")).toHaveLength(2); // one line, then the end
    expect(run.stderr).toMatch(/^Error: .*172\.29\.0\.0\/33.*\.\n$/);
    expect(run.stderr).toMatch(/subnet/);

    const missing = await labnetCli("network", "inspect", "nope");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^Error: .*nope.*\n$/);

    const overlap = await labnetCli("network", "create", "again", "--subnet", "172.28.1.0/24", "--wait", "0");
    expect(overlap.code).toBe(1);
    expect(overlap.stderr).toMatch(/^Error: [^\n]+\n$/);
  });

  it("refuses flags that do not go together before asking the API, exit code 1; a bad flag value exits 2", async () => {
    const run = await labnetCli("network", "create", "x", "--gateway", "10.9.0.1", "--wait", "0");
    expect(run).toMatchObject({ code: 1, stdout: "" });
    expect(run.stderr).toBe("Error: --gateway and --ip-range go with a --subnet each, in the same order.\n");
    const usage = await labnetCli("network", "create", "x", "-d", "vlan");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Allowed choices are bridge, macvlan, overlay/);
  });
});

describe("waiting for the kernel work", () => {
  async function operationOfNetwork(name: string): Promise<string> {
    for (;;) {
      const res = await labnet.client.GET("/v1/networks/{networkId}", {
        params: { path: { networkId: name } },
      });
      if (res.data?.operation) {
        return res.data.operation.id;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("waitForOperation reads an operation until it is final, showing each state it saw", async () => {
    const created = await labnet.client.POST("/v1/networks", { body: { name: "waited-ok" } });
    const id = created.data?.operation?.id ?? "";
    const seen: string[] = [];
    const waiting = waitForOperation(labnet.client, id, {
      intervalMs: 20,
      onUpdate: (op) => seen.push(op.state),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await startOperations(labnet.db, [id]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await succeedOperations(labnet.db, [id]);
    const done = await waiting;
    expect(done).toMatchObject({ id, state: "succeeded", progress: { done: 1, total: 1 } });
    expect(seen[0]).toBe("queued");
    expect(seen).toContain("running");
    expect(seen.at(-1)).toBe("succeeded");
  });

  it("operation wait shows each count of a machine's build on stderr, then the table", async () => {
    const created = await labnet.request("POST", "/v1/machines", {
      body: { name: "cli-m1", host: "cli-lab" },
    });
    expect(created.status).toBe(202);
    const machineId = ((await created.json()) as { id: string }).id;
    const id = created.headers.get("operation-location")?.split("/").at(-1) ?? "";
    const [machine] = await labnet.db.select().from(schema.hosts).where(eq(schema.hosts.id, machineId));
    const uplinkOp = (await latestOperationFor(labnet.db, [machine?.uplinkNodeId ?? ""]))
      .values()
      .next().value;
    const converge = async (opId: string) => {
      await startOperations(labnet.db, [opId]);
      const row = await getOperation(labnet.db, opId);
      await settleOperations(labnet.db, { succeeded: row ? [row] : [], failed: [], retrying: [] });
    };
    // Its reads come 0.2, 0.6, 1.4, 3 s... after the start: each step lands between two of them.
    const waiting = labnetCli("operation", "wait", id, "--wait", "20");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await converge(uplinkOp?.id ?? "");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await converge(id);
    const run = await waiting;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.trim().split("\n")).toEqual([
      `${id}: queued, 0/2 steps, waiting for namespace`,
      `${id}: queued, 1/2 steps, waiting for converge`,
      `${id}: succeeded, 2/2 steps`,
    ]);
    expect(run.stdout).toMatch(
      new RegExp(`^${id}\\s+network\\.ensure\\s+.*succeeded\\s+2/2 steps\\s+1`, "m"),
    );
  });

  it("waitForOperation gives up after its timeout with the last state", async () => {
    const created = await labnet.client.POST("/v1/networks", { body: { name: "waited-long" } });
    const id = created.data?.operation?.id ?? "";
    const error = await waitForOperation(labnet.client, id, { timeoutMs: 300, intervalMs: 50 }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(OperationTimeoutError);
    expect(error.operation).toMatchObject({ id, state: "queued" });
  });

  it("the CLI prints the problem of an operation that failed while it waited, exit code 1", async () => {
    const running = labnetCli("network", "create", "waited-bad", "--wait", "20");
    const id = await operationOfNetwork("waited-bad");
    await failOperation(labnet.db, id, {
      type: "https://labnet.dev/problems/kernel-operation-failed",
      title: "Kernel operation failed",
      status: 500,
      detail: "ip link add lnbr-x type bridge: File exists",
      code: "KERNEL_OPERATION_FAILED",
    });
    const run = await running;
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "Error: network waited-bad failed: ip link add lnbr-x type bridge: File exists.\n",
    );
  });
});

describe("labnet node", () => {
  it("runs nodes with --network, --ip, --network-alias, --dns and -p, and `node port` prints docker's lines", async () => {
    ok(await labnetCli("node", "run", "--network", "my-net", "--name", "centos1", "--wait", "0"));
    ok(
      await labnetCli(
        "node",
        "run",
        "--network",
        "my-net",
        "--ip",
        "172.28.5.50",
        "--network-alias",
        "web",
        "--dns",
        "192.0.2.53",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1:8443:443",
        "centos2",
        "--wait",
        "0",
      ),
    );
    const node = await labnet.client.GET("/v1/nodes/{nodeId}", { params: { path: { nodeId: "centos2" } } });
    expect(node.data?.networkSettings.networks["my-net"]).toMatchObject({
      ipAddress: "172.28.5.50",
      aliases: ["web"],
    });
    expect(node.data?.dns?.servers).toEqual(["192.0.2.53"]);

    expect(ok(await labnetCli("node", "port", "centos2")).stdout).toBe(
      "80/tcp -> 0.0.0.0:8080\n443/tcp -> 127.0.0.1:8443\n",
    );
    expect(ok(await labnetCli("node", "port", "centos2", "80")).stdout).toBe("80/tcp -> 0.0.0.0:8080\n");
    const none = await labnetCli("node", "port", "centos2", "81/udp");
    expect(none).toMatchObject({ code: 1, stderr: "Error: no public port 81/udp published.\n" });
  });

  it("lists nodes with their addresses and ports", async () => {
    const run = ok(await labnetCli("node", "ls", "-f", "network=my-net"));
    const row = run.stdout.split("\n").find((line) => line.includes(" centos2 "));
    expect(row).toMatch(/my-net=172\.28\.5\.50/);
    expect(row).toMatch(/0\.0\.0\.0:8080->80\/tcp, 127\.0\.0\.1:8443->443\/tcp/);
  });

  it("answers a port already taken with the ledger's sentence", async () => {
    const run = await labnetCli(
      "node",
      "run",
      "--network",
      "my-net",
      "-p",
      "8080:80",
      "centos3",
      "--wait",
      "0",
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Error: [^\n]*8080[^\n]*\n$/);
  });

  it("creates a node without building it (docker create) and starts it", async () => {
    const created = ok(await labnetCli("node", "create", "--network", "my-net", "--name", "centos9"));
    expect(created.stdout).toMatch(/^nod_[a-z2-7]{16}\n$/);
    const recorded = await labnet.client.GET("/v1/nodes/{nodeId}", {
      params: { path: { nodeId: "centos9" } },
    });
    expect(recorded.data?.state).toBe("created");
    expect(recorded.data?.operation).toBeUndefined();
    expect(ok(await labnetCli("node", "start", "centos9", "--wait", "0")).stdout).toBe("centos9\n");
    const started = await labnet.client.GET("/v1/nodes/{nodeId}", {
      params: { path: { nodeId: "centos9" } },
    });
    expect(started.data?.state).toBe("pending");
    ok(await labnetCli("node", "rm", "centos9", "--wait", "0"));
  });

  it("removes nodes and prints their names", async () => {
    const run = ok(await labnetCli("node", "rm", "centos1", "--wait", "0"));
    expect(run.stdout).toBe("centos1\n");
  });
});

describe("labnet lab", () => {
  it("creates a lab named after its template, lists it, shows the instructor's table and removes it", async () => {
    const run = ok(
      await labnetCli(
        "lab",
        "create",
        "--template",
        "builtin:seed-000",
        "--students",
        "alice,bob",
        "--detach",
      ),
    );
    const [header, ...rows] = run.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^STUDENT\s+STATE\s+MACHINES\s+NODES\s+PORTS\s+CHECKS\s+PROBLEM$/);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(["alice", "bob"]);
    const labs = JSON.parse(ok(await labnetCli("lab", "ls", "-o", "json")).stdout);
    const name = labs.items[0].name as string;
    expect(name).toMatch(/^seed-000-[0-9a-f]{4}$/);
    expect(ok(await labnetCli("lab", "ls")).stdout).toMatch(
      new RegExp(`${name}\\s+builtin:seed-000@\\d+\\s+active\\s+0/2 ready, 2 provisioning`),
    );
    expect(ok(await labnetCli("lab", "rm", name, "--wait", "0")).stdout).toBe(`${name}\n`);
  });

  it("counts students with --students N", async () => {
    const run = ok(
      await labnetCli(
        "lab",
        "create",
        "five",
        "--template",
        "builtin:seed-000",
        "--students",
        "5",
        "--detach",
        "-o",
        "json",
      ),
    );
    const lab = JSON.parse(run.stdout);
    expect(lab.instances.map((i: { student: string }) => i.student)).toEqual([
      "s01",
      "s02",
      "s03",
      "s04",
      "s05",
    ]);
    ok(await labnetCli("lab", "rm", "five", "--wait", "0"));
  });

  it("names an unknown template in one sentence", async () => {
    const run = await labnetCli("lab", "create", "x", "--template", "builtin:nope", "--students", "2");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Error: [^\n]*nope[^\n]*\n$/);
  });
});

describe("the labnet executable over HTTP", () => {
  let server: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    server = await serveOnLoopback((request) => labnet.app.fetch(request));
  });

  afterAll(async () => {
    await server?.close();
  });

  it("takes LABNET_URL (as npm start prints it, with /v1) and LABNET_TOKEN from the environment", async () => {
    const run = await spawnLabnet(["network", "ls", "-q", "-f", "label=course=net101"], {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        LABNET_URL: `${server.url}/v1`,
        LABNET_TOKEN: labnet.adminToken,
      },
    });
    expect(run.stderr).toBe("");
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/^net_\w+\n$/);
  });

  it("reads the config file that `labnet config set` writes (owner-only), and flags win over it", async () => {
    const env = { PATH: process.env.PATH, HOME: home };
    expect((await spawnLabnet(["config", "set", "url", server.url], { env })).code).toBe(0);
    expect((await spawnLabnet(["config", "set", "token", labnet.adminToken], { env })).code).toBe(0);
    const file = path.join(home, ".config", "labnet", "config.yaml");
    expect(parse(await readFile(file, "utf8"))).toEqual({ url: server.url, token: labnet.adminToken });
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const run = await spawnLabnet(["node", "ls", "-o", "json"], { env });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout).items.map((n: { name: string }) => n.name)).toContain("centos2");

    const wrongToken = await spawnLabnet(["node", "ls", "--token", "lnt_wrong"], { env });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toMatch(/^Error: [^\n]*token[^\n]*\n$/);
  });

  it("names a broken config file", async () => {
    const file = path.join(home, "broken.yaml");
    await writeFile(file, "url: [unclosed\n");
    const run = await spawnLabnet(["network", "ls"], {
      env: { PATH: process.env.PATH, HOME: home, LABNET_CONFIG: file },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^Error: the config file ${file} is not valid YAML`));
  });

  it("says where it tried when nothing answers", async () => {
    const port = await closedPort();
    const run = await spawnLabnet(["network", "ls"], {
      env: { PATH: process.env.PATH, HOME: home, LABNET_URL: `http://127.0.0.1:${port}` },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `Error: cannot reach the Labnet API at http://127.0.0.1:${port} (ECONNREFUSED); is it running? Set LABNET_URL or --url to point elsewhere.\n`,
    );
  });

  it("prints bash and zsh completion scripts that call back into labnet", async () => {
    const env = { PATH: process.env.PATH, HOME: home };
    const bash = await spawnLabnet(["complete", "bash"], { env });
    expect(bash.code).toBe(0);
    expect(bash.stdout).toMatch(/complete .*labnet/);
    const zsh = await spawnLabnet(["complete", "zsh"], { env });
    expect(zsh.stdout).toMatch(/#compdef labnet/);
    const answer = await spawnLabnet(["complete", "--", "network", ""], { env });
    expect(answer.stdout).toMatch(/^create\b/m);
    expect(answer.stdout).toMatch(/^inspect\b/m);
  });
});
