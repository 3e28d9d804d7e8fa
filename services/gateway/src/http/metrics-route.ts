import type { Database } from "@labnet/db";
import type { GatewayApp } from "../app";
import type { GatewayMetrics } from "../metrics/gateway-metrics";
import { authenticate } from "../middleware/auth";
import { ProblemError } from "./problem";

/**
 * `GET /metrics` in Prometheus text format, for an admin token (Prometheus sends it with
 * `authorization: { credentials_file: ... }`): the metrics show every host's load and the
 * API's traffic, which are an operator's, not a student's.
 */
export function registerMetricsRoute(app: GatewayApp, db: Database, metrics: GatewayMetrics): void {
  app.use("/metrics", authenticate(db));
  app.get("/metrics", async (c) => {
    if (c.var.token.role !== "admin") {
      throw new ProblemError({ status: 403, code: "FORBIDDEN", detail: "/metrics needs an admin token" });
    }
    return c.body(await metrics.render(), 200, { "content-type": metrics.contentType });
  });
}
