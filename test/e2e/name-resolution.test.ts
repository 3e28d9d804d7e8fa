/**
 * Issue 3, name resolution: nodes of a user-defined network resolve each other by name,
 * alias and `name.network` through Labnet's DNS responder on the gateway, and nothing of
 * networks they are not on; per-node resolv.conf and hosts files; the default bridge has
 * no names. Resolution runs in the nodes with `ip netns exec` (which bind-mounts the node's
 * /etc/netns files), as getent and ping.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { components } from "@labnet/api";
import { schema } from "@labnet/db";
import { runCommandOrThrow } from "@labnet/devstack";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deleteNode } from "../helpers/api-steps";
import { startDnsUpstream } from "../helpers/dns-upstream";
import { ETC_NETNS_DIR } from "../helpers/etc-netns";
import type { TestLabnet } from "../helpers/labnet";
import { execIn, netnsOf, type SimHost } from "../helpers/netns";
import { expectProblemChangingNothing } from "../helpers/problems";
import type { TestProcess } from "../helpers/processes";
import { countRows } from "../helpers/row-counts";
import { startSimHostLabnet } from "../helpers/sim-host-labnet";

let labnet: TestLabnet;
let host: SimHost;
let upstream: TestProcess;
/** The host's resolvers as the executor reads them: a loopback stub (dropped) and the fake upstream. */
const HOST_RESOLV_CONF = "nameserver 127.0.0.53\nnameserver 198.18.50.2\nsearch corp.test\noptions rotate\n";

beforeAll(async () => {
  const resolvConf = path.join(inject("runDir"), `${inject("runPrefix")}nr-resolv.conf`);
  await writeFile(resolvConf, HOST_RESOLV_CONF);
  ({ labnet, host } = await startSimHostLabnet("nr", 50, {
    prepareHost: async ({ outsideNetns = "" }) => {
      // A second upstream address, to tell the node's own server from the host's.
      await runCommandOrThrow(["ip", "-n", outsideNetns, "addr", "add", "198.18.50.3/24", "dev", "eth0"]);
      upstream = await startDnsUpstream(outsideNetns, {
        "198.18.50.2": "192.0.2.2",
        "198.18.50.3": "192.0.2.3",
      });
    },
    executorEnv: { LABNET_HOST_RESOLV_CONF: resolvConf, LABNET_DNS_FORWARD_TIMEOUT_MS: "500" },
  }));
});

afterAll(async () => {
  await labnet?.stop();
  await host?.destroy();
});

/** The first address `getent hosts` gives for `name` in the node, or undefined when it does not resolve. */
async function resolve(netns: string, name: string): Promise<string | undefined> {
  const result = await execIn(netns, ["getent", "hosts", name]);
  return result.code === 0 ? result.stdout.trim().split(/\s+/)[0] : undefined;
}

/** The node's /etc/resolv.conf, line by line, without its comments. */
async function resolvConfLines(netns: string): Promise<string[]> {
  const result = await execIn(netns, ["cat", "/etc/resolv.conf"]);
  return result.stdout.split("\n").filter((l) => !l.startsWith("#"));
}

async function pingName(netns: string, name: string): Promise<{ ok: boolean; output: string }> {
  const result = await execIn(netns, ["ping", "-c1", "-W1", name]);
  return { ok: result.code === 0, output: `${result.stdout}${result.stderr}` };
}

async function createNetwork(name: string): Promise<void> {
  const res = await labnet.waitingClient.POST("/v1/networks", { body: { name } });
  expect(res.response.status).toBe(201);
}

async function createNode(body: components["schemas"]["CreateNodeRequest"]) {
  const res = await labnet.waitingClient.POST("/v1/nodes", { body });
  expect(res.response.status, JSON.stringify(res.error)).toBe(201);
  const node = res.data;
  if (!node) {
    throw new Error("no node in the answer");
  }
  expect(node.state).toBe("ready");
  return { ...node, netns: netnsOf(node.sandboxKey) };
}

/** `docker network connect|disconnect NETWORK NODE`, waiting for the kernel work. */
async function connect(network: string, node: string, aliases?: string[]) {
  const res = await labnet.waitingClient.POST("/v1/networks/{networkId}/connect", {
    params: { path: { networkId: network } },
    body: { node, ...(aliases ? { aliases } : {}) },
  });
  expect(res.response.status, JSON.stringify(res.error)).toBe(200);
  return res.data;
}

async function disconnect(network: string, node: string) {
  const res = await labnet.waitingClient.POST("/v1/networks/{networkId}/disconnect", {
    params: { path: { networkId: network } },
    body: { node },
  });
  expect(res.response.status, JSON.stringify(res.error)).toBe(200);
}

describe("seed 001 exercise 2: networks web and app", () => {
  let web: Awaited<ReturnType<typeof createNode>>;
  let app: Awaited<ReturnType<typeof createNode>>;

  it("web_container on web and app_container on app resolve nothing of each other", async () => {
    await createNetwork("web");
    await createNetwork("app");
    web = await createNode({ name: "web_container", networkMode: "web" });
    app = await createNode({ name: "app_container", networkMode: "app" });
    expect(await resolve(app.netns, "web_container.app")).toBeUndefined();
    expect(await resolve(app.netns, "web_container")).toBeUndefined();
    expect(await resolve(web.netns, "app_container.web")).toBeUndefined();
    // Its own network's names work from the start.
    expect(await resolve(web.netns, "web_container")).toBe(web.networkSettings.networks.web?.ipAddress);
    expect(await resolve(web.netns, "web_container.web")).toBe(web.networkSettings.networks.web?.ipAddress);
  });

  it("docker network connect app web_container: app_container pings web_container.app", async () => {
    const connected = await connect("app", "web_container");
    const onApp = connected?.networkSettings.networks.app?.ipAddress;
    expect(onApp).toMatch(/^172\.19\./);
    expect(await resolve(app.netns, "web_container.app")).toBe(onApp);
    const pinged = await pingName(app.netns, "web_container.app");
    expect(pinged.ok, pinged.output).toBe(true);
    expect(pinged.output).toContain(`PING web_container.app (${onApp})`);
    // A plain name on the shared network too.
    expect(await resolve(app.netns, "web_container")).toBe(onApp);
  });

  it("before app_container joins web, web_container cannot resolve app_container.web", async () => {
    const pinged = await pingName(web.netns, "app_container.web");
    expect(pinged.ok).toBe(false);
    expect(await resolve(web.netns, "app_container.web")).toBeUndefined();
    // They share app, so its name on app resolves.
    expect(await resolve(web.netns, "app_container.app")).toBe(app.networkSettings.networks.app?.ipAddress);
  });

  it("docker network connect web app_container: web_container pings app_container.web", async () => {
    const connected = await connect("web", "app_container");
    const onWeb = connected?.networkSettings.networks.web?.ipAddress;
    expect(onWeb).toMatch(/^172\.18\./);
    const pinged = await pingName(web.netns, "app_container.web");
    expect(pinged.ok, pinged.output).toBe(true);
    expect(pinged.output).toContain(`PING app_container.web (${onWeb})`);
  });

  it("listens on the gateways of web and app, not on the default bridge", async () => {
    const sockets = await execIn(host.hostNetns, ["ss", "-Hlnu", "sport", "=", ":53"]);
    const addresses = sockets.stdout
      .trim()
      .split("\n")
      .map((line) => line.trim().split(/\s+/)[3])
      .sort();
    expect(addresses).toEqual(["172.18.0.1:53", "172.19.0.1:53"]);
  });

  it("after a disconnect the name on that network is gone, with aliases given at connect", async () => {
    await disconnect("web", "app_container");
    expect(await resolve(web.netns, "app_container.web")).toBeUndefined();
    const again = await connect("web", "app_container", ["api"]);
    expect(again?.networkSettings.networks.web?.aliases).toEqual(["api"]);
    const onWeb = again?.networkSettings.networks.web?.ipAddress;
    expect(await resolve(web.netns, "api")).toBe(onWeb);
    expect(await resolve(web.netns, "api.web")).toBe(onWeb);
    await disconnect("web", "app_container");
    expect(await resolve(web.netns, "api")).toBeUndefined();
  });
});

describe("aliases, deletion", () => {
  it("resolves a node by alias and alias.network on its network only, and forgets it when deleted", async () => {
    const db = await createNode({
      name: "db1",
      networks: [{ network: "app", aliases: ["db", "primary.db"] }],
    });
    const address = db.networkSettings.networks.app?.ipAddress;
    expect(db.networkSettings.networks.app?.aliases).toEqual(["db", "primary.db"]);
    const asker = await createNode({ name: "asker", networkMode: "app" });
    for (const name of ["db1", "db", "db.app", "primary.db", "primary.db.app", "DB1.APP"]) {
      expect(await resolve(asker.netns, name), name).toBe(address);
    }
    const webOnly = await createNode({ name: "web_only", networkMode: "web" });
    expect(await resolve(webOnly.netns, "db")).toBeUndefined();
    expect(await resolve(webOnly.netns, "db1.app")).toBeUndefined();

    await deleteNode(labnet, "db1");
    expect(await resolve(asker.netns, "db")).toBeUndefined();
    expect(await resolve(asker.netns, "db1")).toBeUndefined();
    await expect(
      execIn(host.hostNetns, ["test", "-e", path.join(ETC_NETNS_DIR, db.netns)]),
    ).resolves.toMatchObject({
      code: 1,
    });
  });
});

describe("per-node resolver files", () => {
  it("writes hostname, extra hosts and dns settings; forwards other names to the node's servers", async () => {
    const node = await createNode({
      name: "custom",
      networkMode: "app",
      hostname: "web1.lab.example",
      dns: { servers: ["198.18.50.3"], search: ["lab.example"], options: ["timeout:1"] },
      extraHosts: ["db.lab:192.0.2.7", "gw.lab:host-gateway"],
    });
    expect(node).toMatchObject({
      hostname: "web1.lab.example",
      dns: { servers: ["198.18.50.3"], search: ["lab.example"], options: ["timeout:1"] },
      extraHosts: ["db.lab:192.0.2.7", "gw.lab:host-gateway"],
    });
    const address = node.networkSettings.networks.app?.ipAddress ?? "";
    expect(await resolvConfLines(node.netns)).toEqual([
      "nameserver 172.19.0.1",
      "search lab.example",
      "options ndots:0 timeout:1",
      "",
    ]);
    const hosts = await execIn(node.netns, ["cat", "/etc/hosts"]);
    expect(hosts.stdout).toContain("127.0.0.1\tlocalhost\n");
    expect(hosts.stdout).toContain("192.0.2.7\tdb.lab\n");
    expect(hosts.stdout).toContain("172.19.0.1\tgw.lab\n");
    expect(hosts.stdout).toContain(`${address}\tweb1.lab.example web1\n`);
    expect(await resolve(node.netns, "web1")).toBe(address);
    expect(await resolve(node.netns, "db.lab")).toBe("192.0.2.7");
    // Not Labnet's: forwarded to the node's own server (which answers 192.0.2.3).
    expect(await resolve(node.netns, "www.example.test")).toBe("192.0.2.3");
    await upstream.waitForOutput(/^asked www\.example\.test A$/, 5_000);
  });

  it("forwards other names to the host's resolvers when the node has none, SERVFAIL when they are silent", async () => {
    const plain = await createNode({ name: "plain", networkMode: "app" });
    expect(await resolve(plain.netns, "api.example.test")).toBe("192.0.2.2");
    const silent = await createNode({
      name: "silent",
      networkMode: "app",
      dns: { servers: ["198.18.50.9"] },
    });
    const started = Date.now();
    expect(await resolve(silent.netns, "api.example.test")).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it("gives a node in mode none only its own servers", async () => {
    const none = await createNode({ name: "loner", networkMode: "none", dns: { servers: ["192.0.2.53"] } });
    expect(await resolvConfLines(none.netns)).toEqual(["nameserver 192.0.2.53", ""]);
  });
});

describe("the default bridge", () => {
  it("has no name resolution: its nodes get the host's resolvers and do not resolve each other", async () => {
    const one = await createNode({ name: "b1" });
    const two = await createNode({ name: "b2" });
    expect(await resolvConfLines(one.netns)).toEqual([
      "nameserver 198.18.50.2",
      "search corp.test",
      "options rotate",
      "",
    ]);
    expect(await resolve(one.netns, "b2")).toBeUndefined();
    expect(await resolve(two.netns, "b1.bridge")).toBeUndefined();
    // Its own hostname comes from its hosts file.
    expect(await resolve(one.netns, "b1")).toBe(one.networkSettings.networks.bridge?.ipAddress);
  });
});

describe("bad names answer a problem naming the field and change nothing", () => {
  const cases: { name: string; body: Record<string, unknown>; status: number; location: string }[] = [
    {
      name: "hostname label too long",
      body: { hostname: `${"a".repeat(64)}.lab` },
      status: 422,
      location: "body.hostname",
    },
    {
      name: "hostname starting with a dash",
      body: { hostname: "-web" },
      status: 422,
      location: "body.hostname",
    },
    {
      name: "hostname with an underscore",
      body: { hostname: "web_1" },
      status: 400,
      location: "body.hostname",
    },
    {
      name: "alias with a trailing dash",
      body: { networks: [{ network: "app", aliases: ["db-"] }] },
      status: 422,
      location: "body.networks[0].aliases[0]",
    },
    {
      name: "alias with a space",
      body: { networks: [{ network: "app", aliases: ["a b"] }] },
      status: 400,
      location: "body.networks[0].aliases[0]",
    },
    {
      name: "extra host without address",
      body: { extraHosts: ["db.lab"] },
      status: 400,
      location: "body.extraHosts[0]",
    },
    {
      name: "extra host with a bad address",
      body: { extraHosts: ["db.lab:1.2.3"] },
      status: 422,
      location: "body.extraHosts[0]",
    },
    {
      name: "dns server not IPv4",
      body: { dns: { servers: ["dns.example"] } },
      status: 422,
      location: "body.dns.servers[0]",
    },
    {
      name: "dns option with a newline",
      body: { dns: { options: ["ndots:1\nnameserver 1.2.3.4"] } },
      status: 400,
      location: "body.dns.options[0]",
    },
  ];
  it.each(cases)("$name", ({ body, status, location }) =>
    expectProblemChangingNothing(labnet, () => countRows(labnet.db, { nodes: schema.nodes }), {
      method: "POST",
      path: "/v1/nodes",
      body: { name: "bad", networkMode: "app", ...body },
      status,
      location,
    }),
  );
});
