import { DomainError } from "@labnet/commands";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { auditedDatabase, auditRequests, createAuditSettler } from "./access/audit";
import { rateLimitPerToken } from "./access/rate-limit";
import { createDockerApp, DOCKER_BASE_PATH, registerDockerHints } from "./docker/app";
import { limitBodies } from "./http/body-limit";
import { createDocsApp } from "./http/docs";
import { createErrorHandler, createNotFoundHandler } from "./http/error-handler";
import { registerMetricsRoute } from "./http/metrics-route";
import { allowedMethods, getOperationSpec, listOperationIds } from "./http/openapi-router";
import { ProblemError } from "./http/problem";
import { type RequestIdVariables, readRequestId, requestIdMiddleware } from "./http/request-id";
import { observeRequests, type RequestLogVariables } from "./http/request-log";
import { type AuthVariables, authenticate } from "./middleware/auth";
import { type IdempotencyOptions, idempotency } from "./middleware/idempotency";
import { registerAccessRoutes } from "./routes/access";
import type { AppDeps } from "./routes/deps";
import { registerEventRoutes } from "./routes/events";
import { registerExecRoutes } from "./routes/exec";
import { registerHealthRoutes } from "./routes/health";
import { registerHostRoutes } from "./routes/hosts";
import { registerIpamRoutes } from "./routes/ipam";
import { registerLabRoutes } from "./routes/labs";
import { registerMachineKernelRoutes } from "./routes/machine-kernel";
import { registerMachineRoutes } from "./routes/machines";
import { registerNetworkRoutes } from "./routes/networks";
import { registerNodeKernelRoutes } from "./routes/node-kernel";
import { registerNodeRoutes } from "./routes/nodes";
import { registerOperationRoutes } from "./routes/operations";
import { registerPortRoutes } from "./routes/ports";
import { registerTopologyRoutes } from "./routes/topology";

/** Largest request body the API reads. */
export const MAX_BODY_BYTES = 1024 * 1024;

export type GatewayEnv = { Variables: AuthVariables & RequestIdVariables & RequestLogVariables };
export type GatewayApp = Hono<GatewayEnv>;

/** Domain errors carry a contract code and the fields at fault; the code decides the status. */
function mapDomainError(error: unknown): ProblemError | undefined {
  if (error instanceof DomainError) {
    return new ProblemError({ code: error.code, detail: error.message, errors: error.errors, cause: error });
  }
  return undefined;
}

/** Settings of the app itself (not clients). */
export interface AppOptions {
  /** Idempotency-Key lifetimes (defaults: kept 24 h, leased 30 s). */
  idempotency?: Pick<IdempotencyOptions, "ttlMs" | "leaseMs">;
}

/**
 * The HTTP API: request id first, then the public docs, authentication, idempotency,
 * and one route per operation of openapi/labnet.yaml (checked: none may be missing).
 * `deps.db` should be the runtime's request database (see `createGatewayRuntime`), whose
 * transactions mark idempotency keys committed.
 */
export function createApp(given: AppDeps, options: AppOptions = {}): GatewayApp {
  // Routes change things through a database whose transactions carry the audit entry and the quota check.
  const audited = auditedDatabase(given.db);
  const auditSettler = given.auditSettler ?? createAuditSettler(given.db, given.log);
  const deps: AppDeps = { ...given, db: audited, commands: { ...given.commands, db: audited }, auditSettler };
  const app: GatewayApp = new Hono<GatewayEnv>();
  app.use("*", requestIdMiddleware());
  app.use("*", observeRequests({ log: deps.log, ...(deps.metrics ? { metrics: deps.metrics } : {}) }));
  if (deps.metrics) {
    registerMetricsRoute(app, deps.db, deps.metrics);
  }
  app.route("/", createDocsApp());
  // Before anything reads the body (idempotency hashes it): a lab's requests are small.
  app.use(
    "/v1/*",
    limitBodies({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ProblemError({
          code: "PAYLOAD_TOO_LARGE",
          detail: `request bodies are limited to ${MAX_BODY_BYTES} bytes`,
        });
      },
    }),
  );
  if (deps.corsOrigins && deps.corsOrigins.length > 0) {
    // A web console on another origin: preflights answer before authentication.
    app.use(
      "/v1/*",
      cors({
        origin: [...deps.corsOrigins],
        allowHeaders: [
          "Authorization",
          "Content-Type",
          "Idempotency-Key",
          "Prefer",
          "Last-Event-ID",
          "X-Request-Id",
        ],
        exposeHeaders: [
          "Location",
          "Operation-Location",
          "Preference-Applied",
          "Idempotent-Replayed",
          "X-Request-Id",
          "Retry-After",
        ],
        maxAge: 600,
      }),
    );
  }
  // One token cache and one rate budget per token for both APIs (the docker facade mounts them too).
  const auth = authenticate(deps.db, {
    pg: deps.pg,
    log: deps.log,
    ...(deps.quotas ? { quotas: deps.quotas } : {}),
  });
  const rateLimit = rateLimitPerToken(deps.rateLimits);
  app.use("/v1/*", auth);
  app.use("/v1/*", rateLimit);
  app.use("/v1/*", auditRequests(deps.db, deps.log, auditSettler));
  app.use(
    "/v1/*",
    idempotency(deps.db, {
      ...options.idempotency,
      fetch: (request) => app.fetch(request),
      onStoreError: (error) =>
        deps.log.warn("idempotency key not updated", {
          error: error instanceof Error ? error.message : String(error),
        }),
    }),
  );

  for (const register of [
    registerAccessRoutes,
    registerEventRoutes,
    registerExecRoutes,
    registerHealthRoutes,
    registerHostRoutes,
    registerIpamRoutes,
    registerLabRoutes,
    registerMachineKernelRoutes,
    registerMachineRoutes,
    registerNetworkRoutes,
    registerNodeKernelRoutes,
    registerNodeRoutes,
    registerOperationRoutes,
    registerPortRoutes,
    registerTopologyRoutes,
  ]) {
    register(app, deps);
  }

  app.route(DOCKER_BASE_PATH, createDockerApp(deps, { authenticate: auth, rateLimit, auditSettler }));
  registerDockerHints(app);

  app.onError(
    createErrorHandler({
      mapError: mapDomainError,
      onUnexpected: (error, c) =>
        deps.log.error("unexpected error", {
          requestId: readRequestId(c),
          path: c.req.path,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
    }),
  );
  app.notFound(createNotFoundHandler(allowedMethods));
  assertEveryOperationRouted(app);
  return app;
}

/** Refuses to start with an operation of the contract that has no route. */
function assertEveryOperationRouted(app: GatewayApp): void {
  const routes = new Set(app.routes.map((r) => `${r.method} ${r.path}`));
  const missing = listOperationIds().filter((id) => {
    const spec = getOperationSpec(id);
    return !routes.has(`${spec.method.toUpperCase()} ${spec.honoPath}`);
  });
  if (missing.length > 0) {
    throw new Error(`operations without a route: ${missing.join(", ")}`);
  }
}
