/**
 * Labs at the API (issue 9): templates stored, versioned and listed with the built-in ones; a
 * template with errors answers 400 naming the path (and the line, for YAML) and stores nothing;
 * hostile names and values reach nothing; a lab records one instance per student with the
 * template's names; TTL expiry starts the teardown. The app in process; no executor.
 */

import { sweepLabs } from "@labnet/commands";
import { type HostRow, schema } from "@labnet/db";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { expectProblemChangingNothing, readProblem } from "../helpers/problems";
import { countRows } from "../helpers/row-counts";
import { registerTestHost, testCommandContext } from "../helpers/test-host";

let labnet: TestLabnet;
let lab: HostRow;

const rowCounts = () =>
  countRows(labnet.db, {
    templates: schema.labTemplates,
    labs: schema.labs,
    instances: schema.labInstances,
    hosts: schema.hosts,
    networks: schema.networks,
    nodes: schema.nodes,
    operations: schema.operations,
  });

const TEMPLATE = [
  "name: two-nets",
  "title: Two networks",
  "networks:",
  "  web: { ipam: { config: [ { subnet: 172.30.0.0/24 } ] } }",
  "  app: { ipam: { config: [ { subnet: 172.31.0.0/24 } ] } }",
  "services:",
  "  web_container: { networks: [web] }",
  "  app_container: { networks: { app: { ipv4_address: 172.31.0.9 } } }",
  "solution:",
  "  - connect: { network: app, service: web_container }",
  "checks:",
  "  - name: app reaches web",
  "    from: app_container",
  "    to: web_container.app",
].join("\n");

beforeAll(async () => {
  labnet = await startTestLabnet();
  lab = await registerTestHost(labnet.db, { name: "la-lab", netnsPrefix: "la-" });
});

afterAll(async () => {
  await labnet?.stop();
});

describe("lab templates", () => {
  it("lists the built-in templates of the course material", async () => {
    const res = await labnet.client.GET("/v1/lab-templates");
    const names = (res.data?.items ?? []).map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(["builtin:seed-000", "builtin:seed-001-ex2", "builtin:seed-002-macvlan"]),
    );
  });

  it("stores a template as version 1, then version 2 of its name", async () => {
    const first = await labnet.client.POST("/v1/lab-templates", { body: { source: TEMPLATE } });
    expect(first.response.status, JSON.stringify(first.error)).toBe(201);
    expect(first.data).toMatchObject({ name: "two-nets", version: 1, builtin: false, format: "yaml" });
    const second = await labnet.client.POST("/v1/lab-templates", {
      body: { source: TEMPLATE.replace("title: Two networks", "title: Two networks, again") },
    });
    expect(second.data).toMatchObject({ version: 2, versions: [1, 2], title: "Two networks, again" });
    const v1 = await labnet.client.GET("/v1/lab-templates/{templateName}", {
      params: { path: { templateName: "two-nets" }, query: { version: 1 } },
    });
    expect(v1.data?.title).toBe("Two networks");
  });

  it("answers 400 naming the path and the line of a YAML error, storing nothing", async () => {
    const before = await rowCounts();
    const bad = TEMPLATE.replace("networks: [web] }", "networks: [web, ap] }");
    const res = await labnet.request("POST", "/v1/lab-templates", { body: { source: bad } });
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.code).toBe("INVALID_TEMPLATE");
    const error = problem.errors?.find((e) =>
      e.location.startsWith("template.services.web_container.networks"),
    );
    expect(error?.location).toBe("template.services.web_container.networks[1]");
    expect(error?.message).toMatch(/unknown network "ap".*line 7/);
    expect(await rowCounts()).toEqual(before);
  });

  const hostile: [string, string][] = [
    ["a service name with a space", TEMPLATE.replace("web_container: {", '"web container": {')],
    ["a network name with a semicolon", TEMPLATE.replace("  app: {", '  "app;reboot": {')],
    ["a newline in a name", TEMPLATE.replace("name: two-nets", 'name: "two\\nnets"')],
    ["a prototype key", TEMPLATE.replace("  app: {", "  __proto__: {")],
    [
      "an address outside its subnet",
      TEMPLATE.replace("subnet: 172.30.0.0/24 }", "subnet: 172.30.0.0/24, gateway: 10.0.0.1 }"),
    ],
    ["a port out of range", TEMPLATE.replace("networks: [web] }", 'networks: [web], ports: ["99999:80"] }')],
    [
      "a hostile DNS server",
      TEMPLATE.replace("networks: [web] }", 'networks: [web], dns: ["8.8.8.8; rm -rf /"] }'),
    ],
  ];
  for (const [what, source] of hostile) {
    it(`refuses ${what}, storing nothing`, async () => {
      const before = await rowCounts();
      const res = await labnet.request("POST", "/v1/lab-templates", { body: { source } });
      expect(res.status).toBe(400);
      const problem = await readProblem(res);
      expect(problem.code).toBe("INVALID_TEMPLATE");
      expect(problem.errors?.[0]?.location).toMatch(/^template\./);
      expect(await rowCounts()).toEqual(before);
    });
  }

  it("answers JSON errors with their path too", async () => {
    const res = await labnet.request("POST", "/v1/lab-templates", {
      body: {
        source: JSON.stringify({ name: "j", services: { a: { networks: ["nowhere"] } } }),
        format: "json",
      },
    });
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors?.[0]?.location).toBe("template.services.a.networks[0]");
  });
});

describe("a lab", () => {
  it("records one instance per student, each with a machine of its own and the template's names", async () => {
    const res = await labnet.request("POST", "/v1/labs", {
      body: { name: "net101", template: "two-nets", students: ["alice", "bob"], host: lab.name },
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      template: { name: string; version: number };
      summary: { total: number; provisioning: number };
      instances: {
        student: string;
        machines: { hostname: string }[];
        nodes: { name: string; addresses: Record<string, string> }[];
      }[];
    };
    expect(body.template).toEqual({ name: "two-nets", version: 2 });
    expect(body.summary).toMatchObject({ total: 2, provisioning: 2 });
    for (const instance of body.instances) {
      expect(instance.machines.map((m) => m.hostname)).toEqual(["host"]);
      expect(instance.nodes.map((n) => n.name).sort()).toEqual(["app_container", "web_container"]);
      expect(instance.nodes.find((n) => n.name === "app_container")?.addresses).toEqual({
        app: "172.31.0.9",
      });
    }
  });

  const refusals = [
    {
      what: "an unknown template",
      body: { name: "x1", template: "nope" },
      status: 404,
      location: "body.template",
    },
    {
      what: "an unknown built-in",
      body: { name: "x1", template: "builtin:nope" },
      status: 404,
      location: "body.template",
    },
    {
      what: "a taken name",
      body: { name: "net101", template: "two-nets" },
      status: 409,
      location: "body.name",
    },
    {
      what: "a student listed twice",
      body: { name: "x1", template: "two-nets", students: ["a", "a"] },
      status: 422,
      location: "body.students[1]",
    },
    {
      what: "a hostile student",
      body: { name: "x1", template: "two-nets", students: ["a;b"] },
      status: 422,
      location: "body.students[0]",
    },
    {
      what: "students and a count",
      body: { name: "x1", template: "two-nets", students: ["a"], count: 2 },
      status: 422,
      location: "body.count",
    },
    {
      what: "a name that is no DNS label",
      body: { name: "Net_101", template: "two-nets" },
      status: 422,
      location: "body.name",
    },
  ];
  for (const { what, body, status, location } of refusals) {
    it(`refuses ${what}, changing nothing`, async () => {
      await expectProblemChangingNothing(labnet, rowCounts, {
        method: "POST",
        path: "/v1/labs",
        body,
        status,
        location,
      });
    });
  }

  it("is torn down once its TTL has passed", async () => {
    await labnet.db
      .update(schema.labs)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(schema.labs.name, "net101"));
    await sweepLabs(testCommandContext(labnet.db));
    const [row] = await labnet.db.select().from(schema.labs).where(eq(schema.labs.name, "net101"));
    expect(row?.state).toBe("deleting");
    const machines = await labnet.db.select().from(schema.hosts).where(eq(schema.hosts.kind, "virtual"));
    expect(machines.length).toBeGreaterThan(0);
    expect(machines.every((m) => m.state === "deleting")).toBe(true);
  });
});
