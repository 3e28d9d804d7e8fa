/**
 * The Docker Engine API of one machine, under `/docker/{machine}/` (id or name), so the docker CLI
 * and SDKs work against Labnet with `DOCKER_HOST=tcp://<gateway>/docker/<machine>` and the token in
 * `DOCKER_CUSTOM_HEADERS` (or config.json's `HttpHeaders`). Every path is served versioned
 * (`/v1.NN/...`, 1.24 up to the one announced) and unversioned; every answer carries dockerd's
 * `Api-Version`, `Ostype` and `Server`, and errors are `{"message": ...}` with dockerd's status.
 * Requests are authenticated, rate limited and audited like `/v1`, and tenancy is enforced in
 * access.ts: the routes here translate to Labnet's commands and views, nothing more.
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { type AuditSettler, auditRequests, currentAudit } from "../access/audit";
import type { GatewayEnv } from "../app";
import { limitBodies } from "../http/body-limit";
import { ProblemError } from "../http/problem";
import { readRequestId } from "../http/request-id";
import { findTextProblems } from "../http/text-fields";
import type { AppDeps } from "../routes/deps";
import { type DockerEnv, type DockerHandler, type DockerRoute, resolveDockerMachine } from "./access";
import { API_VERSION, apiVersionProblem } from "./api-version";
import { registerDockerContainerRoutes } from "./containers";
import { DockerError, dockerErrorBody, toDockerError } from "./errors";
import { registerDockerEventRoutes } from "./events";
import { registerDockerExecRoutes } from "./exec";
import { registerDockerNetworkRoutes } from "./networks";
import { registerDockerSystemRoutes, SERVER_VERSION } from "./system";

/** Where the facade is mounted: `/docker/{machine}`. */
export const DOCKER_BASE_PATH = "/docker/:machine";

/** The largest request body read (a create request is a few kilobytes). */
const MAX_BODY_BYTES = 256 * 1024;

const VERSION_SEGMENT = /^\/docker\/[^/]+\/v(\d+\.\d+)(\/|$)/;

/** The path's segments decoded (a malformed escape: the raw segment, refused by the route). */
function pathSegments(path: string): string[] {
  return path.split("/").map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  });
}

export interface DockerAppShared {
  /** The gateway's authentication (one token cache and revocation listener for both APIs). */
  authenticate: MiddlewareHandler;
  /** The gateway's per-token rate limit (one budget per token across both APIs). */
  rateLimit: MiddlewareHandler;
  /** Where both APIs' audit statuses wait for their batched write. */
  auditSettler: AuditSettler;
}

export function createDockerApp(deps: AppDeps, shared: DockerAppShared): Hono<DockerEnv> {
  const engine = new Hono<DockerEnv>();
  engine.use("*", async (c, next) => {
    await next();
    c.header("Api-Version", API_VERSION);
    c.header("Ostype", "linux");
    c.header("Server", `Labnet/${SERVER_VERSION} (linux)`);
  });
  engine.use("*", async (c, next) => {
    const version = VERSION_SEGMENT.exec(c.req.path)?.[1];
    const problem = version === undefined ? undefined : apiVersionProblem(version);
    if (problem) {
      throw new DockerError(400, problem);
    }
    c.set("apiVersion", version ?? API_VERSION);
    await next();
  });
  engine.use(
    "*",
    limitBodies({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new DockerError(400, `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  engine.use("*", shared.authenticate);
  // Control characters and invalid Unicode are refused before anything reads them, as on /v1.
  engine.use("*", async (c, next) => {
    const query = c.req.queries();
    const body = c.req.header("content-type")?.startsWith("application/json")
      ? await c.req.json().catch(() => undefined)
      : undefined;
    const [problem] = [
      ...findTextProblems("path", pathSegments(c.req.path)),
      ...findTextProblems("query", query),
      ...findTextProblems("body", body),
    ];
    if (problem) {
      throw new DockerError(400, `invalid request: ${problem.location} ${problem.message}`);
    }
    await next();
  });
  engine.use("*", shared.rateLimit);
  engine.use("*", auditRequests(deps.db, deps.log, shared.auditSettler));
  engine.use("*", async (c, next) => {
    // A change refused before its route names it (a machine out of reach) is audited too.
    const audit = currentAudit();
    if (audit) {
      audit.operationId = "docker.request";
    }
    c.set("machine", await resolveDockerMachine(deps.db, c, c.req.param("machine") ?? ""));
    await next();
  });

  const route: DockerRoute = (method, path, handler: DockerHandler) => {
    for (const at of [path, `/:version{v[0-9]+\\.[0-9]+}${path}`]) {
      engine.on(method, at, handler);
    }
  };
  registerDockerSystemRoutes(route, deps);
  registerDockerNetworkRoutes(route, deps);
  registerDockerContainerRoutes(route, deps);
  registerDockerExecRoutes(route, deps);
  registerDockerEventRoutes(route, deps);
  engine.all("*", () => {
    throw new DockerError(404, "page not found");
  });

  engine.onError((error, c) => {
    const known = toDockerError(error);
    if (!known) {
      deps.log.error("unexpected error", {
        requestId: readRequestId(c),
        path: c.req.path,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
    const answer = known ?? new DockerError(500, `internal error (request ${readRequestId(c) ?? "unknown"})`);
    if (error instanceof ProblemError) {
      for (const [name, value] of Object.entries(error.headers ?? {})) {
        c.header(name, value);
      }
      if (error.code === "UNAUTHORIZED") {
        return c.json(
          {
            message: `${error.detail}: Labnet's Docker API needs a Labnet token. Set DOCKER_CUSTOM_HEADERS="Authorization=Bearer lnt_..." or "HttpHeaders": {"Authorization": "Bearer lnt_..."} in ~/.docker/config.json (DOCKER_HOST=tcp://<gateway>/docker/<machine>)`,
          },
          401,
        );
      }
    }
    return c.json(dockerErrorBody(answer), answer.status);
  });
  return engine;
}

/**
 * A docker client pointed at the gateway itself (`DOCKER_HOST=tcp://<gateway>`, no machine) gets,
 * in dockerd's format, where the Engine API is; nothing else answers at those paths.
 */
export function registerDockerHints(app: Hono<GatewayEnv>): void {
  const hint = (c: Context) => {
    const { host } = new URL(c.req.url);
    c.header("Api-Version", API_VERSION);
    c.header("Ostype", "linux");
    c.header("Server", `Labnet/${SERVER_VERSION} (linux)`);
    return c.json(
      {
        message: `Labnet serves the Docker Engine API per machine: DOCKER_HOST=tcp://${host}/docker/<machine id or name> (GET /v1/machines lists yours)`,
      },
      404,
    );
  };
  app.all("/_ping", hint);
  app.all("/:version{v[0-9]+\\.[0-9]+}/*", hint);
}
