import { describe, expect, it } from "vitest";
import { createResponseValidator } from "./http/validate-response";
import { createStartingApp } from "./starting-app";

const validate = createResponseValidator();

async function ask(method: string, path: string): Promise<Response> {
  const app = createStartingApp(() => "applying migrations");
  const request = new Request(`http://labnet.test${path}`, {
    method,
    headers: { authorization: "Bearer lnt_whatever", "content-type": "application/json" },
    ...(method === "POST" ? { body: JSON.stringify({ name: "n1" }) } : {}),
  });
  const response = await app.fetch(request);
  // What it answers is declared by the contract, like every answer of the running app.
  expect(await validate(request, response.clone())).toEqual([]);
  return response;
}

describe("the gateway while it starts", () => {
  it("answers every API request 503 DATABASE_UNAVAILABLE with Retry-After, saying what it waits for", async () => {
    for (const [method, path] of [
      ["GET", "/v1/nodes"],
      ["POST", "/v1/networks"],
      ["GET", "/v1/hosts"],
    ] as const) {
      const res = await ask(method, path);
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      const problem = (await res.json()) as { code: string; instance: string; detail: string };
      expect(problem).toMatchObject({ code: "DATABASE_UNAVAILABLE", instance: path });
      expect(problem.detail).toContain("applying migrations");
    }
  });

  it("is alive (healthz 200) but not ready (readyz 503 naming the step)", async () => {
    expect((await ask("GET", "/v1/healthz")).status).toBe(200);
    const ready = await ask("GET", "/v1/readyz");
    expect(ready.status).toBe(503);
    const readiness = (await ready.json()) as { checks: { postgres: unknown } };
    expect(readiness.checks.postgres).toEqual({
      ok: false,
      detail: "starting: applying migrations",
    });
  });
});
