/**
 * Issue 12's acceptance: the seeds' docker commands, typed as the seeds write them, with the real
 * docker CLI (and dockerode as a second client) against Labnet's Engine API facade of one machine
 * (`DOCKER_HOST=tcp://127.0.0.1:<port>/docker/<machine>`, the token in DOCKER_CUSTOM_HEADERS), on
 * two virtual machines bdc01 and bdc02 of one LAN built by a real executor in sim host 95. Pings
 * and name lookups are real packets inside the nodes (`docker exec` through the allow-list).
 */
import { PassThrough } from "node:stream";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DOCKER_BIN, type DockerGateway, requireDockerCli, serveDockerGateway } from "../helpers/docker";
import type { TestLabnet } from "../helpers/labnet";
import { listNetns, netnsOf, type SimHost } from "../helpers/netns";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";
import { startTestTerminal } from "../helpers/tmux";

let labnet: TestLabnet;
let host: SimHost;
let gateway: DockerGateway;
let docker: DockerGateway["docker"];
const BDC01 = "dk-bdc01";
const BDC02 = "dk-bdc02";

beforeAll(async () => {
  requireDockerCli();
  ({ labnet, host } = await startSimHostLabnet("dk", 95));
  for (const [name, hostname, address] of [
    [BDC01, "bdc01", "10.0.0.11"],
    [BDC02, "bdc02", "10.0.0.12"],
  ] as const) {
    const res = await labnet.waitingClient.POST("/v1/machines", {
      body: { name, hostname, lan: "dk-lan", address },
    });
    expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  }
  gateway = await serveDockerGateway((request) => labnet.app.fetch(request), {
    token: labnet.adminToken,
    machine: BDC01,
  });
  docker = gateway.docker;
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await labnet?.stop();
  await host?.destroy();
});

/** A docker command that must succeed; its stdout. */
async function ok(argv: string[], machine = BDC01): Promise<string> {
  const run = await docker(argv, { machine });
  expect(run.code, `docker ${argv.join(" ")}: ${run.stderr}`).toBe(0);
  return run.stdout;
}

describe("seed 000 on bdc01: my-net, centos1 and centos2", () => {
  it("network create, run -d twice, ps shows the PORTS column, port prints docker's line", async () => {
    expect(await ok(["network", "create", "-d", "bridge", "my-net"])).toMatch(/^net_[a-z2-7]{16}\n$/);
    expect(await ok(["run", "-d", "--name", "centos1", "--network", "my-net", "centos:7.3.1611"])).toMatch(
      /^nod_[a-z2-7]{16}\n$/,
    );
    await ok(["run", "-d", "--name", "centos2", "--network", "my-net", "-p", "8080:80", "centos:7.3.1611"]);
    const ps = await ok(["ps"]);
    expect(ps).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
    expect(ps).toMatch(/centos:7\.3\.1611 .*Up .*0\.0\.0\.0:8080->80\/tcp\s+centos2$/m);
    expect(ps).toMatch(/centos:7\.3\.1611 .*Up .*\s+centos1$/m);
    expect(await ok(["port", "centos2"])).toBe("80/tcp -> 0.0.0.0:8080\n");
    expect(await ok(["port", "centos2", "80"])).toBe("0.0.0.0:8080\n");
  });

  it("docker exec centos1 ping -c1 centos2 answers from centos2.my-net", async () => {
    const address = (
      await ok(["inspect", "-f", '{{(index .NetworkSettings.Networks "my-net").IPAddress}}', "centos2"])
    ).trim();
    expect(address).toBe("172.18.0.3");
    const out = await ok(["exec", "centos1", "ping", "-c1", "centos2"]);
    expect(out).toContain("1 packets transmitted, 1 received");
    expect(out).toMatch(/from centos2\.my-net \(172\.18\.0\.3\)/);
    // With -t the stream comes raw (a TTY's), not multiplexed.
    expect(await ok(["exec", "-t", "centos1", "ping", "-c1", "centos2"])).toContain(
      "1 packets transmitted, 1 received",
    );
    // Off the allow list: an error, and nothing runs.
    const refused = await docker(["exec", "centos1", "cat", "/etc/shadow"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^Error response from daemon: Labnet runs only allow-listed diagnostics/);
    // The exit code is the command's.
    expect((await docker(["exec", "centos1", "ping", "-c1", "-W1", "172.18.0.99"])).code).toBe(1);
  });

  it("prints dockerd's messages with dockerd's exit codes", async () => {
    const duplicate = await docker(["network", "create", "my-net"]);
    expect(duplicate).toMatchObject({
      code: 1,
      stderr: "Error response from daemon: network with name my-net already exists\n",
    });
    const taken = await docker(["run", "-d", "--name", "centos3", "-p", "8080:80", "centos:7.3.1611"]);
    expect(taken.code).toBe(125);
    expect(taken.stderr).toContain("Bind for 0.0.0.0:8080 failed: port is already allocated");
    expect((await docker(["ps", "-a", "--format", "{{.Names}}"])).stdout).not.toContain("centos3");
    const unknown = await docker(["rm", "nosuch"]);
    expect(unknown).toMatchObject({
      code: 1,
      stderr: "Error response from daemon: No such container: nosuch\n",
    });
    const inspect = await docker(["network", "inspect", "nosuch"]);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr).toContain("network nosuch not found");
  });

  it("an interactive run says in one line that no shell is offered, and does not hang", async () => {
    const run = await docker(
      ["run", "--rm", "--name", "shell", "--network", "my-net", "centos:7.3.1611", "bash"],
      {
        timeoutMs: 40_000,
      },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^labnet: shell is a Labnet node: it has no shell or process to attach to .*\n$/,
    );
    // --rm: the node went when the run ended.
    expect(await ok(["ps", "-a", "--format", "{{.Names}}"])).not.toContain("shell");
  });
});

describe("docker create, start and rm on bdc01", () => {
  it("create builds nothing until start (ps -a only, Created); start builds it; rm refuses it running without -f", async () => {
    await ok(["create", "--name", "later1", "--network", "my-net", "centos:7.3.1611"]);
    expect(await ok(["ps", "--format", "{{.Names}}"])).not.toMatch(/^later1$/m);
    expect(await ok(["ps", "-a", "--filter", "name=later1", "--format", "{{.Names}} {{.Status}}"])).toBe(
      "later1 Created\n",
    );
    const state = ["inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.State.Pid}}", "later1"];
    expect(await ok(state)).toBe("created false 0\n");
    const netns = netnsOf((await ok(["inspect", "-f", "{{.NetworkSettings.SandboxKey}}", "later1"])).trim());
    const address = (
      await ok(["inspect", "-f", '{{(index .NetworkSettings.Networks "my-net").IPAddress}}', "later1"])
    ).trim();
    // Recorded (its address held), not built: no namespace, nothing answers at its address.
    expect(await listNetns()).not.toContain(netns);
    expect((await docker(["exec", "centos1", "ping", "-c1", "-W1", address])).code).toBe(1);

    expect(await ok(["start", "later1"])).toBe("later1\n");
    expect(await ok(state)).toBe("running true 0\n");
    expect(await listNetns()).toContain(netns);
    expect(await ok(["exec", "centos1", "ping", "-c1", "later1"])).toContain(
      "1 packets transmitted, 1 received",
    );
    expect(await ok(["ps", "--filter", "name=later1", "--format", "{{.Names}} {{.Status}}"])).toMatch(
      /^later1 Up /,
    );

    const rm = await docker(["rm", "later1"]);
    expect(rm).toMatchObject({
      code: 1,
      stderr:
        'Error response from daemon: cannot remove container "/later1": container is running: stop the container before removing or force remove\n',
    });
    expect(await ok(["exec", "centos1", "ping", "-c1", "later1"])).toContain("1 received");
    expect(await ok(["rm", "-f", "later1"])).toBe("later1\n");
    expect(await ok(["ps", "-a", "--format", "{{.Names}}"])).not.toMatch(/^later1$/m);
    // Never started: removed without -f, as dockerd removes a created container.
    await ok(["create", "--name", "later2", "centos:7.3.1611"]);
    expect(await ok(["rm", "later2"])).toBe("later2\n");
  });
});

describe("seed 001 exercise 2 on bdc01: web and app", () => {
  it("inspect shows web_container with its 02:42 MAC and /16 address; ping web_container.app only after connect", async () => {
    await ok(["network", "create", "web"]);
    await ok(["network", "create", "app"]);
    await ok(["run", "-itd", "--net=web", "--name", "web_container", "busybox"]);
    await ok(["run", "-itd", "--name", "app_container", "--net=app", "busybox"]);
    const [web] = JSON.parse(await ok(["network", "inspect", "web"])) as {
      Name: string;
      Driver: string;
      IPAM: { Config: { Subnet: string; Gateway: string }[] };
      Containers: Record<string, { Name: string; MacAddress: string; IPv4Address: string }>;
    }[];
    expect(web?.Driver).toBe("bridge");
    const subnet = web?.IPAM.Config[0]?.Subnet ?? "";
    expect(subnet).toMatch(/^172\.\d+\.0\.0\/16$/);
    const containers = Object.values(web?.Containers ?? {});
    expect(containers).toHaveLength(1);
    const [octet] = subnet.split(".").slice(1);
    expect(containers[0]).toEqual({
      Name: "web_container",
      EndpointID: expect.stringMatching(/^ep_/),
      MacAddress: `02:42:ac:${Number(octet).toString(16).padStart(2, "0")}:00:02`,
      IPv4Address: `172.${octet}.0.2/16`,
      IPv6Address: "",
    });

    expect(
      (await docker(["exec", "app_container", "ping", "-c1", "-W1", "web_container.app"])).code,
    ).not.toBe(0);
    expect(await ok(["network", "connect", "app", "web_container"])).toBe("");
    const out = await ok(["exec", "app_container", "ping", "-c1", "web_container.app"]);
    expect(out).toContain("1 packets transmitted, 1 received");
    const networks = JSON.parse(
      await ok(["inspect", "-f", "{{json .NetworkSettings.Networks}}", "web_container"]),
    );
    expect(Object.keys(networks).sort()).toEqual(["app", "web"]);
    await ok(["network", "disconnect", "app", "web_container"]);
    expect(
      (await docker(["exec", "app_container", "ping", "-c1", "-W1", "web_container.app"])).code,
    ).not.toBe(0);
  });
});

describe("seed 002 on bdc01 and bdc02: macvlan_1", () => {
  it("network create --driver macvlan on each, run --ip on each, ping across the LAN", async () => {
    for (const machine of [BDC01, BDC02]) {
      await ok(
        [
          "network",
          "create",
          "--driver",
          "macvlan",
          "--subnet=100.0.0.0/24",
          "--gateway=100.0.0.254",
          "-o",
          "parent=eth0",
          "macvlan_1",
        ],
        machine,
      );
    }
    // As the seed types it (attached, no name): the node is started and the run ends with one line.
    const one = await docker(
      ["run", "--network", "macvlan_1", "--ip", "100.0.0.1", "yyh/centos6.9:v1.0", "/bin/bash"],
      {
        machine: BDC01,
      },
    );
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    await ok(
      ["run", "-d", "--name", "mv2", "--network", "macvlan_1", "--ip", "100.0.0.2", "yyh/centos6.9:v1.0"],
      BDC02,
    );
    const name = (await ok(["ps", "--filter", "network=macvlan_1", "--format", "{{.Names}}"])).trim();
    expect(name).toMatch(/^[a-z]+_[a-z]+_\d+$/);
    const out = await ok(["exec", name, "ping", "-c1", "100.0.0.2"]);
    expect(out).toContain("1 packets transmitted, 1 received");
    const back = await ok(["exec", "mv2", "ping", "-c1", "100.0.0.1"], BDC02);
    expect(back).toContain("1 packets transmitted, 1 received");
    expect(
      (
        await ok(["network", "ls", "--filter", "driver=macvlan", "--format", "{{.Name}} {{.Scope}}"], BDC02)
      ).trim(),
    ).toBe("macvlan_1 local");
  });
});

describe("seed 002's overlay across bdc01 and bdc02", () => {
  it("created on one machine, listed on both (scope swarm), nodes on each reach each other", async () => {
    await ok([
      "network",
      "create",
      "-d",
      "overlay",
      "--subnet",
      "172.16.0.0/24",
      "--gateway",
      "172.16.0.254",
      "overlay",
    ]);
    expect(
      await ok(["network", "ls", "--filter", "driver=overlay", "--format", "{{.Name}} {{.Scope}}"], BDC02),
    ).toBe("overlay swarm\n");
    await ok(["run", "-d", "--network", "overlay", "--name", "ov1", "busybox"], BDC01);
    await ok(["run", "-d", "--network", "overlay", "--name", "ov2", "busybox"], BDC02);
    const address = (
      await ok(["inspect", "-f", "{{.NetworkSettings.Networks.overlay.IPAddress}}", "ov2"], BDC02)
    ).trim();
    expect(address).toMatch(/^172\.16\.0\.\d+$/);
    expect(await ok(["exec", "ov1", "ping", "-c1", address])).toContain("1 packets transmitted, 1 received");
    const [overlay] = JSON.parse(await ok(["network", "inspect", "overlay"])) as {
      Containers: Record<string, { Name: string }>;
    }[];
    // Each machine lists its own endpoints.
    expect(Object.values(overlay?.Containers ?? {}).map((c) => c.Name)).toEqual(["ov1"]);
    await ok(["rm", "-f", "ov1"]);
    await ok(["rm", "-f", "ov2"], BDC02);
  });
});

describe("seed 004 on bdc02: the four --net modes", () => {
  it("bridge, host, none and container: each as docker shows it", async () => {
    await ok(["run", "-d", "--net=bridge", "--name", "b1", "busybox"], BDC02);
    await ok(["run", "-d", "--net=host", "--name", "h1", "busybox"], BDC02);
    await ok(["run", "-d", "--net=none", "--name", "n1", "busybox"], BDC02);
    await ok(["run", "-d", "--net=container:b1", "--name", "c1", "busybox"], BDC02);
    const modes = await ok(["ps", "--format", "{{.Names}} {{.Networks}}"], BDC02);
    for (const line of ["b1 bridge", "h1 host", "n1 none", "mv2 macvlan_1"]) {
      expect(modes).toContain(line);
    }
    const b1 = (await ok(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "b1"], BDC02)).trim();
    expect(b1).toMatch(/^172\.17\.0\.\d+$/);
    expect(await ok(["inspect", "-f", "{{.HostConfig.NetworkMode}} {{.State.Pid}}", "c1"], BDC02)).toBe(
      "container:b1 0\n",
    );
    // none: only lo; container:b1: b1's eth0 and address; host: the machine's eth0 on the LAN.
    const none = await ok(["exec", "n1", "ip", "-br", "addr", "show"], BDC02);
    expect(none).toMatch(/^lo\s/m);
    expect(none).not.toContain("eth0");
    expect(await ok(["exec", "c1", "ip", "-br", "addr", "show", "dev", "eth0"], BDC02)).toContain(`${b1}/16`);
    expect(await ok(["exec", "h1", "ip", "-br", "addr", "show", "dev", "eth0"], BDC02)).toContain(
      "10.0.0.12/24",
    );
    const [hostNet] = JSON.parse(await ok(["network", "inspect", "host"], BDC02)) as {
      Driver: string;
      Containers: Record<string, { Name: string }>;
    }[];
    expect(hostNet?.Driver).toBe("host");
    expect(Object.values(hostNet?.Containers ?? {}).map((c) => c.Name)).toEqual(["h1"]);
  });
});

describe("seed 004's interactive run, in a terminal", () => {
  it("docker run -i -t --rm --net=none busybox /bin/sh says in one line that there is no shell, and ends", async () => {
    const terminal = startTestTerminal(`${inject("runPrefix")}dk`);
    try {
      const pane = await terminal.run(
        "it",
        [DOCKER_BIN, "run", "-i", "-t", "--rm", "--net=none", "--name", "sh1", "busybox", "/bin/sh"],
        docker.envOf(BDC02),
      );
      const deadline = Date.now() + 30_000;
      let status = await terminal.exitStatus(pane);
      while (status === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        status = await terminal.exitStatus(pane);
      }
      const screen = await terminal.screen(pane);
      expect(status, `${screen}\n${await terminal.describe(pane)}`).not.toBeUndefined();
      expect(status ?? 0).toBe(0);
      expect(screen).toMatch(/^labnet: sh1 is a Labnet node: it has no shell or process to attach to/m);
      expect(await ok(["ps", "-a", "--format", "{{.Names}}"], BDC02)).not.toContain("sh1");
    } finally {
      await terminal.stop();
    }
  });
});

describe("dockerode, a second client", () => {
  it("lists, creates, starts, inspects, execs (hijacked) and removes through the same facade", async () => {
    const client = new Docker({
      host: "127.0.0.1",
      port: gateway.port,
      protocol: "http",
      // docker-modem resolves every path from the root: the machine's prefix rides in the version.
      version: `docker/${BDC02}/v1.47`,
      headers: { Authorization: `Bearer ${labnet.adminToken}` },
    });
    const names = (await client.listNetworks()).map((n) => n.Name);
    expect(names).toEqual(expect.arrayContaining(["bridge", "host", "none", "macvlan_1"]));
    const container = await client.createContainer({ name: "dockerode1", Image: "alpine:3", Cmd: ["sh"] });
    await container.start();
    const info = await container.inspect();
    expect(info.State.Running).toBe(true);
    expect(info.Config.Image).toBe("alpine:3");
    const b1 = (await ok(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "b1"], BDC02)).trim();
    const exec = await container.exec({ Cmd: ["ping", "-c1", b1], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    let stdout = "";
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    client.modem.demuxStream(stream, sink, sink);
    await new Promise((resolve) => stream.on("end", resolve));
    expect(stdout).toContain("1 packets transmitted, 1 received");
    expect((await exec.inspect()).ExitCode).toBe(0);
    await container.remove({ force: true });
    const left = await client.listContainers({ all: true });
    expect(left.map((c) => c.Names[0])).not.toContain("/dockerode1");
  });
});

describe("docker events", () => {
  it("replays a machine's network and container events since a time, until a time", async () => {
    const since = (Date.now() / 1000).toFixed(3);
    await ok(["network", "create", "evnet"], BDC02);
    await ok(["run", "-d", "--name", "evnode", "--network", "evnet", "busybox"], BDC02);
    await ok(["network", "connect", "bridge", "evnode"], BDC02);
    await ok(["network", "disconnect", "bridge", "evnode"], BDC02);
    await ok(["rm", "-f", "evnode"], BDC02);
    await ok(["network", "rm", "evnet"], BDC02);
    const until = (Date.now() / 1000 + 1).toFixed(3);
    const out = await ok(
      [
        "events",
        "--since",
        since,
        "--until",
        until,
        "--format",
        "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
      ],
      BDC02,
    );
    expect(out.split("\n").filter(Boolean)).toEqual([
      "network create evnet",
      "container create evnode",
      "container start evnode",
      "network connect bridge",
      "network disconnect bridge",
      "container destroy evnode",
      "network destroy evnet",
    ]);
    // Another machine's events are not this one's.
    expect(await ok(["events", "--since", since, "--until", until], BDC01)).toBe("");
  });
});

describe("rm -f and prune", () => {
  it("rm -f removes the nodes, prune removes the networks nothing uses", async () => {
    for (const name of ["centos1", "centos2", "web_container", "app_container"]) {
      await ok(["rm", "-f", name]);
    }
    const pruned = await ok(["network", "prune", "-f"]);
    expect(pruned).toContain("my-net");
    expect(pruned).toContain("web");
    expect(await ok(["network", "ls", "--format", "{{.Name}}"])).not.toContain("my-net");
  });
});
