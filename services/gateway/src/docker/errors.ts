import { DomainError, type DomainErrorCode } from "@labnet/commands";
import { ProblemError } from "../http/problem";

/**
 * An answer as dockerd writes errors: a status and `{"message": "..."}`. The docker CLI prints
 * `Error response from daemon: <message>` and decides some behaviour by the status alone (a 404
 * from container create makes it pull the image), so both follow dockerd.
 */
export class DockerError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 429 | 500 | 501 | 503,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DockerError";
  }
}

/**
 * dockerd's status for each kind of domain error (errdefs: invalid parameter, not found, conflict,
 * forbidden, system); a code not listed is an invalid parameter.
 */
const STATUS_OF: Readonly<Partial<Record<DomainErrorCode, DockerError["status"]>>> = {
  NOT_FOUND: 404,
  INVALID_FIELD: 400,
  CONFLICT: 409,
  NAME_CONFLICT: 409,
  SUBNET_OVERLAP: 403,
  ADDRESS_IN_USE: 403,
  NETWORK_IN_USE: 403,
  POOL_EXHAUSTED: 403,
  NETWORK_FULL: 409,
  PORT_IN_USE: 500,
  PORT_RANGE_EXHAUSTED: 500,
  UNSUPPORTED_DRIVER: 400,
  FORBIDDEN: 403,
  QUOTA_EXCEEDED: 403,
  NO_HOST: 503,
  INVALID_TEMPLATE: 400,
  // Only from If-Match, which the Engine API never sends; a conflict, as errdefs would call it.
  PRECONDITION_FAILED: 409,
};

/** What reaches a docker client for any error: ours as they are, Labnet's domain and HTTP problems mapped. */
export function toDockerError(error: unknown): DockerError | undefined {
  if (error instanceof DockerError) {
    return error;
  }
  if (error instanceof DomainError) {
    return new DockerError(STATUS_OF[error.code] ?? 400, dockerMessageOf(error), { cause: error });
  }
  if (error instanceof ProblemError) {
    const status = error.status;
    const mapped = ([400, 401, 403, 404, 409, 429, 500, 501, 503] as const).find((s) => s === status);
    return new DockerError(mapped ?? (status >= 500 ? 500 : 400), error.detail, { cause: error });
  }
  return undefined;
}

/** Labnet's messages where dockerd has its own wording for the same thing. */
function dockerMessageOf(error: DomainError): string {
  if (error.code === "PORT_IN_USE") {
    // "Bind for 0.0.0.0:8080/tcp failed on host x: port is already allocated to node y ...".
    const bind = /^Bind for (\S+?):(\d+)\/(tcp|udp) failed/.exec(error.message);
    if (bind) {
      return `driver failed programming external connectivity on endpoint: Bind for ${bind[1]}:${bind[2]} failed: port is already allocated`;
    }
  }
  if (error.code === "SUBNET_OVERLAP") {
    return `invalid pool request: Pool overlaps with other one on this address space (${error.message})`;
  }
  return error.message;
}

/** A body dockerd's way, `{"message": "..."}`. */
export function dockerErrorBody(error: DockerError): { message: string } {
  return { message: error.message };
}
