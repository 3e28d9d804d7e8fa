/**
 * Tenancy of the Engine API facade, in one place: the routes under `/docker/{machine}/` do not pass
 * the OpenAPI access gate, so the machine is resolved here among what the token reaches (one out of
 * reach answers as a missing one, 404), a change is refused where a student's lab template does not
 * allow it (the gate's own check, `assertStudentMay`), and the request's audit entry is named
 * before anything changes, so the audited database writes it in the changing transaction.
 */
import { type Database, findHost, findVisible, type HostRow } from "@labnet/db";
import type { StudentAction } from "@labnet/labs";
import type { Context } from "hono";
import { currentAudit } from "../access/audit";
import { assertStudentMay } from "../access/gate";
import type { GatewayEnv } from "../app";
import { DockerError } from "./errors";

export type DockerEnv = {
  Variables: GatewayEnv["Variables"] & {
    /** The machine `{machine}` names, reached by the request's token. */
    machine: HostRow;
    /** The client's API version (the path's `v1.NN`, else the announced one). */
    apiVersion: string;
  };
};

/** The machine (id or name) among those the token reaches; 404 otherwise, as dockerd answers a missing thing. */
export async function resolveDockerMachine(
  db: Database,
  c: Context<DockerEnv>,
  ref: string,
): Promise<HostRow> {
  const [only, ...more] = await findVisible(db, c.get("access").scope, "machine", ref);
  const machine = only && more.length === 0 ? await findHost(db, only.id) : undefined;
  if (!machine) {
    throw new DockerError(
      404,
      `No such machine: ${ref} (DOCKER_HOST must name one of your machines: /docker/<machine id or name>)`,
    );
  }
  return machine;
}

/**
 * Names a change in the audit log (`docker.<what>`, its target) and refuses it when the token is a
 * student's whose template does not allow `action`. Call before changing anything.
 */
export async function admitDockerChange(
  db: Database,
  c: Context<DockerEnv>,
  change: { what: string; action?: StudentAction; target?: { type: string; id: string } },
): Promise<void> {
  const audit = currentAudit();
  if (audit) {
    audit.operationId = `docker.${change.what}`;
    audit.target = change.target ?? { type: "machine", id: c.get("machine").id };
  }
  if (change.action) {
    await assertStudentMay(db, c.get("access"), change.action);
  }
}

export type DockerHandler = (c: Context<DockerEnv>) => Response | Promise<Response>;

/** Registers a route of the Engine API at `path` and at `/v1.NN<path>` (see app.ts). */
export type DockerRoute = (
  method: "GET" | "HEAD" | "POST" | "DELETE",
  path: string,
  handler: DockerHandler,
) => void;

/** A path parameter of the route (always there when the route matched). */
export function param(c: Context<DockerEnv>, name: string): string {
  return c.req.param(name) ?? "";
}

/**
 * What `GET /v1/machines/{id}` tells a docker user: DOCKER_HOST for the machine as `requestUrl`
 * reached the gateway, and the header that carries their token.
 */
export function dockerAccessOf(
  requestUrl: string,
  machine: Pick<HostRow, "name">,
): { host: string; customHeaders: string } {
  const { host } = new URL(requestUrl);
  return { host: `tcp://${host}/docker/${machine.name}`, customHeaders: "Authorization=Bearer <token>" };
}
