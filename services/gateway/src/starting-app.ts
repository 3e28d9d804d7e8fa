import { Hono } from "hono";
import { DATABASE_RETRY_AFTER_SECONDS } from "./http/error-handler";
import { problemResponse } from "./http/problem";
import { type RequestIdVariables, requestIdMiddleware } from "./http/request-id";

/**
 * What the gateway answers while it starts and Postgres is not there yet (migrations and the
 * admin token still to do): liveness ok (the process is fine; do not restart it), readiness
 * 503 naming what it waits for, and every other request 503 DATABASE_UNAVAILABLE with
 * Retry-After, as during an outage once it runs.
 */
export function createStartingApp(waitingFor: () => string): Hono<{ Variables: RequestIdVariables }> {
  const app = new Hono<{ Variables: RequestIdVariables }>();
  app.use(requestIdMiddleware());
  app.get("/v1/healthz", (c) => c.json({ status: "ok" }, 200));
  app.get("/v1/readyz", (c) => {
    const starting = { ok: false, detail: `starting: ${waitingFor()}` };
    return c.json(
      { status: "unavailable", checks: { postgres: starting, redis: starting, executors: starting } },
      503,
    );
  });
  app.all("*", (c) =>
    problemResponse(
      c,
      { code: "DATABASE_UNAVAILABLE", detail: `Labnet is starting (${waitingFor()}); retry shortly` },
      { "retry-after": String(DATABASE_RETRY_AFTER_SECONDS) },
    ),
  );
  return app;
}
