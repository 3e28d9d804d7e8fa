/**
 * Text hygiene of the request validator: control characters and invalid Unicode anywhere in a
 * request are a 400 naming the field before the handler runs; a template's source may hold line
 * breaks; a body sent to an operation that takes none is refused. Stub handlers count the calls.
 */
import { openapiDocument } from "@labnet/api";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createErrorHandler, handleNotFound } from "./error-handler";
import { getOperationSpec, listOperationIds, registerOperation } from "./openapi-router";
import { PROBLEM_CONTENT_TYPE, type Problem } from "./problem";
import { requestIdMiddleware } from "./request-id";
import { findTextProblems, MAX_BODY_DEPTH, multilinePaths } from "./text-fields";

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
  const calls: string[] = [];
  for (const id of [
    "createNetwork",
    "listNetworks",
    "getNetwork",
    "deleteNetwork",
    "createLabTemplate",
  ] as const) {
    registerOperation(app, id, (c) => {
      calls.push(id);
      return c.json({}, 200);
    });
  }
  return { app, calls };
}

const json = { "content-type": "application/json" };

async function problemOf(res: Response): Promise<Problem> {
  expect(res.status).toBe(400);
  expect(res.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
  return (await res.json()) as Problem;
}

describe("control characters and invalid Unicode", () => {
  const cases: { name: string; path: string; init?: RequestInit; location: string; message: RegExp }[] = [
    {
      name: "NUL in a label value",
      path: "/v1/networks",
      init: { method: "POST", headers: json, body: '{"name":"n","labels":{"a":"x\\u0000y"}}' },
      location: "body.labels.a",
      message: /U\+0000 at index 1/,
    },
    {
      name: "a lone surrogate in a label value",
      path: "/v1/networks",
      init: { method: "POST", headers: json, body: '{"name":"n","labels":{"a":"x\\ud800"}}' },
      location: "body.labels.a",
      message: /lone surrogate U\+D800/,
    },
    {
      name: "a newline in a name",
      path: "/v1/networks",
      init: { method: "POST", headers: json, body: '{"name":"n\\nx"}' },
      location: "body.name",
      message: /U\+000A/,
    },
    {
      name: "an escape sequence in a key",
      path: "/v1/networks",
      init: { method: "POST", headers: json, body: '{"name":"n","labels":{"\\u001b[2J":"v"}}' },
      location: 'body.labels["\\u001b[2J"]',
      message: /^is not a valid key: it must not contain control characters/,
    },
    { name: "NUL in ?name", path: "/v1/networks?name=%00", location: "query.name", message: /U\+0000/ },
    {
      name: "NUL in a repeated ?label",
      path: "/v1/networks?label=a&label=b%00",
      location: "query.label[1]",
      message: /U\+0000 at index 1/,
    },
    {
      name: "NUL in a path parameter",
      path: "/v1/networks/a%00b",
      location: "path.networkId",
      message: /U\+0000/,
    },
    {
      name: "a C1 control in a path parameter",
      path: "/v1/networks/a%C2%85",
      location: "path.networkId",
      message: /U\+0085/,
    },
    {
      name: "percent-encoded bytes that are not UTF-8 in a query value",
      path: "/v1/networks?label=%FF",
      location: "query.label",
      message: /^is not valid UTF-8/,
    },
    {
      name: "an encoded lone surrogate in a path parameter",
      path: "/v1/networks/a%ED%A0%80",
      location: "path.networkId",
      message: /^is not valid UTF-8/,
    },
    {
      name: "bytes that are not UTF-8 in the body",
      path: "/v1/networks",
      init: { method: "POST", headers: json, body: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]) },
      location: "body",
      message: /^is not valid UTF-8$/,
    },
  ];
  it.each(cases)(
    "$name: 400 naming $location, the handler never runs",
    async ({ path, init, location, message }) => {
      const { app, calls } = makeApp();
      const problem = await problemOf(await app.request(path, init));
      expect(problem.code).toBe("VALIDATION_FAILED");
      const error = problem.errors?.find((e) => e.location === location);
      expect(error?.message, JSON.stringify(problem.errors)).toMatch(message);
      expect(calls).toEqual([]);
    },
  );

  it("lets a template's source hold tabs and line breaks, and nothing else", async () => {
    const { app, calls } = makeApp();
    const ok = await app.request("/v1/lab-templates", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ source: "name: t\r\nservices:\n\tweb: {}\n" }),
    });
    expect(ok.status).toBe(200);
    const problem = await problemOf(
      await app.request("/v1/lab-templates", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ source: "name: t\n\u0000" }),
      }),
    );
    expect(problem.errors).toEqual([
      { location: "body.source", message: "must not contain control characters (U+0000 at index 8)" },
    ]);
    expect(calls).toEqual(["createLabTemplate"]);
  });

  it("refuses a body sent to an operation that takes none", async () => {
    const { app, calls } = makeApp();
    const problem = await problemOf(
      await app.request("/v1/networks/my-net", { method: "DELETE", headers: json, body: '{"force":true}' }),
    );
    expect(problem.errors).toEqual([{ location: "body", message: "is not taken by this operation" }]);
    expect((await app.request("/v1/networks/my-net", { method: "DELETE" })).status).toBe(200);
    expect(calls).toEqual(["deleteNetwork"]);
  });
});

describe("findTextProblems", () => {
  it("stops at nesting deeper than the limit without recursing", () => {
    let deep: unknown = "x";
    for (let i = 0; i < 100_000; i++) {
      deep = [deep];
    }
    expect(findTextProblems("body", deep)).toEqual([
      { location: "body", message: `is nested deeper than ${MAX_BODY_DEPTH} levels` },
    ]);
  });
});

describe("multilinePaths", () => {
  it("finds the template's source, and only it, among the request bodies of the contract", () => {
    const found = listOperationIds().flatMap((id) => {
      const pointer = getOperationSpec(id).requestBody?.schemaPointer;
      return pointer ? multilinePaths(openapiDocument, pointer).map((path) => `${id}:${path.join(".")}`) : [];
    });
    expect(found).toEqual(["createLabTemplate:source"]);
  });
});
