/**
 * Errors of Labnet's domain. They carry a stable code and the field at fault, never an
 * HTTP status: the gateway maps codes to statuses (see gateway http/problem.ts).
 */
export type DomainErrorCode =
  | "NOT_FOUND"
  | "INVALID_FIELD"
  | "CONFLICT"
  | "NAME_CONFLICT"
  | "SUBNET_OVERLAP"
  | "ADDRESS_IN_USE"
  | "NETWORK_IN_USE"
  | "POOL_EXHAUSTED"
  /** A bridge network already has as many endpoints as one bridge takes. */
  | "NETWORK_FULL"
  | "PORT_IN_USE"
  | "PORT_RANGE_EXHAUSTED"
  | "UNSUPPORTED_DRIVER"
  | "FORBIDDEN"
  /** An account quota or a student's limit in their instance would be passed. */
  | "QUOTA_EXCEEDED"
  | "NO_HOST"
  /** A lab template does not validate: each error names its path in the template. */
  | "INVALID_TEMPLATE"
  /** The change was asked of another revision of the resource than the current one (`If-Match`). */
  | "PRECONDITION_FAILED";

export interface FieldError {
  /** Where in the request: `body.ipam.configs[0].gateway`, `path.networkId`. */
  location: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/** One field is wrong in a way the schema cannot say (gateway outside the subnet, ...). */
export function invalidField(location: string, message: string): DomainError {
  return new DomainError("INVALID_FIELD", message, [{ location, message }]);
}

export function notFound(what: string, ref: string, location?: string): DomainError {
  const message = `${what} ${ref} not found`;
  return new DomainError("NOT_FOUND", message, location ? [{ location, message }] : []);
}
