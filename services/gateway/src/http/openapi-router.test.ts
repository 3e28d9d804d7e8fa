import { type components, createLabnetClient, type OperationId } from "@labnet/api";
import { Hono } from "hono";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createErrorHandler, handleNotFound } from "./error-handler";
import { listOperationIds, type OperationInput, registerOperation } from "./openapi-router";
import { PROBLEM_CONTENT_TYPE } from "./problem";
import { requestIdMiddleware } from "./request-id";

type CreateNetworkRequest = components["schemas"]["CreateNetworkRequest"];

/** A tiny app with stub handlers that echo what they were given. */
function makeApp() {
  const app = new Hono();
  app.use(requestIdMiddleware());
  // These tests are about validation: every request passes the access gate.
  app.use((c, next) => {
    c.set("admit" as never, (async () => {}) as never);
    return next();
  });
  app.onError(createErrorHandler());
  app.notFound(handleNotFound);
  const seen: OperationInput<"createNetwork">[] = [];
  registerOperation(app, "createNetwork", (c, input) => {
    expectTypeOf(input.body).toEqualTypeOf<CreateNetworkRequest>();
    expectTypeOf(input.headers.Prefer).toEqualTypeOf<string | undefined>();
    seen.push(input);
    return c.json({ name: input.body.name, state: "pending" }, 202);
  });
  registerOperation(app, "getNetwork", (c, input) => {
    expectTypeOf(input.params.networkId).toEqualTypeOf<string>();
    return c.json({ id: input.params.networkId }, 200);
  });
  registerOperation(app, "listNetworks", (c, input) => {
    expectTypeOf(input.query.label).toEqualTypeOf<string[] | undefined>();
    return c.json(input.query, 200);
  });
  return { app, seen };
}

function post(
  app: Hono,
  body: string,
  headers: Record<string, string> = { "content-type": "application/json" },
) {
  return app.request("/v1/networks", { method: "POST", body, headers });
}

async function problemOf(res: Response) {
  expect(res.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
  return (await res.json()) as components["schemas"]["Problem"];
}

describe("registerOperation", () => {
  it("passes a valid body to the handler, typed", async () => {
    const { app, seen } = makeApp();
    const body: CreateNetworkRequest = {
      name: "my-net",
      ipam: {
        configs: [
          { subnet: "172.18.0.0/16", gateway: "172.18.0.1", auxAddresses: { router: "172.18.0.254" } },
        ],
      },
      options: { mtu: 1450 },
      labels: { "org.example/course": "net101" },
    };
    const res = await post(app, JSON.stringify(body), {
      "content-type": "application/json; charset=utf-8",
      prefer: "wait=5",
      "idempotency-key": "k-1",
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ name: "my-net", state: "pending" });
    expect(seen).toEqual([
      { params: {}, query: {}, headers: { Prefer: "wait=5", "Idempotency-Key": "k-1" }, body },
    ]);
  });

  const invalid: { name: string; body: unknown; want: { location: string; message: RegExp }[] }[] = [
    {
      name: "an unknown field, named itself",
      body: { name: "n", color: "red" },
      want: [{ location: "body.color", message: /^is not a known field \(allowed: name, host, driver/ }],
    },
    {
      name: "an unknown nested field",
      body: { name: "n", ipam: { configs: [{ subnet: "10.0.0.0/8", vlan: 3 }] } },
      want: [{ location: "body.ipam.configs[0].vlan", message: /^is not a known field/ }],
    },
    {
      name: "a wrong type",
      body: { name: "n", internal: "yes", ipam: { configs: [{ subnet: 42 }] } },
      want: [
        { location: "body.internal", message: /^must be boolean$/ },
        { location: "body.ipam.configs[0].subnet", message: /^must be string$/ },
      ],
    },
    { name: "a missing field", body: {}, want: [{ location: "body.name", message: /^is required$/ }] },
    {
      name: "a bad name and a bad enum",
      body: { name: "-bad", driver: "ipvlan" },
      want: [
        { location: "body.name", message: /^must match the pattern/ },
        { location: "body.driver", message: /^must be one of: bridge, macvlan, overlay$/ },
      ],
    },
    {
      name: "a number out of range and too many configs",
      body: { name: "n", options: { mtu: 100 }, ipam: { configs: Array(9).fill({ subnet: "10.0.0.0/24" }) } },
      want: [
        { location: "body.ipam.configs", message: /more than 8 items/ },
        { location: "body.options.mtu", message: /^must be >= 576$/ },
      ],
    },
    {
      name: "a bad label key and value",
      body: { name: "n", labels: { "bad key": "x", ok: 1 } },
      want: [
        { location: 'body.labels["bad key"]', message: /^is not a valid key: must match the pattern/ },
        { location: "body.labels.ok", message: /^must be string$/ },
      ],
    },
    { name: "not an object", body: ["my-net"], want: [{ location: "body", message: /^must be object$/ }] },
  ];
  for (const { name, body, want } of invalid) {
    it(`answers 400 for ${name}`, async () => {
      const { app, seen } = makeApp();
      const res = await post(app, JSON.stringify(body));
      expect(res.status).toBe(400);
      const problem = await problemOf(res);
      expect(problem).toMatchObject({ code: "VALIDATION_FAILED", status: 400, instance: "/v1/networks" });
      expect(problem.errors).toHaveLength(want.length);
      for (const [i, w] of want.entries()) {
        expect(problem.errors?.[i]?.location).toBe(w.location);
        expect(problem.errors?.[i]?.message).toMatch(w.message);
      }
      expect(seen).toEqual([]);
    });
  }

  const malformed = [
    { name: "malformed JSON", body: '{"name": ', status: 400, code: "VALIDATION_FAILED", location: "body" },
    { name: "an empty body", body: "", status: 400, code: "VALIDATION_FAILED", location: "body" },
  ];
  for (const { name, body, status, code, location } of malformed) {
    it(`answers ${status} for ${name}`, async () => {
      const res = await post(makeApp().app, body);
      expect(res.status).toBe(status);
      const problem = await problemOf(res);
      expect(problem.code).toBe(code);
      expect(problem.errors?.[0]?.location).toBe(location);
    });
  }

  const mediaTypes: { name: string; headers: Record<string, string> }[] = [
    { name: "text/plain", headers: { "content-type": "text/plain" } },
    { name: "form data", headers: { "content-type": "application/x-www-form-urlencoded" } },
    { name: "no content type", headers: {} },
  ];
  for (const { name, headers } of mediaTypes) {
    it(`answers 415 for ${name}`, async () => {
      const res = await post(makeApp().app, JSON.stringify({ name: "n" }), headers);
      expect(res.status).toBe(415);
      expect(res.headers.get("accept-post")).toBe("application/json");
      const problem = await problemOf(res);
      expect(problem.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    });
  }

  it("rejects a malformed Idempotency-Key header", async () => {
    const res = await post(makeApp().app, JSON.stringify({ name: "n" }), {
      "content-type": "application/json",
      "idempotency-key": "x".repeat(256),
    });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).errors?.[0]?.location).toBe("header.Idempotency-Key");
  });

  it("passes path parameters, decoded", async () => {
    const res = await makeApp().app.request("/v1/networks/my-net");
    expect(await res.json()).toEqual({ id: "my-net" });
  });

  it("names a bad path parameter", async () => {
    const res = await makeApp().app.request("/v1/networks/bad%20name");
    expect(res.status).toBe(400);
    expect((await problemOf(res)).errors?.[0]?.location).toBe("path.networkId");
  });

  const queries = [
    { given: "", status: 200, want: {} },
    { given: "?label=a", status: 200, want: { label: ["a"] } },
    { given: "?label=a&label=b%3Dc&name=web", status: 200, want: { label: ["a", "b=c"], name: "web" } },
    { given: "?driver=ipvlan", status: 400, location: "query.driver" },
    { given: "?name=a&name=b", status: 400, location: "query.name" },
    { given: "?colour=red", status: 400, location: "query.colour" },
    { given: "?label=", status: 400, location: "query.label[0]" },
  ];
  for (const { given, status, want, location } of queries) {
    it(`reads the query ${given || "(none)"}`, async () => {
      const res = await makeApp().app.request(`/v1/networks${given}`);
      expect(res.status).toBe(status);
      if (want) {
        expect(await res.json()).toEqual(want);
      } else {
        expect((await problemOf(res)).errors?.[0]?.location).toBe(location);
      }
    });
  }

  it("throws at startup for an unknown operationId", () => {
    const app = new Hono();
    expect(() => registerOperation(app, "nope" as OperationId, (c) => c.text(""))).toThrow(/nope/);
  });

  it("lists every operationId", () => {
    expect(listOperationIds()).toContain("createNetwork");
    expect(listOperationIds()).toContain("getHealth");
    expect(new Set(listOperationIds()).size).toBe(listOperationIds().length);
  });

  it("works with the typed client over app.fetch", async () => {
    const { app } = makeApp();
    const client = createLabnetClient({
      baseUrl: "http://labnet.test",
      token: "t",
      fetch: (r) => app.fetch(r),
    });
    const ok = await client.POST("/v1/networks", { body: { name: "my-net" } });
    expect(ok.response.status).toBe(202);
    const bad = await client.GET("/v1/networks", { params: { query: { label: ["a", "b=c"] } } });
    expect(bad.data).toEqual({ label: ["a", "b=c"] });
    const wrong = await client.POST("/v1/networks", {
      body: { name: "my-net", driver: "ipvlan" } as unknown as CreateNetworkRequest,
    });
    expect(wrong.error?.code).toBe("VALIDATION_FAILED");
    expect(wrong.error?.errors?.[0]?.location).toBe("body.driver");
  });
});
