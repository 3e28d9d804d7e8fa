import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { requestIdMiddleware } from "./request-id";

function makeApp() {
  const app = new Hono();
  app.use(requestIdMiddleware());
  app.get("/", (c) => c.text(c.get("requestId")));
  return app;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("requestIdMiddleware", () => {
  const cases: { given: string | undefined; keep: boolean }[] = [
    { given: undefined, keep: false },
    { given: "abc-123_X=", keep: true },
    { given: "a".repeat(200), keep: true },
    { given: "a".repeat(201), keep: false },
    { given: "has space", keep: false },
    { given: "../etc/passwd", keep: false },
    { given: "<script>", keep: false },
  ];
  for (const { given, keep } of cases) {
    it(`${keep ? "keeps" : "replaces"} ${JSON.stringify(given)?.slice(0, 20)}`, async () => {
      const res = await makeApp().request(
        "/",
        given === undefined ? {} : { headers: { "X-Request-Id": given } },
      );
      const id = res.headers.get("x-request-id");
      expect(await res.text()).toBe(id);
      if (keep) {
        expect(id).toBe(given);
      } else {
        expect(id).toMatch(UUID);
      }
    });
  }
});
