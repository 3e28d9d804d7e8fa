import type { Problem, ProblemCode, ProblemFieldError } from "@labnet/api";
import type { Context } from "hono";
import type { ClientErrorStatusCode, ServerErrorStatusCode } from "hono/utils/http-status";
import { readRequestId } from "./request-id";

export type { Problem, ProblemCode, ProblemFieldError };

/** A status a problem may carry. */
export type ProblemStatus = ClientErrorStatusCode | ServerErrorStatusCode;

/** The media type of every error body (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/**
 * Where problem `type` URIs live: `https://labnet.dev/problems/<code in kebab-case>`.
 * Absolute, as RFC 9457 recommends; an identifier clients may compare, not a page we serve.
 */
export const PROBLEM_TYPE_BASE = "https://labnet.dev/problems/";

/**
 * Every code with its default status and its title (the same for every occurrence).
 * Typed as a full `Record`, so a code added to the contract fails to compile until it has a row.
 */
export const PROBLEM_CODES: Readonly<Record<ProblemCode, { status: ProblemStatus; title: string }>> = {
  VALIDATION_FAILED: { status: 400, title: "Validation failed" },
  INVALID_TEMPLATE: { status: 400, title: "Invalid lab template" },
  UNAUTHORIZED: { status: 401, title: "Unauthorized" },
  FORBIDDEN: { status: 403, title: "Forbidden" },
  QUOTA_EXCEEDED: { status: 403, title: "Quota exceeded" },
  NOT_FOUND: { status: 404, title: "Not found" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  CONFLICT: { status: 409, title: "Conflict" },
  NAME_CONFLICT: { status: 409, title: "Name conflict" },
  SUBNET_OVERLAP: { status: 409, title: "Subnet overlap" },
  ADDRESS_IN_USE: { status: 409, title: "Address in use" },
  NETWORK_IN_USE: { status: 409, title: "Network in use" },
  POOL_EXHAUSTED: { status: 409, title: "Address pools exhausted" },
  NETWORK_FULL: { status: 409, title: "Network full" },
  PORT_IN_USE: { status: 409, title: "Port already allocated" },
  PORT_RANGE_EXHAUSTED: { status: 409, title: "Port range exhausted" },
  PRECONDITION_FAILED: { status: 412, title: "Precondition failed" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Payload too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  INVALID_FIELD: { status: 422, title: "Invalid field" },
  UNSUPPORTED_DRIVER: { status: 422, title: "Unsupported driver" },
  NO_HOST: { status: 422, title: "No host" },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: "Idempotency key reused" },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  INTERNAL: { status: 500, title: "Internal server error" },
  HOST_UNAVAILABLE: { status: 503, title: "Host unavailable" },
  DATABASE_UNAVAILABLE: { status: 503, title: "Database unavailable" },
  KERNEL_OPERATION_FAILED: { status: 500, title: "The lab host could not apply the change" },
};

/** What a {@link ProblemError} is made of; `status` and `title` default from the code. */
export interface ProblemInit {
  code: ProblemCode;
  /** What went wrong in this occurrence, for humans (Docker's wording where Docker has one). */
  detail: string;
  status?: ProblemStatus;
  title?: string;
  /** The fields at fault. */
  errors?: ProblemFieldError[];
  /** Headers the answer carries (`WWW-Authenticate`, `Retry-After`). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * An error that becomes an `application/problem+json` answer. Throw it from handlers and
 * middleware; the app's error handler (see `createErrorHandler`) renders it.
 *
 * @example
 * throw new ProblemError({ code: "NAME_CONFLICT", detail: "network with name my-net already exists" });
 */
export class ProblemError extends Error {
  readonly status: ProblemStatus;
  readonly code: ProblemCode;
  readonly title: string;
  readonly detail: string;
  readonly errors: ProblemFieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(init: ProblemInit) {
    super(init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "ProblemError";
    const defaults = PROBLEM_CODES[init.code];
    this.status = init.status ?? defaults.status;
    this.code = init.code;
    this.title = init.title ?? defaults.title;
    this.detail = init.detail;
    this.errors = init.errors;
    this.headers = init.headers;
  }
}

/** `https://labnet.dev/problems/subnet-overlap` for `SUBNET_OVERLAP`. */
export function problemType(code: ProblemCode): string {
  return `${PROBLEM_TYPE_BASE}${code.toLowerCase().replaceAll("_", "-")}`;
}

/** 400 `VALIDATION_FAILED`: the request does not match the contract. */
export function badRequest(detail: string, errors?: ProblemFieldError[]): ProblemError {
  return new ProblemError({ code: "VALIDATION_FAILED", detail, ...(errors ? { errors } : {}) });
}

/**
 * 422 `INVALID_FIELD` (or another 422 code) naming one field: the request is well-formed
 * but a value cannot be carried out (`invalid CIDR address: 172.18.0.0/33`).
 */
export function invalidField(
  location: string,
  message: string,
  code: "INVALID_FIELD" | "UNSUPPORTED_DRIVER" | "NO_HOST" = "INVALID_FIELD",
): ProblemError {
  return new ProblemError({ code, detail: message, errors: [{ location, message }] });
}

/**
 * The request's path as a URI reference (the contract's `instance`): as sent, with every
 * character RFC 3986 does not allow in a path percent-encoded (Hono's `c.req.path` is decoded,
 * so `/v1/nodes/a%20b` would read `/v1/nodes/a b`).
 */
function instancePath(c: Context): string {
  return new URL(c.req.url).pathname.replace(/%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu, (ch) =>
    [...new TextEncoder().encode(ch)]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`)
      .join(""),
  );
}

/** The problem document for `error` as answered to the request in `c`. */
export function toProblem(c: Context, error: ProblemError): Problem {
  return {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.detail,
    instance: instancePath(c),
    code: error.code,
    requestId: readRequestId(c),
    ...(error.errors && error.errors.length > 0 ? { errors: error.errors } : {}),
  };
}

/**
 * Answers with a problem document: always `content-type: application/problem+json`, with
 * `requestId` and `instance` (the request path) filled in.
 */
export function problemResponse(
  c: Context,
  problem: ProblemError | ProblemInit,
  headers?: Record<string, string>,
): Response {
  const error = problem instanceof ProblemError ? problem : new ProblemError(problem);
  return c.body(JSON.stringify(toProblem(c, error)), error.status, {
    ...error.headers,
    ...headers,
    "content-type": PROBLEM_CONTENT_TYPE,
  });
}
