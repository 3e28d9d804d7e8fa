/**
 * Issue 12 at the cheapest tier: the Engine API facade's translation to Labnet's commands and
 * views, the app in process over a database of its own, no executor (its lab host is offline, so
 * calls do not wait for kernel work). What Docker sends is checked against what Labnet records
 * (`/v1` views), errors against dockerd's status and words, tenancy and the audit log against a
 * student of another instance; the real docker CLI for what only it shows (exit codes, messages).
 */
import type { Schema } from "@labnet/api";
import { settleOperations } from "@labnet/commands";
import { schema } from "@labnet/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DockerGateway, requireDockerCli, serveDockerGateway } from "../helpers/docker";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { countRows } from "../helpers/row-counts";
import { registerTestHost } from "../helpers/test-host";

let labnet: TestLabnet;
let gateway: DockerGateway;
const HOST = "dka-host";
/** A template whose students may change networks and connections, not nodes. */
const TEMPLATE = [
  "name: dka-nets",
  "networks:",
  "  web: {}",
  "services:",
  "  web_container: { networks: [web] }",
  "students:",
  "  may: [connect, disconnect, networks]",
].join("\n");
/** The lab's two students: their tokens and machines. */
const students: { token: string; machine: string }[] = [];

/** A call to the facade of `machine` through the app. */
async function engine(
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; machine?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (options.token !== null) {
    headers.authorization = `Bearer ${options.token ?? labnet.adminToken}`;
  }
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
  }
  const res = await labnet.app.fetch(
    new Request(`http://labnet.test/docker/${options.machine ?? HOST}${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    }),
  );
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  // biome-ignore lint/suspicious/noExplicitAny: the Engine API's JSON, read field by field in the tests
  return { status: res.status, headers: res.headers, text, json: json as any };
}

async function view<T extends "Node" | "Network">(path: string, _kind: T): Promise<Schema<T>> {
  const res = await labnet.request("GET", path);
  expect(res.status).toBe(200);
  return (await res.json()) as Schema<T>;
}

beforeAll(async () => {
  requireDockerCli();
  labnet = await startTestLabnet({ access: { rateLimits: { admin: 0, instructor: 0, student: 0 } } });
  const host = await registerTestHost(labnet.db, {
    name: HOST,
    netnsPrefix: "dka-",
    netnsPath: "/run/netns/dka-host",
    capabilities: {
      linkTypes: ["bridge", "veth", "macvlan"],
      drivers: ["bridge", "macvlan"],
      iptables: true,
      bridgeNetfilter: true,
      interfaces: ["eth0", "docker0"],
    },
  });
  // A lab of two students on it (the host must be online to be placed on).
  const instructor = await labnet.request("POST", "/v1/tokens", {
    body: { name: "dka instructor", role: "instructor" },
  });
  expect(instructor.status).toBe(201);
  const instructorToken = ((await instructor.json()) as { secret: string }).secret;
  const asInstructor = (path: string, body: unknown) =>
    labnet.request("POST", path, { body, headers: { authorization: `Bearer ${instructorToken}` } });
  expect((await asInstructor("/v1/lab-templates", { source: TEMPLATE })).status).toBe(201);
  const lab = await asInstructor("/v1/labs", {
    name: "dka",
    template: "dka-nets",
    count: 2,
    studentTokens: {},
  });
  expect(lab.status).toBe(202);
  const tokens = ((await lab.json()) as { studentTokens: { student: string; token: { secret: string } }[] })
    .studentTokens;
  for (const t of tokens) {
    const machines = await labnet.request("GET", "/v1/machines", {
      headers: { authorization: `Bearer ${t.token.secret}` },
    });
    const [machine] = ((await machines.json()) as { items: { name: string }[] }).items;
    students.push({ token: t.token.secret, machine: machine?.name ?? "" });
  }
  // No executor: calls answer at once instead of waiting for kernel work.
  await labnet.db
    .update(schema.hosts)
    .set({ lastHeartbeatAt: new Date(0) })
    .where(eq(schema.hosts.id, host.id));
  gateway = await serveDockerGateway((request) => labnet.app.fetch(request), {
    token: labnet.adminToken,
    machine: HOST,
  });
});

afterAll(async () => {
  await gateway?.close();
  await labnet?.stop();
});

describe("the Engine API's frame", () => {
  it("pings with dockerd's headers, versioned and unversioned, HEAD and GET", async () => {
    for (const [method, path] of [
      ["GET", "/_ping"],
      ["HEAD", "/_ping"],
      ["GET", "/v1.47/_ping"],
      ["GET", "/v1.24/version"],
    ]) {
      const res = await engine(method ?? "GET", path ?? "");
      expect(res.status, `${method} ${path}`).toBe(200);
      expect(res.headers.get("api-version")).toBe("1.47");
      expect(res.headers.get("ostype")).toBe("linux");
      expect(res.headers.get("server")).toMatch(/^Labnet\/\S+ \(linux\)$/);
    }
    expect((await engine("GET", "/_ping")).text).toBe("OK");
  });

  it("refuses versions out of range, unknown paths and missing machines as dockerd does", async () => {
    const cases: [string, string, number, string, string?][] = [
      [
        "GET",
        "/v1.50/networks",
        400,
        "client version 1.50 is too new. Maximum supported API version is 1.47",
      ],
      [
        "GET",
        "/v1.12/networks",
        400,
        "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version",
      ],
      ["GET", "/v1.47/swarm", 404, "page not found"],
      ["GET", "/networks", 404, "No such machine: nosuch", "nosuch"],
    ];
    for (const [method, path, status, message, machine] of cases) {
      const res = await engine(method, path, machine ? { machine } : {});
      expect(res.status, path).toBe(status);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(res.json.message.startsWith(message), res.text).toBe(true);
      expect(res.headers.get("api-version")).toBe("1.47");
    }
  });

  it("GET /v1/machines/{id} shows the DOCKER_HOST and the header to use", async () => {
    const res = await labnet.client.GET("/v1/machines/{machineId}", {
      params: { path: { machineId: HOST } },
    });
    expect(res.data?.docker).toEqual({
      host: `tcp://labnet.test/docker/${HOST}`,
      customHeaders: "Authorization=Bearer <token>",
    });
  });

  it("a client pointed at the gateway itself is told where the Engine API is", async () => {
    for (const path of ["/_ping", "/v1.47/networks"]) {
      const res = await labnet.app.fetch(new Request(`http://labnet.test${path}`));
      expect(res.status).toBe(404);
      expect(((await res.json()) as { message: string }).message).toMatch(
        /^Labnet serves the Docker Engine API per machine: DOCKER_HOST=tcp:\/\/labnet.test\/docker\/<machine id or name>/,
      );
    }
    const cli = await gateway.docker(["network", "ls"], { dockerHost: gateway.url });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(
      /^Error response from daemon: Labnet serves the Docker Engine API per machine/,
    );
  });

  it("an unauthenticated ping says how to send the token", async () => {
    const res = await engine("GET", "/_ping", { token: null });
    expect(res.status).toBe(401);
    expect(res.json.message).toContain('DOCKER_CUSTOM_HEADERS="Authorization=Bearer lnt_..."');
    const cli = await gateway.docker(["network", "ls"], { token: "lnt_nobody" });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(
      /^Error response from daemon: the API token is unknown, expired or revoked: .*HttpHeaders/,
    );
  });
});

describe("networks", () => {
  it("docker network create's IPAM, internal, labels and options become the Labnet network", async () => {
    const res = await engine("POST", "/v1.47/networks/create", {
      body: {
        Name: "dk-web",
        Driver: "bridge",
        Internal: true,
        IPAM: {
          Driver: "default",
          Config: [
            {
              Subnet: "172.28.0.0/16",
              IPRange: "172.28.5.0/24",
              Gateway: "172.28.0.254",
              AuxiliaryAddresses: { router: "172.28.1.5" },
            },
          ],
        },
        Options: { "com.docker.network.bridge.enable_icc": "false", "com.docker.network.driver.mtu": "1400" },
        Labels: { course: "net101" },
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toEqual({ Id: expect.stringMatching(/^net_/), Warning: "" });
    const network = await view(`/v1/networks/${res.json.Id}`, "Network");
    expect(network).toMatchObject({
      name: "dk-web",
      internal: true,
      labels: { course: "net101" },
      options: { icc: false, mtu: 1400 },
      ipam: {
        configs: [
          {
            subnet: "172.28.0.0/16",
            gateway: "172.28.0.254",
            ipRange: "172.28.5.0/24",
            auxAddresses: { router: "172.28.1.5" },
          },
        ],
      },
    });
    const inspect = await engine("GET", "/v1.47/networks/dk-web");
    expect(inspect.json).toMatchObject({
      Name: "dk-web",
      Id: res.json.Id,
      Scope: "local",
      Driver: "bridge",
      Internal: true,
      IPAM: {
        Driver: "default",
        Config: [
          {
            Subnet: "172.28.0.0/16",
            IPRange: "172.28.5.0/24",
            Gateway: "172.28.0.254",
            AuxiliaryAddresses: { router: "172.28.1.5" },
          },
        ],
      },
      Containers: {},
      Options: { "com.docker.network.bridge.enable_icc": "false", "com.docker.network.driver.mtu": "1400" },
      Labels: { course: "net101" },
    });
    // By a unique id prefix too, as dockerd finds networks.
    expect((await engine("GET", `/networks/${String(res.json.Id).slice(0, 10)}`)).json.Name).toBe("dk-web");
  });

  it("ls filters by driver, name (a regular expression), id, label, scope and type", async () => {
    const names = async (filters: unknown) =>
      (await engine("GET", `/networks?filters=${encodeURIComponent(JSON.stringify(filters))}`)).json.map(
        (n: { Name: string }) => n.Name,
      );
    // The lab's LANs are networks of the lab host (its machine) too.
    const lans = ["dka-s01-lan", "dka-s02-lan"];
    const all = await names({});
    expect(all.slice(0, 3)).toEqual(["bridge", "host", "none"]);
    expect(all.slice(3).sort()).toEqual(["dk-web", ...lans]);
    expect(await names({ driver: { null: true } })).toEqual(["none"]);
    expect(await names({ name: { "^dk-": true } })).toEqual(["dk-web"]);
    expect(await names({ label: ["course=net101"] })).toEqual(["dk-web"]);
    expect(await names({ label: { "course=other": true } })).toEqual([]);
    expect((await names({ type: { custom: true } })).sort()).toEqual(["dk-web", ...lans]);
    expect(await names({ type: { builtin: true } })).toEqual(["bridge", "host", "none"]);
    expect(await names({ scope: { swarm: true } })).toEqual([]);
    expect(await names({ name: { "(a+)+$": true } })).toEqual([]);
    const bad = await engine("GET", `/networks?filters=${encodeURIComponent('{"colour":{"red":true}}')}`);
    expect(bad).toMatchObject({ status: 400, json: { message: "invalid filter 'colour'" } });
    const ls = await gateway.docker([
      "network",
      "ls",
      "--filter",
      "driver=bridge",
      "--format",
      "{{.Name}} {{.Driver}} {{.Scope}}",
    ]);
    expect(ls.stdout.split("\n").filter(Boolean).sort()).toEqual([
      "bridge bridge local",
      "dk-web bridge local",
      "dka-s01-lan bridge local",
      "dka-s02-lan bridge local",
    ]);
    expect((await gateway.docker(["network", "ls", "-q"])).stdout.split("\n").filter(Boolean)).toHaveLength(
      6,
    );
  });

  it("refuses what Labnet cannot honour by name, and changes nothing", async () => {
    const before = await countRows(labnet.db, {
      networks: schema.networks,
      ipamConfigs: schema.ipamConfigs,
      operations: schema.operations,
    });
    for (const [body, message] of [
      [
        { Name: "x1", Options: { "com.docker.network.bridge.name": "lnbr-mine" } },
        'bridge name "lnbr-mine" is not allowed: 1-15 letters, digits, _ . or -, starting with a letter or digit, not lo, all or default, and not starting with ln',
      ],
      [
        { Name: "x4", Options: { "com.docker.network.bridge.name": "docker0" } },
        "lab host dka-host already has an interface docker0, which is not Labnet's",
      ],
      [{ Name: "x2", EnableIPv6: true }, "IPv6 is not supported by Labnet"],
      [{ Name: "x3", IPAM: { Driver: "dhcp" } }, "IPAM driver dhcp is not supported"],
      [{ Name: "bridge" }, "operation is not permitted on predefined bridge network"],
      [{ Name: "dk-web" }, "network with name dk-web already exists"],
    ] as const) {
      const res = await engine("POST", "/networks/create", { body });
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(res.json.message.startsWith(message), res.text).toBe(true);
    }
    expect(
      await countRows(labnet.db, {
        networks: schema.networks,
        ipamConfigs: schema.ipamConfigs,
        operations: schema.operations,
      }),
    ).toEqual(before);
    const named = await gateway.docker([
      "network",
      "create",
      "-o",
      "com.docker.network.bridge.name=docker1",
      "dk-named",
    ]);
    // A chosen bridge name is the network's bridge, as inspect shows it. A virtual machine's
    // predefined network has docker0; the lab host's keeps lnbr- (its real docker0 may be there).
    expect(named.code, named.stderr).toBe(0);
    expect((await view("/v1/networks/dk-named", "Network")).options.bridgeName).toBe("docker1");
    const bridgeOption = async (network: string, machine = HOST) =>
      (
        await gateway.docker(
          ["network", "inspect", network, "--format", '{{index .Options "com.docker.network.bridge.name"}}'],
          { machine },
        )
      ).stdout;
    expect(await bridgeOption("dk-named")).toBe("docker1\n");
    expect(await bridgeOption("bridge")).toMatch(/^lnbr-[a-z2-7]{8}\n$/);
    expect(await bridgeOption("bridge", students[0]?.machine)).toBe("docker0\n");
    const twice = await gateway.docker([
      "network",
      "create",
      "-o",
      "com.docker.network.bridge.name=docker1",
      "dk-named2",
    ]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(
      /^Error response from daemon: another network of lab host dka-host has the bridge docker1\n$/,
    );
    const notBool = await gateway.docker([
      "network",
      "create",
      "-o",
      "com.docker.network.bridge.enable_icc=yes",
      "dk-icc",
    ]);
    expect(notBool.code).toBe(1);
    expect(notBool.stderr).toContain("failed to parse com.docker.network.bridge.enable_icc value: yes");
    // The bridge options Labnet honours, with values as dockerd parses them.
    const quiet = await gateway.docker([
      "network",
      "create",
      ...[
        "-o",
        "com.docker.network.bridge.enable_icc=0",
        "-o",
        "com.docker.network.bridge.enable_ip_masquerade=1",
      ],
      ...[
        "-o",
        "com.docker.network.bridge.host_binding_ipv4=0.0.0.0",
        "-o",
        "com.docker.network.driver.mtu=1450",
      ],
      "dk-quiet",
    ]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect((await view("/v1/networks/dk-quiet", "Network")).options).toMatchObject({ icc: false, mtu: 1450 });
    const duplicate = await gateway.docker(["network", "create", "dk-web"]);
    expect(duplicate).toMatchObject({
      code: 1,
      stderr: "Error response from daemon: network with name dk-web already exists\n",
    });
  });
});

describe("containers as nodes", () => {
  it("docker run's structures become the node: modes, networks in order, addresses, aliases, ports, DNS, hosts", async () => {
    await engine("POST", "/networks/create", {
      body: { Name: "dk-app", IPAM: { Config: [{ Subnet: "10.91.0.0/24" }] } },
    });
    const res = await engine("POST", "/v1.47/containers/create?name=dk-one", {
      body: {
        Hostname: "one",
        Image: "centos:7",
        Cmd: ["bash", "-l"],
        Labels: { tier: "web", "labnet.docker.image": "forged" },
        ExposedPorts: { "80/tcp": {}, "443/tcp": {}, "53/udp": {}, "9000/tcp": {} },
        HostConfig: {
          NetworkMode: "dk-app",
          PortBindings: {
            "80/tcp": [{ HostIp: "", HostPort: "8081" }],
            "443/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }],
            "53/udp": [{ HostIp: "", HostPort: "5353" }],
          },
          PublishAllPorts: true,
          Dns: ["192.0.2.53"],
          DnsSearch: ["lab.example"],
          DnsOptions: ["ndots:2"],
          ExtraHosts: ["db.lab:192.0.2.7"],
        },
        NetworkingConfig: {
          EndpointsConfig: {
            "dk-app": { IPAMConfig: { IPv4Address: "10.91.0.50" }, Aliases: ["www"] },
            "dk-web": {},
          },
        },
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toEqual({ Id: expect.stringMatching(/^nod_/), Warnings: [] });
    const node = await view(`/v1/nodes/${res.json.Id}`, "Node");
    expect(node).toMatchObject({
      name: "dk-one",
      networkMode: "dk-app",
      hostname: "one",
      dns: { servers: ["192.0.2.53"], search: ["lab.example"], options: ["ndots:2"] },
      extraHosts: ["db.lab:192.0.2.7"],
      publishAll: true,
      labels: { tier: "web", "labnet.docker.image": "centos:7", "labnet.docker.command": '["bash","-l"]' },
    });
    expect(node.exposedPorts).toEqual(["80/tcp", "443/tcp", "9000/tcp", "53/udp"]);
    expect(Object.keys(node.networkSettings.networks)).toEqual(["dk-app", "dk-web"]);
    expect(node.networkSettings.networks["dk-app"]).toMatchObject({
      ipAddress: "10.91.0.50",
      aliases: ["www"],
      interface: "eth0",
    });
    const ports = node.networkSettings.ports;
    expect(ports["80/tcp"]).toEqual([{ hostIp: "0.0.0.0", hostPort: "8081" }]);
    expect(ports["53/udp"]).toEqual([{ hostIp: "0.0.0.0", hostPort: "5353" }]);
    expect(ports["443/tcp"]).toEqual([{ hostIp: "127.0.0.1", hostPort: expect.stringMatching(/^\d+$/) }]);
    expect(ports["9000/tcp"]).toEqual([{ hostIp: "0.0.0.0", hostPort: expect.stringMatching(/^\d+$/) }]);

    const inspect = (await engine("GET", "/containers/dk-one/json")).json;
    expect(inspect).toMatchObject({
      Id: res.json.Id,
      Name: "/dk-one",
      Path: "bash",
      Args: ["-l"],
      State: { Status: "created", Pid: 0 },
      Config: { Image: "centos:7", Hostname: "one", Labels: { tier: "web" } },
      HostConfig: {
        NetworkMode: "dk-app",
        Dns: ["192.0.2.53"],
        ExtraHosts: ["db.lab:192.0.2.7"],
        PublishAllPorts: true,
      },
      NetworkSettings: {
        SandboxKey: expect.stringMatching(/^\/run\/netns\/dka-/),
        Ports: { "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "8081" }] },
        Networks: {
          "dk-app": {
            IPAddress: "10.91.0.50",
            IPPrefixLen: 24,
            Gateway: "10.91.0.1",
            MacAddress: "02:42:0a:5b:00:32",
            Aliases: ["www"],
            DNSNames: ["dk-one", "www"],
          },
        },
      },
    });
    expect(inspect.Config.Labels).toEqual({ tier: "web" });
    const port = await gateway.docker(["port", "dk-one", "80"]);
    expect(port.stdout).toBe("0.0.0.0:8081\n");
    const ps = await gateway.docker([
      "ps",
      "-a",
      "--filter",
      "name=dk-one",
      "--format",
      "{{.Image}} {{.Command}} {{.Status}} {{.Ports}}",
    ]);
    expect(ps.stdout).toMatch(/^centos:7 "bash -l" Created .*0\.0\.0\.0:8081->80\/tcp/);
  });

  it("network modes none, host and container:, and the default bridge", async () => {
    for (const [name, mode] of [
      ["dk-none", "none"],
      ["dk-host", "host"],
      ["dk-shared", "container:dk-one"],
      ["dk-default", "default"],
    ] as const) {
      const res = await engine("POST", `/containers/create?name=${name}`, {
        body: { Image: "busybox", HostConfig: { NetworkMode: mode } },
      });
      expect(res.status, res.text).toBe(201);
    }
    expect((await view("/v1/nodes/dk-default", "Node")).networkMode).toBe("bridge");
    expect((await view("/v1/nodes/dk-shared", "Node")).networkMode).toBe("container:dk-one");
    const none = (await engine("GET", "/networks/none")).json;
    expect(Object.values(none.Containers).map((c) => (c as { Name: string }).Name)).toEqual(["dk-none"]);
    const bridge = (await engine("GET", "/containers/dk-default/json")).json.NetworkSettings;
    expect(bridge.IPAddress).toMatch(/^172\.17\.0\.\d+$/);
    expect(bridge.Networks.bridge.DNSNames).toBeNull();
  });

  it("errors in dockerd's words: name in use (naming the holder), unknown container, unknown network is not a 404 at create", async () => {
    const holder = (await view("/v1/nodes/dk-one", "Node")).id;
    const taken = await engine("POST", "/containers/create?name=dk-one", { body: { Image: "busybox" } });
    expect(taken).toMatchObject({
      status: 409,
      json: {
        message: `Conflict. The container name "/dk-one" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
      },
    });
    expect(await engine("GET", "/containers/nosuch/json")).toMatchObject({
      status: 404,
      json: { message: "No such container: nosuch" },
    });
    const noNet = await engine("POST", "/containers/create?name=dk-x", {
      body: { Image: "busybox", HostConfig: { NetworkMode: "nosuch" } },
    });
    expect(noNet.status).toBe(400);
    expect(noNet.json.message).toContain("network nosuch not found");
    const run = await gateway.docker(["run", "-d", "--network", "nosuch", "busybox"]);
    expect(run.code).toBe(125);
    expect(run.stderr).not.toContain("Unable to find image");
    const rm = await gateway.docker(["rm", "nosuch"]);
    expect(rm).toMatchObject({ code: 1, stderr: "Error response from daemon: No such container: nosuch\n" });
    // The translation meets the contract's rules, refusals naming the flag.
    for (const [body, flag] of [
      [{ Image: "busybox", Labels: { "-bad key": "x" } }, "--label"],
      [{ Image: "busybox", Hostname: "under_score" }, "--hostname"],
      [
        {
          Image: "busybox",
          HostConfig: { NetworkMode: "dk-web" },
          NetworkingConfig: { EndpointsConfig: { "dk-web": { Aliases: ["no spaces"] } } },
        },
        "--network-alias",
      ],
    ] as const) {
      const res = await engine("POST", "/containers/create?name=dk-bad", { body });
      expect(res.status, res.text).toBe(400);
      expect(res.json.message.startsWith(`invalid ${flag}: `), res.text).toBe(true);
    }
    const mac = await engine("POST", "/containers/create?name=dk-mac", {
      body: { Image: "busybox", MacAddress: "02:00:00:00:00:01" },
    });
    expect(mac.status).toBe(400);
  });

  it("rename keeps the hostname, renames what shares its namespace, and refuses a name in use", async () => {
    expect((await engine("POST", "/containers/dk-one/rename?name=dk-uno")).status).toBe(204);
    const node = await view("/v1/nodes/dk-uno", "Node");
    expect(node.hostname).toBe("one");
    expect((await view("/v1/nodes/dk-shared", "Node")).networkMode).toBe("container:dk-uno");
    const clash = await engine("POST", "/containers/dk-uno/rename?name=dk-none");
    expect(clash.status).toBe(409);
    expect(clash.json.message).toContain('The container name "/dk-none" is already in use');
  });

  it("refuses control characters anywhere (path, query, body keys and values), changing nothing", async () => {
    const tables = { nodes: schema.nodes, networks: schema.networks };
    const before = await countRows(labnet.db, tables);
    for (const [path, body] of [
      ["/containers/create?name=dk-ctl", { Image: "busybox", Labels: { "a\u0000b": "x" } }],
      ["/containers/create?name=dk-ctl", { Image: "busy\u001bbox" }],
      ["/containers/create?name=dk%0Actl", { Image: "busybox" }],
      ["/networks/create", { Name: "dk-ctl", Labels: { course: "\ud800" } }],
    ] as const) {
      const res = await engine("POST", path, { body });
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json.message).toMatch(/^invalid request: /);
    }
    expect((await engine("GET", "/containers/dk%00x/json")).status).toBe(400);
    expect(await countRows(labnet.db, tables)).toEqual(before);
  });

  it("docker create then start, network connect --ip --alias and disconnect -f, generic inspect of a network", async () => {
    const created = await gateway.docker(["create", "--name", "dk-later", "busybox"]);
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^nod_/);
    expect(await gateway.docker(["start", "dk-later"])).toMatchObject({ code: 0, stdout: "dk-later\n" });
    const connect = await gateway.docker([
      "network",
      "connect",
      "--ip",
      "10.91.0.77",
      "--alias",
      "later",
      "dk-app",
      "dk-later",
    ]);
    expect(connect.code, connect.stderr).toBe(0);
    const node = await view("/v1/nodes/dk-later", "Node");
    expect(node.networkSettings.networks["dk-app"]).toMatchObject({
      ipAddress: "10.91.0.77",
      aliases: ["later"],
      interface: "eth1",
    });
    const disconnect = await gateway.docker(["network", "disconnect", "-f", "dk-app", "dk-later"]);
    expect(disconnect.code, disconnect.stderr).toBe(0);
    expect(Object.keys((await view("/v1/nodes/dk-later", "Node")).networkSettings.networks)).toEqual([
      "bridge",
    ]);
    const inspect = await gateway.docker(["inspect", "--format", "{{.Name}} {{.Driver}}", "dk-web"]);
    expect(inspect).toMatchObject({ code: 0, stdout: "dk-web bridge\n" });
    expect(await gateway.docker(["inspect", "nothing-at-all"])).toMatchObject({ code: 1 });
  });

  it("docker create records a node nothing builds (ps -a only, Created); start builds it; rm refuses it running without -f", async () => {
    const operationsOf = (id: string) =>
      labnet.db.select().from(schema.operations).where(eq(schema.operations.targetId, id));
    const created = await gateway.docker(["create", "--name", "dk-made", "--network", "dk-app", "busybox"]);
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();
    expect((await view("/v1/nodes/dk-made", "Node")).state).toBe("created");
    expect(await operationsOf(id)).toEqual([]);
    const names = async (argv: string[]) =>
      (await gateway.docker(["ps", ...argv, "--format", "{{.Names}} {{.Status}}"])).stdout.split("\n");
    expect(await names([])).not.toContainEqual(expect.stringMatching(/^dk-made /));
    expect(await names(["-a"])).toContain("dk-made Created");
    const state = [
      "inspect",
      "-f",
      "{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.State.StartedAt}}",
    ];
    expect(await gateway.docker([...state, "dk-made"])).toMatchObject({
      code: 0,
      stdout: "created false 0 0001-01-01T00:00:00Z\n",
    });
    // A connect while created is recorded; its ensure builds nothing and leaves the node created.
    expect((await gateway.docker(["network", "connect", "dk-web", "dk-made"])).code).toBe(0);
    const [connectOp] = await operationsOf(id);
    expect(connectOp?.kind).toBe("node.ensure");
    await settleOperations(labnet.db, { succeeded: connectOp ? [connectOp] : [], failed: [], retrying: [] });
    expect((await view("/v1/nodes/dk-made", "Node")).state).toBe("created");

    const startedAfter = Date.now() - 1000;
    expect(await gateway.docker(["start", "dk-made"])).toMatchObject({ code: 0, stdout: "dk-made\n" });
    expect((await view("/v1/nodes/dk-made", "Node")).state).toBe("pending");
    const open = (await operationsOf(id)).filter((op) => op.state !== "succeeded");
    expect(open.map((op) => op.kind)).toEqual(["node.ensure"]);
    // Starting again records nothing more.
    expect((await gateway.docker(["start", "dk-made"])).code).toBe(0);
    expect(await operationsOf(id)).toHaveLength(2);
    // The executor's report, as it writes it.
    await settleOperations(labnet.db, { succeeded: open, failed: [], retrying: [] });
    expect((await view("/v1/nodes/dk-made", "Node")).state).toBe("ready");
    expect(await names([])).toContainEqual(expect.stringMatching(/^dk-made Up /));
    const [status, running, pid, startedAt] = (await gateway.docker([...state, "dk-made"])).stdout
      .trim()
      .split(" ");
    expect([status, running, pid]).toEqual(["running", "true", "0"]);
    expect(Date.parse(startedAt ?? "")).toBeGreaterThanOrEqual(startedAfter);

    const rm = await gateway.docker(["rm", "dk-made"]);
    expect(rm).toMatchObject({
      code: 1,
      stderr:
        'Error response from daemon: cannot remove container "/dk-made": container is running: stop the container before removing or force remove\n',
    });
    expect((await view("/v1/nodes/dk-made", "Node")).state).toBe("ready");
    const forced = await gateway.docker(["rm", "-f", "dk-made"]);
    expect(forced, forced.stderr).toMatchObject({ code: 0, stdout: "dk-made\n" });
    expect((await view("/v1/nodes/dk-made", "Node")).state).toBe("deleting");
    // A container that never started goes without -f, as dockerd's does.
    expect((await gateway.docker(["create", "--name", "dk-unstarted", "busybox"])).code).toBe(0);
    expect(await gateway.docker(["rm", "dk-unstarted"])).toMatchObject({ code: 0, stdout: "dk-unstarted\n" });
  });

  it("POST /v1/nodes/{id}/start starts a node docker create recorded, and has nothing to do for a started one", async () => {
    expect((await gateway.docker(["create", "--name", "dk-rest", "busybox"])).code).toBe(0);
    const start = await labnet.request("POST", "/v1/nodes/dk-rest/start");
    expect(start.status).toBe(202);
    expect(start.headers.get("operation-location")).toMatch(/^\/v1\/operations\/op_/);
    expect(((await start.json()) as Schema<"Node">).state).toBe("pending");
    const again = await labnet.request("POST", "/v1/nodes/dk-rest/start");
    expect(again.status).toBe(200);
    expect(((await again.json()) as Schema<"Node">).state).toBe("pending");
    expect((await labnet.request("POST", "/v1/nodes/nosuch/start")).status).toBe(404);
  });

  it("a node in the namespace of one not started waits for it: start refuses until the owner started", async () => {
    expect((await gateway.docker(["create", "--name", "dk-owner", "busybox"])).code).toBe(0);
    expect(
      (await gateway.docker(["create", "--name", "dk-guest", "--network", "container:dk-owner", "busybox"]))
        .code,
    ).toBe(0);
    const early = await gateway.docker(["start", "dk-guest"]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(
      "cannot join the network namespace of node dk-owner: it is created but not started",
    );
    expect((await view("/v1/nodes/dk-guest", "Node")).state).toBe("created");
    expect((await gateway.docker(["start", "dk-owner", "dk-guest"])).code).toBe(0);
    expect((await view("/v1/nodes/dk-guest", "Node")).state).toBe("pending");
  });

  it("exec refuses what the allow-list does not hold, before anything is recorded", async () => {
    const res = await engine("POST", "/containers/dk-default/exec", {
      body: { Cmd: ["sh", "-c", "id"], AttachStdout: true },
    });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/^Labnet runs only allow-listed diagnostics/);
    const allowed = await engine("POST", "/containers/dk-default/exec", {
      body: { Cmd: ["ping", "-c1", "172.17.0.1"] },
    });
    expect(allowed.status).toBe(201);
    const inspect = await engine("GET", `/exec/${allowed.json.Id}/json`);
    expect(inspect.json).toMatchObject({
      Running: false,
      ExitCode: null,
      ProcessConfig: { entrypoint: "ping", arguments: ["-c1", "172.17.0.1"] },
    });
    // Another machine's view of it: as missing as an unknown one.
    expect((await engine("GET", "/exec/0000/json")).status).toBe(404);
  });
});

describe("events", () => {
  it("streams the machine's events as they are recorded, filtered by type", async () => {
    const res = await labnet.app.fetch(
      new Request(
        `http://labnet.test/docker/${HOST}/v1.47/events?filters=${encodeURIComponent('{"type":["network"]}')}`,
        {
          headers: { authorization: `Bearer ${labnet.adminToken}` },
        },
      ),
    );
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    expect(
      (await engine("POST", "/containers/create?name=dk-ev", { body: { Image: "busybox" } })).status,
    ).toBe(201);
    expect((await engine("POST", "/networks/create", { body: { Name: "dk-ev" } })).status).toBe(201);
    const chunk = await reader?.read();
    await reader?.cancel();
    const [first] = new TextDecoder().decode(chunk?.value).split("\n");
    expect(JSON.parse(first ?? "{}")).toMatchObject({
      Type: "network",
      Action: "create",
      Actor: { Attributes: { name: "dk-ev", type: "bridge" } },
      scope: "local",
    });
  });
});

describe("audit and tenancy", () => {
  it("a student reaches their own machine only, within what their template allows; refusals change nothing", async () => {
    const [a, b] = students;
    if (!a || !b) {
      throw new Error("no students");
    }
    expect(a.machine).not.toBe(b.machine);
    const tables = {
      networks: schema.networks,
      nodes: schema.nodes,
      operations: schema.operations,
      audit: schema.auditLog,
    };
    const before = await countRows(labnet.db, tables);
    for (const argv of [
      ["network", "ls"],
      ["network", "create", "intruder"],
      ["run", "-d", "--name", "x", "busybox"],
    ]) {
      const run = await gateway.docker(argv, { token: a.token, machine: b.machine });
      expect(run.code, argv.join(" ")).not.toBe(0);
      expect(run.stderr).toContain(`Error response from daemon: No such machine: ${b.machine}`);
    }
    const node = await gateway.docker(["run", "-d", "--name", "mine", "busybox"], {
      token: a.token,
      machine: a.machine,
    });
    expect(node.code).toBe(125);
    expect(node.stderr).toContain("this lab does not let students create or remove nodes");
    const ids = await gateway.docker(["ps", "-aq"], { token: a.token, machine: a.machine });
    expect(ids.code).toBe(0);
    const after = await countRows(labnet.db, tables);
    // Nothing but the refusals is recorded (audit entries, refused): the create on B's machine,
    // and the pull the CLI tries after a 404 from container create (dockerd's missing image).
    expect(after).toEqual({ ...before, audit: (before.audit ?? 0) + 4 });
    const entries = await labnet.db
      .select()
      .from(schema.auditLog)
      .orderBy(schema.auditLog.id)
      .then((rows) => rows.slice(-4));
    expect(entries.map((e) => [e.operationId, e.outcome, e.status])).toEqual([
      ["docker.request", "refused", 404],
      ["docker.request", "refused", 404],
      ["docker.request", "refused", 404],
      ["docker.containerCreate", "refused", 403],
    ]);
    const own = await gateway.docker(["network", "create", "mine"], { token: a.token, machine: a.machine });
    expect(own.code, own.stderr).toBe(0);
  });

  it("records each change as docker.<what> with its outcome", async () => {
    const res = await labnet.request("GET", "/v1/audit?limit=200");
    expect(res.status).toBe(200);
    const items = (
      (await res.json()) as {
        items: { operationId: string; status: number | null; outcome: string; path: string }[];
      }
    ).items;
    const created = items.find(
      (e) => e.operationId === "docker.networkCreate" && e.path.endsWith("/v1.47/networks/create"),
    );
    expect(created).toMatchObject({
      outcome: "committed",
      status: 201,
      path: `/docker/${HOST}/v1.47/networks/create`,
    });
    expect(items.find((e) => e.operationId === "docker.containerRename" && e.status === 204)).toBeDefined();
    expect(items.find((e) => e.operationId === "docker.networkCreate" && e.status === 409)?.outcome).toBe(
      "refused",
    );
    // Reads are not audited.
    expect(items.some((e) => e.path.endsWith("/networks") && e.operationId.startsWith("docker."))).toBe(
      false,
    );
  });
});
