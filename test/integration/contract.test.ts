/**
 * Contract conformance (issue 14 item 4), each point found by trying it: the in-process
 * gateway over a test database and a host with no executor. Every answer here, as everywhere
 * in the suite, is also checked against openapi/labnet.yaml by the test Labnet itself.
 */
import type { Schema } from "@labnet/api";
import { schema } from "@labnet/db";
import { createResponseValidator } from "@labnet/gateway";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { readProblem } from "../helpers/problems";
import { registerTestHost } from "../helpers/test-host";

type Network = Schema<"Network">;
type Node = Schema<"Node">;

let labnet: TestLabnet;
const HOST = "ct-host";

async function createNetwork(name: string, body: Record<string, unknown> = {}): Promise<Network> {
  const res = await labnet.request("POST", "/v1/networks", { body: { name, host: HOST, ...body } });
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as Network;
}

async function createNode(name: string, body: Record<string, unknown> = {}): Promise<Node> {
  const res = await labnet.request("POST", "/v1/nodes", { body: { name, host: HOST, ...body } });
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as Node;
}

beforeAll(async () => {
  labnet = await startTestLabnet();
  await registerTestHost(labnet.db, { name: HOST, netnsPrefix: "ct-" });
  await createNetwork("web-front", { ipam: { configs: [{ subnet: "10.70.0.0/24" }] } });
  await createNetwork("web-back", { ipam: { configs: [{ subnet: "10.70.1.0/24" }] } });
  await createNetwork("db_net", { ipam: { configs: [{ subnet: "10.70.2.0/24" }] } });
});

afterAll(async () => {
  await labnet?.stop();
});

describe("name filters: the name contains the value, as Docker's", () => {
  it("networks: web matches web-front and web-back; _ is itself, not a pattern", async () => {
    const names = async (name: string) =>
      (
        (await (await labnet.request("GET", `/v1/networks?name=${name}`)).json()) as { items: Network[] }
      ).items
        .map((n) => n.name)
        .sort();
    expect(await names("web")).toEqual(["web-back", "web-front"]);
    expect(await names("front")).toEqual(["web-front"]);
    expect(await names("_")).toEqual(["db_net"]);
    expect(await names("%25")).toEqual([]);
  });

  it("nodes: ent matches client1 and client2, not server", async () => {
    for (const name of ["client1", "client2", "server"]) {
      await createNode(name, { networkMode: "web-front" });
    }
    const res = await labnet.request("GET", "/v1/nodes?name=ent");
    const items = ((await res.json()) as { items: Node[] }).items.map((n) => n.name).sort();
    expect(items).toEqual(["client1", "client2"]);
  });
});

describe("a wrong method", () => {
  it("answers 405 METHOD_NOT_ALLOWED with Allow listing the path's methods", async () => {
    const res = await labnet.request("PUT", "/v1/networks/web-front", { body: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("DELETE, GET, HEAD, OPTIONS, PATCH");
    expect((await readProblem(res)).code).toBe("METHOD_NOT_ALLOWED");
    const list = await labnet.request("DELETE", "/v1/networks");
    expect(list.status).toBe(405);
    expect(list.headers.get("allow")).toBe("GET, HEAD, OPTIONS, POST");
  });

  it("OPTIONS answers 204 with Allow; a path the contract does not have stays 404", async () => {
    const options = await labnet.request("OPTIONS", "/v1/nodes/client1");
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("DELETE, GET, HEAD, OPTIONS");
    const unknown = await labnet.request("PUT", "/v1/nothing-here");
    expect(unknown.status).toBe(404);
    expect((await readProblem(unknown)).code).toBe("NOT_FOUND");
  });
});

describe("DELETE without Prefer answers 202 with the operation, as the document says", () => {
  it("a network: its network.remove operation, with Operation-Location", async () => {
    await createNetwork("doomed", { ipam: { configs: [{ subnet: "10.70.9.0/24" }] } });
    const res = await labnet.request("DELETE", "/v1/networks/doomed");
    expect(res.status).toBe(202);
    const body = (await res.json()) as Schema<"Operation">;
    expect(body).toMatchObject({ kind: "network.remove", state: "queued", target: { type: "network" } });
    expect(res.headers.get("operation-location")).toBe(`/v1/operations/${body.id}`);
    // Again while it is deleting: the same running operation.
    const again = await labnet.request("DELETE", "/v1/networks/doomed");
    expect(again.status).toBe(202);
    expect(((await again.json()) as Schema<"Operation">).id).toBe(body.id);
  });

  it("a node: its node.remove operation", async () => {
    await createNode("gone", { networkMode: "web-back" });
    const res = await labnet.request("DELETE", "/v1/nodes/gone");
    expect(res.status).toBe(202);
    const body = (await res.json()) as Schema<"Operation">;
    expect(body).toMatchObject({ kind: "node.remove", target: { type: "node" } });
    expect(res.headers.get("operation-location")).toBe(`/v1/operations/${body.id}`);
  });
});

describe("a node's default hostname is always a valid hostname", () => {
  it("web_container gets web-container (the hostname field refuses _), a valid name keeps its own", async () => {
    const web = await createNode("web_container", { networkMode: "web-back" });
    expect(web.hostname).toBe("web-container");
    const refused = await labnet.request("POST", "/v1/nodes", {
      body: { name: "other", host: HOST, networkMode: "web-back", hostname: "web_container" },
    });
    expect(refused.status).toBe(400);
    expect((await readProblem(refused)).errors?.[0]?.location).toBe("body.hostname");
    const plain = await createNode("centos1", { networkMode: "web-back" });
    expect(plain.hostname).toBe("centos1");
  });
});

describe("a host's capabilities.drivers", () => {
  it("lists only drivers a network can be created with (never host or none)", async () => {
    const res = await labnet.request("GET", `/v1/hosts/${HOST}`);
    const host = (await res.json()) as Schema<"Host">;
    expect(host.capabilities.drivers).toEqual(["bridge"]);
  });
});

describe("the response validator itself", () => {
  const validate = createResponseValidator();
  const request = (method: string, path: string) => new Request(`http://labnet.test${path}`, { method });
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", "x-request-id": "r1", ...headers },
    });

  it("passes an answer the document declares and fails what it does not", async () => {
    const ok = await labnet.request("GET", "/v1/networks/web-front");
    expect(await validate(request("GET", "/v1/networks/web-front"), ok)).toEqual([]);
    expect(await validate(request("GET", "/v1/networks/x"), json(418, {}))).toEqual([
      expect.stringMatching(/getNetwork .* answered 418, which it does not declare/),
    ]);
    expect(await validate(request("GET", "/v1/networks/x"), json(200, { id: 1 }, { etag: '"1"' }))).toEqual([
      expect.stringMatching(/the body does not match the schema/),
    ]);
    // The ETag the document requires.
    expect(
      await validate(request("GET", "/v1/networks/web-front"), json(200, await ok.clone().json())),
    ).toEqual([expect.stringMatching(/header ETag is required but missing/)]);
    // A 202 of a removal must carry Operation-Location.
    const operation = await labnet.request("DELETE", "/v1/nodes/client2");
    const body = await operation.json();
    expect(await validate(request("DELETE", "/v1/nodes/client2"), json(202, body))).toEqual([
      expect.stringMatching(/header Operation-Location is required but missing/),
    ]);
    expect(await validate(request("PUT", "/v1/networks/x"), json(404, {}))).toEqual([
      expect.stringMatching(/content type application\/json, want application\/problem\+json/),
    ]);
  });
});

describe("ETag and If-Match on changes", () => {
  it("a network: GET gives its ETag; a change with a stale If-Match is refused 412 and changes nothing", async () => {
    const read = await labnet.request("GET", "/v1/networks/web-front");
    const etag = read.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[0-9]+"$/);
    const changed = await labnet.request("PATCH", "/v1/networks/web-front", {
      body: { labels: { course: "net101" } },
      headers: { "if-match": etag },
    });
    expect(changed.status).toBe(200);
    const next = changed.headers.get("etag") ?? "";
    expect(next).not.toBe(etag);
    expect(((await changed.json()) as Network).labels).toEqual({ course: "net101" });

    // Someone else's change since the first read: that ETag is stale now.
    const stale = await labnet.request("PATCH", "/v1/networks/web-front", {
      body: { labels: { course: "net999" }, options: { isolated: false } },
      headers: { "if-match": etag },
    });
    expect(stale.status).toBe(412);
    const problem = await readProblem(stale);
    expect(problem.code).toBe("PRECONDITION_FAILED");
    expect(problem.errors).toEqual([{ location: "header.If-Match", message: expect.stringContaining(next) }]);
    const after = await labnet.request("GET", "/v1/networks/web-front");
    const body = (await after.json()) as Network;
    expect(body.labels).toEqual({ course: "net101" });
    expect(body.options.isolated).toBe(true);
    expect(after.headers.get("etag")).toBe(next);

    // A weak tag never matches; * and a list holding the current one do.
    for (const [ifMatch, status] of [
      [`W/${next}`, 412],
      [`"1", ${next}`, 200],
      ["*", 200],
    ] as const) {
      const res = await labnet.request("PATCH", "/v1/networks/web-front", {
        body: { labels: { tries: "yes" } },
        headers: { "if-match": ifMatch },
      });
      expect(res.status, ifMatch).toBe(status);
    }
  });

  it("a network's ETag moves with every change of it, also those the API did not make (its state)", async () => {
    const before = (await labnet.request("GET", "/v1/networks/web-back")).headers.get("etag");
    await labnet.db
      .update(schema.networks)
      .set({ state: "ready" })
      .where(eq(schema.networks.name, "web-back"));
    const after = (await labnet.request("GET", "/v1/networks/web-back")).headers.get("etag");
    expect(after).not.toBe(before);
  });

  it("an account: a stale If-Match is refused 412 and the quotas stay", async () => {
    const who = (await (await labnet.request("GET", "/v1/whoami")).json()) as Schema<"Whoami">;
    const id = who.account?.id ?? "";
    const read = await labnet.request("GET", `/v1/accounts/${id}`);
    const etag = read.headers.get("etag") ?? "";
    const first = await labnet.request("PATCH", `/v1/accounts/${id}`, {
      body: { quotas: { nodes: 50 } },
      headers: { "if-match": etag },
    });
    expect(first.status).toBe(200);
    const stale = await labnet.request("PATCH", `/v1/accounts/${id}`, {
      body: { quotas: { nodes: 1 } },
      headers: { "if-match": etag },
    });
    expect(stale.status).toBe(412);
    expect((await readProblem(stale)).code).toBe("PRECONDITION_FAILED");
    const account = (await (await labnet.request("GET", `/v1/accounts/${id}`)).json()) as Schema<"Account">;
    expect(account.quotas.nodes).toBe(50);
  });
});

describe("PATCH changes labels", () => {
  it("a merge patch: strings set, null removes, the rest stays; no operation for labels alone", async () => {
    await createNetwork("labelled", {
      labels: { a: "1", b: "2" },
      ipam: { configs: [{ subnet: "10.70.3.0/24" }] },
    });
    const res = await labnet.request("PATCH", "/v1/networks/labelled", {
      body: { labels: { b: null, c: "3" } },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("operation-location")).toBeNull();
    expect(((await res.json()) as Network).labels).toEqual({ a: "1", c: "3" });
    const listed = await labnet.request("GET", "/v1/networks?label=c=3");
    expect(((await listed.json()) as { items: Network[] }).items.map((n) => n.name)).toEqual(["labelled"]);
  });

  it("with a switch, the change queues its network.ensure (202 with Operation-Location)", async () => {
    const res = await labnet.request("PATCH", "/v1/networks/labelled", {
      body: { labels: { d: "4" }, options: { isolated: false } },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("operation-location")).toMatch(/^\/v1\/operations\/op_/);
    expect(res.headers.get("etag")).toMatch(/^"[0-9]+"$/);
  });

  it("refuses an empty patch and a bad label key, changing nothing", async () => {
    for (const body of [{}, { labels: {} }, { labels: { "-bad": "x" } }, { labels: { ok: 5 } }]) {
      const res = await labnet.request("PATCH", "/v1/networks/labelled", { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const network = (await (await labnet.request("GET", "/v1/networks/labelled")).json()) as Network;
    expect(network.labels).toEqual({ a: "1", c: "3", d: "4" });
  });
});

describe("pagination: limit and cursor on every list", () => {
  /** What identifies an item of any list: its id, name, address (allocations) or base (pools). */
  type Item = { id?: string | null; name?: string; address?: string; base?: string };
  const idOf = (i: Item) => i.id ?? i.name ?? i.address ?? i.base ?? "";

  /** Every item of a list, page by page, and the number of pages it took. */
  async function walk(path: string, limit: number): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const query = `${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await labnet.request("GET", `${path}${query}`);
      expect(res.status, await res.clone().text()).toBe(200);
      const page = (await res.json()) as { items: Item[]; next: string | null };
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map(idOf));
      cursor = page.next;
      pages++;
    } while (cursor !== null && pages < 100);
    return { ids, pages };
  }

  it.each([
    "/v1/networks",
    "/v1/nodes",
    "/v1/hosts",
    "/v1/machines",
    "/v1/tokens",
    "/v1/lab-templates",
    "/v1/labs",
    `/v1/hosts/${HOST}/ports`,
    `/v1/machines/${HOST}/ports`,
    "/v1/networks/web-front/allocations",
    "/v1/ipam/pools",
  ])("%s: pages of 2 hold the whole list once, in its order", async (path) => {
    if (path.endsWith("/ports")) {
      await labnet.request("POST", "/v1/nodes", {
        body: { name: `pub${Math.random().toString(36).slice(2, 8)}`, host: HOST, ports: ["80", "81", "82"] },
      });
    }
    const whole = (await (await labnet.request("GET", path)).json()) as {
      items: Item[];
      next: string | null;
    };
    expect(whole.next).toBeNull();
    const all = whole.items.map(idOf);
    const paged = await walk(path, 2);
    expect(paged.ids).toEqual(all);
    expect(paged.pages).toBe(Math.max(1, Math.ceil(all.length / 2)));
  });

  it("a cursor that no page gave, and a limit out of range, are 400s naming the parameter", async () => {
    const cursor = await labnet.request("GET", "/v1/networks?limit=1&cursor=bogus");
    expect(cursor.status).toBe(400);
    expect((await readProblem(cursor)).errors?.[0]?.location).toBe("query.cursor");
    const limit = await labnet.request("GET", "/v1/nodes?limit=0");
    expect(limit.status).toBe(400);
    expect((await readProblem(limit)).errors?.[0]?.location).toBe("query.limit");
  });
});

describe("401 answers", () => {
  it("carry WWW-Authenticate, as the document declares (the validator requires it on every 401)", async () => {
    for (const authorization of [undefined, "Bearer lnt_nope", "Basic abc"]) {
      const res = await labnet.app.fetch(
        new Request("http://labnet.test/v1/networks", {
          headers: authorization ? { authorization } : {},
        }),
      );
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="labnet"');
      expect((await readProblem(res)).code).toBe("UNAUTHORIZED");
    }
  });
});
