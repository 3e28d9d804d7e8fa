import type { Logger } from "@labnet/log";
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { GatewayMetrics } from "../metrics/gateway-metrics";
import { readRequestId } from "./request-id";

export type RequestLogVariables = {
  /** This request's logger: every line carries its `requestId`. */
  log: Logger;
};

/**
 * Mount right after the request id: a child logger per request (`c.var.log`), one access line
 * per request (method, route template, path, status, ms; never headers, query or body, so no
 * token reaches the log), and the request counted in `metrics`. Answers of 500 and above are
 * logged at `error`, 4xx at `warn`.
 */
export function observeRequests(options: {
  log: Logger;
  metrics?: GatewayMetrics;
}): MiddlewareHandler<{ Variables: RequestLogVariables }> {
  return async (c, next) => {
    const started = performance.now();
    const log = options.log.child({ requestId: readRequestId(c) });
    c.set("log", log);
    await next();
    const seconds = (performance.now() - started) / 1000;
    // The handler's route, never the raw path (ids would make a series per resource).
    const route = routePath(c, -1) || "unmatched";
    const status = c.res.status;
    options.metrics?.observeRequest(c.req.method, route, status, seconds);
    const line = {
      method: c.req.method,
      route,
      path: c.req.path,
      status,
      ms: Math.round(seconds * 10_000) / 10,
    };
    if (status >= 500) {
      log.error("request", line);
    } else if (status >= 400) {
      log.warn("request", line);
    } else {
      log.info("request", line);
    }
  };
}
