/**
 * Node views (`docker inspect`'s NetworkSettings) as one statement reads them: the app in
 * process against a test database, no executor. Each network mode shows where its
 * networking lives; the answer to POST, GET by id, GET by name and the list agree.
 */
import type { Schema } from "@labnet/api";
import type { HostRow } from "@labnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { registerTestHost } from "../helpers/test-host";

type Node = Schema<"Node">;

let labnet: TestLabnet;
let host: HostRow;
const created = new Map<string, Node>();

async function post(body: Schema<"CreateNodeRequest">): Promise<Node> {
  const res = await labnet.request("POST", "/v1/nodes", { body });
  expect(res.status).toBe(202);
  const node = (await res.json()) as Node;
  created.set(node.name, node);
  return node;
}

async function get(ref: string): Promise<Node> {
  const res = await labnet.request("GET", `/v1/nodes/${ref}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Node;
}

beforeAll(async () => {
  labnet = await startTestLabnet();
  host = await registerTestHost(labnet.db, {
    name: "nv-host",
    netnsPrefix: "nv-",
    netnsPath: "/run/netns/nv-host",
  });
  for (const body of [
    { name: "web", host: host.name, ipam: { configs: [{ subnet: "10.60.0.0/24" }] } },
    { name: "inside", host: host.name, internal: true, ipam: { configs: [{ subnet: "10.61.0.0/24" }] } },
  ]) {
    expect((await labnet.request("POST", "/v1/networks", { body })).status).toBe(202);
  }
  await post({
    name: "a",
    networks: [{ network: "web", aliases: ["www"] }, { network: "inside" }],
    ports: ["8080:80", "127.0.0.1:5353:53/udp"],
    exposedPorts: ["443"],
  });
  await post({ name: "b", host: host.name, networkMode: "container:a" });
  await post({ name: "h", host: host.name, networkMode: "host" });
  await post({ name: "n", host: host.name, networkMode: "none" });
});

afterAll(async () => {
  await labnet?.stop();
});

describe("a node's view", () => {
  it("shows its endpoints in attach order, with gateway, MAC and aliases, and its ports", async () => {
    const a = await get("a");
    expect(a.sandboxKey).toBe(`/run/netns/nv-${a.id.slice(4)}`);
    expect(a.networkSettings.sandboxKey).toBe(a.sandboxKey);
    expect(a.networkSettings.networks).toEqual({
      web: expect.objectContaining({
        interface: "eth0",
        ipAddress: "10.60.0.2",
        ipPrefixLen: 24,
        gateway: "10.60.0.1",
        macAddress: "02:42:0a:3c:00:02",
        aliases: ["www"],
      }),
      // Like Docker: an internal network gives the node no gateway.
      inside: expect.objectContaining({ interface: "eth1", ipAddress: "10.61.0.2", gateway: "" }),
    });
    expect(a.networkSettings.ports).toEqual({
      "53/udp": [{ hostIp: "127.0.0.1", hostPort: "5353" }],
      "80/tcp": [{ hostIp: "0.0.0.0", hostPort: "8080" }],
      "443/tcp": null,
    });
    expect(a.operation).toMatchObject({ state: "queued", href: `/v1/operations/${a.operation?.id}` });
  });

  it("of mode container: shows the shared node's namespace and endpoints", async () => {
    const [a, b] = [await get("a"), await get("b")];
    expect(b.networkMode).toBe("container:a");
    expect(b.sandboxKey).toBe(a.sandboxKey);
    expect(b.networkSettings.networks).toEqual(a.networkSettings.networks);
    expect(b.networkSettings.ports).toEqual({});
  });

  it("of mode host shows the host's namespace and no endpoints; mode none its own and none", async () => {
    const [h, n] = [await get("h"), await get("n")];
    expect(h.sandboxKey).toBe("/run/netns/nv-host");
    expect(h.networkSettings.networks).toEqual({});
    expect(n.sandboxKey).toBe(`/run/netns/nv-${n.id.slice(4)}`);
    expect(n.networkSettings.networks).toEqual({});
  });

  it("is the same from POST, GET by id, GET by name and the list", async () => {
    const res = await labnet.request("GET", "/v1/nodes");
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Node[] };
    expect(items.map((n) => n.name)).toEqual(["a", "b", "h", "n"]);
    for (const item of items) {
      expect(await get(item.id)).toEqual(item);
      expect(await get(item.name)).toEqual(item);
      expect(created.get(item.name)).toEqual(item);
    }
  });

  it("lists by network", async () => {
    const res = await labnet.request("GET", "/v1/nodes?network=inside");
    const { items } = (await res.json()) as { items: Node[] };
    expect(items.map((n) => n.name)).toEqual(["a"]);
  });

  it("lists by network id, empty for a network without nodes, 404 for an unknown network", async () => {
    const networks = (await (await labnet.request("GET", "/v1/networks")).json()) as {
      items: { id: string; name: string }[];
    };
    const byName = new Map(networks.items.map((n) => [n.name, n.id]));
    const listOf = async (ref: string) => labnet.request("GET", `/v1/nodes?network=${ref}`);
    const web = await listOf(byName.get("web") ?? "");
    expect(((await web.json()) as { items: Node[] }).items.map((n) => n.name)).toEqual(["a"]);
    const empty = (await labnet
      .request("POST", "/v1/networks", {
        body: { name: "empty", host: host.name, ipam: { configs: [{ subnet: "10.62.0.0/24" }] } },
      })
      .then((res) => res.json())) as { id: string };
    const none = await listOf(empty.id);
    expect(none.status).toBe(200);
    expect(((await none.json()) as { items: Node[] }).items).toEqual([]);
    for (const ref of ["net_aaaaaaaaaaaaaaaa", "nowhere"]) {
      const res = await listOf(ref);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { errors: { location: string }[] }).errors[0]?.location).toBe(
        "query.network",
      );
    }
  });

  it("answers 404 for an unknown node, by id and by name", async () => {
    for (const ref of ["nod_aaaaaaaaaaaaaaaa", "nobody"]) {
      const res = await labnet.request("GET", `/v1/nodes/${ref}`);
      expect(res.status).toBe(404);
    }
  });
});
