import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createErrorHandler, handleNotFound } from "./error-handler";
import {
  badRequest,
  invalidField,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  ProblemError,
  problemResponse,
  problemType,
} from "./problem";
import { requestIdMiddleware } from "./request-id";

describe("problemType", () => {
  const cases = [
    { given: "VALIDATION_FAILED", want: "https://labnet.dev/problems/validation-failed" },
    { given: "NOT_FOUND", want: "https://labnet.dev/problems/not-found" },
    { given: "IDEMPOTENCY_KEY_REUSED", want: "https://labnet.dev/problems/idempotency-key-reused" },
  ] as const;
  for (const { given, want } of cases) {
    it(`maps ${given}`, () => {
      expect(problemType(given)).toBe(want);
    });
  }
});

describe("helpers", () => {
  const cases = [
    {
      given: badRequest("bad"),
      want: { status: 400, code: "VALIDATION_FAILED", title: "Validation failed" },
    },
    {
      given: invalidField("body.ipam.configs[0].subnet", "invalid CIDR address: 1.2.3.4/33"),
      want: {
        status: 422,
        code: "INVALID_FIELD",
        detail: "invalid CIDR address: 1.2.3.4/33",
        errors: [{ location: "body.ipam.configs[0].subnet", message: "invalid CIDR address: 1.2.3.4/33" }],
      },
    },
    {
      given: invalidField("body.driver", "no such driver", "UNSUPPORTED_DRIVER"),
      want: { status: 422, code: "UNSUPPORTED_DRIVER" },
    },
    {
      given: new ProblemError({ code: "NOT_FOUND", detail: "network x not found" }),
      want: { status: 404, code: "NOT_FOUND", detail: "network x not found" },
    },
    {
      given: new ProblemError({ code: "SUBNET_OVERLAP", detail: "Pool overlaps" }),
      want: { status: 409, code: "SUBNET_OVERLAP" },
    },
    {
      given: new ProblemError({ code: "NO_HOST", status: 503, detail: "no host online" }),
      want: { status: 503, title: "No host" },
    },
  ];
  for (const { given, want } of cases) {
    it(`builds ${given.code} ${given.status}`, () => {
      expect(given).toBeInstanceOf(ProblemError);
      expect(given).toMatchObject(want);
    });
  }
});

function makeApp(): Hono {
  const app = new Hono();
  app.use(requestIdMiddleware());
  app.onError(
    createErrorHandler({
      mapError: (error) =>
        error instanceof RangeError
          ? new ProblemError({ code: "POOL_EXHAUSTED", detail: error.message })
          : undefined,
    }),
  );
  app.notFound(handleNotFound);
  app.get("/direct", (c) => problemResponse(c, { code: "CONFLICT", detail: "busy" }));
  app.get("/thrown", () => {
    throw new ProblemError({ code: "NAME_CONFLICT", detail: "network with name my-net already exists" });
  });
  app.get("/mapped", () => {
    throw new RangeError("could not find an available, non-overlapping IPv4 address pool");
  });
  app.get("/crash", () => {
    throw new Error("secret internals");
  });
  return app;
}

describe("problem answers", () => {
  const cases = [
    { path: "/direct", status: 409, code: "CONFLICT" as const },
    { path: "/thrown", status: 409, code: "NAME_CONFLICT" as const },
    { path: "/mapped", status: 409, code: "POOL_EXHAUSTED" as const },
    { path: "/crash", status: 500, code: "INTERNAL" as const },
    { path: "/nowhere", status: 404, code: "NOT_FOUND" as const },
  ];
  for (const { path, status, code } of cases) {
    it(`answers ${path} as application/problem+json`, async () => {
      const res = await makeApp().request(path, { headers: { "x-request-id": "req-123" } });
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
      expect(res.headers.get("x-request-id")).toBe("req-123");
      const body = (await res.json()) as Problem;
      expect(body).toMatchObject({ status, code, requestId: "req-123", instance: path });
      expect(body.type).toBe(problemType(code));
      expect(JSON.stringify(body)).not.toContain("secret internals");
    });
  }
});
