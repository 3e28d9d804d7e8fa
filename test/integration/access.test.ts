/**
 * Access at the API (issue 11): tokens and roles, tenancy, the audit log, quotas and rate
 * limits. Two instructors, X and Y; X's lab `acx` has students s01 (A) and s02 (B), Y's lab
 * `acy` one student. The app in process over a database of its own; no executor (what is
 * checked is who may read and record what).
 */

import { openapiDocument } from "@labnet/api";
import { schema } from "@labnet/db";
import { indexOperations } from "@labnet/gateway";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { countRows } from "../helpers/row-counts";
import { registerTestHost } from "../helpers/test-host";

let labnet: TestLabnet;
let labHostId: string;

interface Caller {
  token: string;
  id: string;
}
const x = {} as Caller & { account: string };
const y = {} as Caller & { account: string };
const a = {} as Caller & { instance: string };
const b = {} as Caller & { instance: string };
/** Resources of student A's instance (the ones B must not reach). */
const ofA = {} as { machine: string; node: string; nodeName: string; network: string; operation: string };
let labX = "";
let labY = "";
let runOfClass = "";

/** A call through the app with `token`. */
async function call(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await labnet.app.fetch(
    new Request(`http://labnet.test${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: json as Record<string, unknown> & { items?: unknown[] },
  };
}

const TEMPLATE = [
  "name: ac-two-nets",
  "networks:",
  "  web: {}",
  "services:",
  "  web_container: { networks: [web] }",
  "  app_container: { networks: [web] }",
  "students:",
  "  may: [connect, disconnect, networks]",
  "  limits: { networks: 2 }",
].join("\n");

beforeAll(async () => {
  labnet = await startTestLabnet({ access: { rateLimits: { admin: 0, instructor: 0, student: 0 } } });
  labHostId = (await registerTestHost(labnet.db, { name: "ac-lab", netnsPrefix: "ac-" })).id;
  for (const [who, name] of [
    [x, "instructor X"],
    [y, "instructor Y"],
  ] as const) {
    const made = await call(labnet.adminToken, "POST", "/v1/tokens", { name, role: "instructor" });
    expect(made.status, made.text).toBe(201);
    Object.assign(who, { token: made.json.secret, id: made.json.id, account: made.json.account });
  }
  const template = await call(x.token, "POST", "/v1/lab-templates", { source: TEMPLATE });
  expect(template.status, template.text).toBe(201);
  const created = await call(x.token, "POST", "/v1/labs", {
    name: "acx",
    template: "ac-two-nets",
    count: 2,
    studentTokens: {},
  });
  expect(created.status, created.text).toBe(202);
  labX = String(created.json.id);
  const tokens = created.json.studentTokens as {
    student: string;
    instance: string;
    token: { id: string; secret: string };
  }[];
  expect(tokens.map((t) => t.student)).toEqual(["s01", "s02"]);
  for (const [who, t] of [
    [a, tokens[0]],
    [b, tokens[1]],
  ] as const) {
    Object.assign(who, { token: t?.token.secret, id: t?.token.id, instance: t?.instance });
  }
  const other = await call(y.token, "POST", "/v1/labs", {
    name: "acy",
    template: "builtin:seed-001-ex2",
    count: 1,
  });
  expect(other.status, other.text).toBe(202);
  labY = String(other.json.id);

  const machines = await call(a.token, "GET", "/v1/machines");
  ofA.machine = String((machines.json.items as { id: string }[])[0]?.id);
  const nodes = await call(a.token, "GET", "/v1/nodes");
  const node = (nodes.json.items as { id: string; name: string; operation?: { id: string } }[])[0];
  ofA.node = String(node?.id);
  ofA.nodeName = String(node?.name);
  const networks = await call(a.token, "GET", `/v1/networks?host=${ofA.machine}`);
  ofA.network = String(
    (networks.json.items as { id: string; name: string }[]).find((n) => n.name === "web")?.id,
  );
  const [op] = await labnet.db
    .select({ id: schema.operations.id })
    .from(schema.operations)
    .where(eq(schema.operations.hostId, ofA.machine))
    .limit(1);
  ofA.operation = String(op?.id);
  const run = await labnet.db
    .insert(schema.labCheckRuns)
    .values({ id: "chk_acaaaaaaaaaaaaaa", labId: labX, instanceIds: [a.instance, b.instance] })
    .returning();
  runOfClass = String(run[0]?.id);
});

afterAll(async () => {
  await labnet?.stop();
});

describe("tokens", () => {
  it("whoami says who a token is and what it reaches", async () => {
    const me = await call(a.token, "GET", "/v1/whoami");
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({
      token: { id: a.id, role: "student", instance: a.instance, lab: labX, account: x.account },
      account: null,
      scope: {
        all: false,
        lab: labX,
        instance: a.instance,
        machines: [ofA.machine],
        may: ["connect", "disconnect", "networks"],
      },
    });
    const admin = await call(labnet.adminToken, "GET", "/v1/whoami");
    expect(admin.json).toMatchObject({ token: { role: "admin" }, scope: { all: true } });
    const instructor = await call(x.token, "GET", "/v1/whoami");
    expect(instructor.json).toMatchObject({
      account: { id: x.account, role: "instructor", usage: { labs: 1, instances: 2, machines: 2 } },
    });
  });

  it("never shows a secret or its hash after creation", async () => {
    const listed = await call(x.token, "GET", "/v1/tokens");
    expect(listed.status).toBe(200);
    for (const secret of [a.token, b.token, x.token]) {
      expect(listed.text).not.toContain(secret);
    }
    expect(listed.text).not.toMatch(/secret|hash/i);
    const one = await call(x.token, "GET", `/v1/tokens/${a.id}`);
    expect(one.status).toBe(200);
    expect(Object.keys(one.json)).not.toContain("secret");
    // A has used its token (beforeAll): when is recorded.
    expect(one.json.lastUsedAt).toEqual(expect.any(String));
  });

  it("an instructor sees their account's tokens and their students', not another instructor's", async () => {
    const listed = await call(x.token, "GET", "/v1/tokens");
    const ids = (listed.json.items as { id: string }[]).map((t) => t.id);
    expect(ids).toEqual(expect.arrayContaining([x.id, a.id, b.id]));
    expect(ids).not.toContain(y.id);
    expect((await call(y.token, "GET", `/v1/tokens/${a.id}`)).status).toBe(404);
    expect((await call(y.token, "DELETE", `/v1/tokens/${a.id}`)).status).toBe(404);
    expect((await call(a.token, "GET", "/v1/tokens")).json.items).toEqual([
      expect.objectContaining({ id: a.id }),
    ]);
  });

  it("who may create which token", async () => {
    expect(
      (await call(a.token, "POST", "/v1/tokens", { name: "mine", role: "student", instance: a.instance }))
        .status,
    ).toBe(403);
    expect((await call(x.token, "POST", "/v1/tokens", { name: "root", role: "admin" })).status).toBe(403);
    // Y cannot mint a token for X's student's instance: it does not exist for Y.
    const foreign = await call(y.token, "POST", "/v1/tokens", {
      name: "s",
      role: "student",
      instance: a.instance,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.json.errors).toEqual([{ location: "body.instance", message: expect.any(String) }]);
    const more = await call(x.token, "POST", "/v1/tokens", { name: "X laptop", role: "instructor" });
    expect(more.status).toBe(201);
    expect(more.json.account).toBe(x.account);
  });

  it("a revoked token is refused at once, an expired one too", async () => {
    const made = await call(x.token, "POST", "/v1/tokens", {
      name: "short",
      role: "student",
      instance: a.instance,
    });
    const secret = String(made.json.secret);
    expect((await call(secret, "GET", "/v1/whoami")).status).toBe(200);
    expect((await call(x.token, "DELETE", `/v1/tokens/${made.json.id}`)).status).toBe(204);
    const refused = await call(secret, "GET", "/v1/whoami");
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);

    const later = await call(x.token, "POST", "/v1/tokens", {
      name: "later",
      role: "student",
      instance: a.instance,
    });
    await labnet.db
      .update(schema.tokens)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(schema.tokens.id, String(later.json.id)));
    expect((await call(String(later.json.secret), "GET", "/v1/whoami")).status).toBe(401);
  });
});

describe("a student's scope", () => {
  it("sees only its own instance of its lab", async () => {
    const labs = await call(a.token, "GET", "/v1/labs");
    expect((labs.json.items as { id: string }[]).map((l) => l.id)).toEqual([labX]);
    const lab = await call(a.token, "GET", `/v1/labs/${labX}`);
    expect((lab.json.instances as { id: string }[]).map((i) => i.id)).toEqual([a.instance]);
    expect(lab.json.summary).toMatchObject({ total: 1 });
    expect((await call(a.token, "GET", `/v1/labs/${labY}`)).status).toBe(404);
    expect((await call(a.token, "GET", "/v1/lab-templates")).status).toBe(403);
    expect((await call(a.token, "GET", "/v1/lab-templates/ac-two-nets")).status).toBe(404);
    expect((await call(a.token, "GET", "/v1/hosts")).status).toBe(403);
    expect((await call(a.token, "GET", `/v1/hosts/${labHostId}`)).status).toBe(404);
  });

  it("a name means its own resource, not one of the class's", async () => {
    const own = await call(a.token, "GET", `/v1/nodes/${ofA.nodeName}`);
    expect(own.status, own.text).toBe(200);
    expect(own.json.id).toBe(ofA.node);
    const theirs = await call(b.token, "GET", `/v1/nodes/${ofA.nodeName}`);
    expect(theirs.status).toBe(200);
    expect(theirs.json.id).not.toBe(ofA.node);
  });

  it("changes its instance as the template allows, and nothing else", async () => {
    const created = await call(a.token, "POST", "/v1/networks", { name: "extra" });
    expect(created.status, created.text).toBe(202);
    expect(created.json.hostId).toBe(ofA.machine);
    // The template allows 2 networks in an instance: web and this one.
    const third = await call(a.token, "POST", "/v1/networks", { name: "third" });
    expect(third.status, third.text).toBe(403);
    expect(third.json.code).toBe("QUOTA_EXCEEDED");
    // Nodes are not on the template's list for students.
    const node = await call(a.token, "POST", "/v1/nodes", { name: "mine", networkMode: "web" });
    expect(node.status).toBe(403);
    expect(String(node.json.detail)).toMatch(/students\.may/);
    const connect = await call(a.token, "POST", `/v1/networks/extra/connect`, { node: ofA.nodeName });
    expect(connect.status, connect.text).toBe(202);
    // The instance's timeline says who: the student's token made the network.
    const timeline = await call(x.token, "GET", `/v1/labs/${labX}/instances/s01/timeline`);
    expect(timeline.status, timeline.text).toBe(200);
    const made = (
      timeline.json.items as { type: string; requestId: string | null; data: { name?: string } }[]
    ).find((e) => e.type === "network.created" && e.data.name === "extra");
    expect(made?.requestId).toEqual(expect.any(String));
    expect(timeline.json.requests).toContainEqual(
      expect.objectContaining({
        requestId: made?.requestId,
        token: a.id,
        role: "student",
        operationId: "createNetwork",
      }),
    );
  });

  it("reaches nothing of another instance", async () => {
    expect((await call(b.token, "GET", `/v1/machines/${ofA.machine}`)).status).toBe(404);
    expect((await call(b.token, "GET", `/v1/nodes/${ofA.node}`)).status).toBe(404);
    expect(
      (await call(b.token, "POST", `/v1/nodes/${ofA.node}/exec`, { argv: ["ip", "addr", "show"] })).status,
    ).toBe(404);
    const elsewhere = await call(b.token, "POST", "/v1/networks", { name: "intrude", host: ofA.machine });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.json.errors).toEqual([{ location: "body.host", message: "not found" }]);
    const connect = await call(b.token, "POST", `/v1/networks/web/connect`, { node: ofA.node });
    expect(connect.status).toBe(404);
    expect((await call(b.token, "GET", `/v1/labs/${labX}/check-runs/${runOfClass}`)).status).toBe(404);
    const listed = await call(b.token, "GET", "/v1/nodes");
    expect(listed.text).not.toContain(ofA.node);
  });
});

describe("instructors", () => {
  it("X cannot see or change Y's labs, templates or students", async () => {
    expect((await call(x.token, "GET", `/v1/labs/${labY}`)).status).toBe(404);
    expect((await call(x.token, "DELETE", `/v1/labs/${labY}`)).status).toBe(404);
    expect((await call(y.token, "GET", "/v1/lab-templates/ac-two-nets")).status).toBe(404);
    expect((await call(y.token, "DELETE", "/v1/lab-templates/ac-two-nets")).status).toBe(404);
    const labs = await call(y.token, "GET", "/v1/labs");
    expect((labs.json.items as { id: string }[]).map((l) => l.id)).toEqual([labY]);
    const machines = await call(y.token, "GET", "/v1/machines");
    expect(machines.text).not.toContain(ofA.machine);
    // A template name another account holds is refused without saying whose.
    const twin = await call(y.token, "POST", "/v1/lab-templates", { source: TEMPLATE });
    expect(twin.status).toBe(409);
  });

  it("quotas: an account at its limit of labs cannot make another, and nothing changes", async () => {
    const set = await call(labnet.adminToken, "PATCH", `/v1/accounts/${y.account}`, { quotas: { labs: 1 } });
    expect(set.status, set.text).toBe(200);
    expect(set.json).toMatchObject({ quotas: { labs: 1 }, usage: { labs: 1 } });
    const before = await countRows(labnet.db, {
      labs: schema.labs,
      hosts: schema.hosts,
      nodes: schema.nodes,
    });
    const refused = await call(y.token, "POST", "/v1/labs", {
      name: "acy2",
      template: "builtin:seed-000",
      count: 1,
    });
    expect(refused.status, refused.text).toBe(403);
    expect(refused.json.code).toBe("QUOTA_EXCEEDED");
    expect(
      await countRows(labnet.db, { labs: schema.labs, hosts: schema.hosts, nodes: schema.nodes }),
    ).toEqual(before);
  });
});

describe("account quotas on what is built", () => {
  it("a node past the account's nodes quota is refused whole, made by the instructor on a lab machine", async () => {
    const account = await call(labnet.adminToken, "GET", `/v1/accounts/${x.account}`);
    const usage = (account.json.usage as { nodes: number }).nodes;
    expect(usage).toBeGreaterThan(0);
    const set = await call(labnet.adminToken, "PATCH", `/v1/accounts/${x.account}`, {
      quotas: { nodes: usage },
    });
    expect(set.status, set.text).toBe(200);
    const before = await countRows(labnet.db, { nodes: schema.nodes, endpoints: schema.endpoints });
    const refused = await call(x.token, "POST", "/v1/nodes", {
      name: "one-more",
      host: ofA.machine,
      networkMode: "web",
    });
    expect(refused.status, refused.text).toBe(403);
    expect(refused.json.code).toBe("QUOTA_EXCEEDED");
    expect(String(refused.json.detail)).toMatch(/at most \d+ nodes/);
    expect(await countRows(labnet.db, { nodes: schema.nodes, endpoints: schema.endpoints })).toEqual(before);
    // A removal is never held back by a quota, even one below what is held.
    await call(labnet.adminToken, "PATCH", `/v1/accounts/${x.account}`, { quotas: { nodes: 0 } });
    const listed = await call(x.token, "GET", `/v1/nodes?host=${ofA.machine}`);
    const victim = (listed.json.items as { id: string; name: string }[]).find((n) => n.id !== ofA.node);
    expect((await call(x.token, "DELETE", `/v1/nodes/${victim?.id}`)).status).toBe(202);
    await call(labnet.adminToken, "PATCH", `/v1/accounts/${x.account}`, { quotas: { nodes: 5000 } });
  });
});

describe("account quotas, concurrently", () => {
  it("of creations sent at once with room for one, exactly one passes: the last check waits for the first's commit", async () => {
    const account = await call(labnet.adminToken, "GET", `/v1/accounts/${x.account}`);
    const usage = (account.json.usage as { nodes: number }).nodes;
    await call(labnet.adminToken, "PATCH", `/v1/accounts/${x.account}`, { quotas: { nodes: usage + 1 } });
    const before = await countRows(labnet.db, { nodes: schema.nodes });
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(x.token, "POST", "/v1/nodes", { name: `race-${i}`, host: ofA.machine, networkMode: "web" }),
      ),
    );
    const made = answers.filter((a) => a.status === 201 || a.status === 202);
    expect(made.length, answers.map((a) => a.text).join("\n")).toBe(1);
    expect(answers.filter((a) => a.status === 403).map((a) => a.json.code)).toEqual(
      Array(5).fill("QUOTA_EXCEEDED"),
    );
    expect(await countRows(labnet.db, { nodes: schema.nodes })).toEqual({ nodes: (before.nodes ?? 0) + 1 });
    expect((await call(x.token, "DELETE", `/v1/nodes/${made[0]?.json.id}`)).status).toBe(202);
    await call(labnet.adminToken, "PATCH", `/v1/accounts/${x.account}`, { quotas: { nodes: 5000 } });
  });
});

describe("events", () => {
  it("each token's stream holds what it reaches: an instructor's labs, a student's instance", async () => {
    const page = async (token: string) =>
      (await call(token, "GET", "/v1/events?format=json&limit=1000")).json.items as {
        labId: string | null;
        instanceId: string | null;
        type: string;
      }[];
    const ofX = await page(x.token);
    expect(ofX.filter((e) => e.type === "lab_instance.created").map((e) => e.labId)).toEqual([labX, labX]);
    expect(ofX.some((e) => e.labId === labY)).toBe(false);
    const ofY = await page(y.token);
    expect(ofY.some((e) => e.labId === labX)).toBe(false);
    const ofB = await page(b.token);
    expect(ofB.length).toBeGreaterThan(0);
    expect(ofB.every((e) => e.instanceId === b.instance)).toBe(true);
  });
});

describe("the audit log", () => {
  it("holds every mutation with its actor and outcome; instructors read their labs'", async () => {
    const refused = await call(b.token, "POST", "/v1/networks", { name: "nope", host: ofA.machine });
    expect(refused.status).toBe(404);
    const all = await call(labnet.adminToken, "GET", "/v1/audit?limit=1000");
    expect(all.status).toBe(200);
    const entries = all.json.items as {
      tokenName: string;
      token: string;
      operationId: string;
      outcome: string;
      status: number;
      lab: string | null;
      problem: string | null;
    }[];
    expect(entries).toContainEqual(
      expect.objectContaining({
        token: a.id,
        operationId: "createNetwork",
        outcome: "committed",
        status: 202,
        lab: labX,
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({
        token: b.id,
        operationId: "createNetwork",
        outcome: "refused",
        status: 404,
        problem: "NOT_FOUND",
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ operationId: "createLab", outcome: "refused", problem: "QUOTA_EXCEEDED" }),
    );
    // Every committed entry has its answer's status.
    expect(entries.filter((e) => e.outcome === "committed" && e.status === null)).toEqual([]);
    const ofX = await call(x.token, "GET", "/v1/audit?limit=1000");
    expect((ofX.json.items as { token: string }[]).map((e) => e.token)).toEqual(
      expect.arrayContaining([a.id, b.id, x.id]),
    );
    expect(ofX.text).not.toContain(y.id);
    expect((await call(a.token, "GET", "/v1/audit")).status).toBe(403);
  });
});

/** A request body the document accepts for each operation that takes one, so the gate (not validation) answers. */
const BODIES: Record<string, unknown> = {
  createToken: { name: "t", role: "student", instance: "lin_aaaaaaaaaaaaaaaa" },
  updateAccount: { name: "renamed" },
  createLabTemplate: { source: "name: walk\nservices:\n  a: {}\n" },
  createLab: { name: "walk", template: "builtin:seed-000", count: 1 },
  runLabChecks: {},
  solveLab: {},
  createMachine: { name: "walk-m" },
  createNetwork: { name: "walk-net", host: "" },
  connectNetwork: { node: "" },
  disconnectNetwork: { node: "" },
  updateNetwork: { options: { isolated: false } },
  createNode: { name: "walk-node", host: "" },
  publishNodePorts: { ports: ["8080:80"] },
  execInNode: { argv: ["ip", "addr", "show"] },
  execInMachine: { argv: ["ip", "addr", "show"] },
};

describe("tenancy over the whole contract", () => {
  it("every operation, with a student token of another instance, answers 404 or 403 and changes nothing", async () => {
    const operations = [...indexOperations(openapiDocument).values()].filter((op) => op.secured);
    const tables = Object.fromEntries(
      Object.entries(schema).filter(
        ([name, value]) =>
          typeof value === "object" && value !== null && "getSQL" in value && name !== "auditLog",
      ),
    ) as Parameters<typeof countRows>[1];
    const before = await countRows(labnet.db, tables);
    const answers: string[] = [];
    for (const op of operations) {
      const params: Record<string, string> = {
        networkId: ofA.network,
        nodeId: ofA.node,
        machineId: ofA.machine,
        hostId: labHostId,
        // With an instance, the lab is B's own (the instance is not); alone, a lab B does not reach.
        labId: op.path.includes("{instanceId}") || op.path.includes("{runId}") ? labX : labY,
        instanceId: a.instance,
        runId: runOfClass,
        templateName: "ac-two-nets",
        tokenId: a.id,
        accountId: x.account,
        operationId: ofA.operation,
      };
      const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? "missing");
      // Lists and creations name A's resources where they can.
      const query =
        op.operationId === "listEvents"
          ? `?instance=${a.instance}`
          : ["listNodes", "listNetworks", "pruneNetworks"].includes(op.operationId)
            ? `?host=${ofA.machine}`
            : "";
      let body = op.requestBody ? BODIES[op.operationId] : undefined;
      if (op.requestBody && body === undefined) {
        throw new Error(`no body for ${op.operationId}: add one to BODIES`);
      }
      if (body && typeof body === "object") {
        body = Object.fromEntries(
          Object.entries(body).map(([k, v]) => [k, v === "" ? (k === "host" ? ofA.machine : ofA.node) : v]),
        );
      }
      const res = await call(b.token, op.method.toUpperCase(), `${path}${query}`, body);
      if (["whoami", "listTokens", "listLabs", "listMachines"].includes(op.operationId)) {
        // B's own answers: nothing of A's in them.
        expect(res.status, `${op.operationId}: ${res.text}`).toBe(200);
        for (const id of [a.id, a.instance, ofA.machine, ofA.node, labY]) {
          expect(res.text, op.operationId).not.toContain(id);
        }
        continue;
      }
      answers.push(`${op.operationId} ${res.status}`);
      expect(
        [403, 404],
        `${op.operationId} ${op.method} ${path}${query}: ${res.status} ${res.text}`,
      ).toContain(res.status);
    }
    expect(answers.length).toBeGreaterThan(50);
    expect(await countRows(labnet.db, tables)).toEqual(before);
  });
});

describe("rate limits and CORS", () => {
  it("a token past its rate answers 429 with Retry-After; a console's origin gets CORS headers", async () => {
    const limited = await startTestLabnet({
      access: {
        rateLimits: { admin: 2, instructor: 2, student: 2 },
        corsOrigins: ["https://console.example"],
      },
    });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 14; i++) {
        const res = await limited.request("GET", "/v1/whoami");
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get("retry-after");
          expect(((await res.json()) as { code: string }).code).toBe("RATE_LIMITED");
        }
      }
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      const preflight = await limited.app.fetch(
        new Request("http://labnet.test/v1/networks", {
          method: "OPTIONS",
          headers: {
            origin: "https://console.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type",
          },
        }),
      );
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("https://console.example");
    } finally {
      await limited.stop();
    }
  });
});

describe("a student's reset", () => {
  it("rebuilds their instance although they are at a limit (the old generation no longer counts)", async () => {
    const reset = await call(a.token, "POST", `/v1/labs/${labX}/instances/s01/reset`);
    expect(reset.status, reset.text).toBe(202);
    const lab = await call(a.token, "GET", `/v1/labs/${labX}`);
    const [instance] = lab.json.instances as { generation: number; problem: string | null }[];
    expect(instance).toMatchObject({ generation: 2, problem: null });
    // B may not reset A's.
    expect((await call(b.token, "POST", `/v1/labs/${labX}/instances/s01/reset`)).status).toBe(404);
  });
});
