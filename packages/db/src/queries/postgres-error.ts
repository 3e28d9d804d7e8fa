/** The parts of a postgres.js error that say which constraint a statement broke. */
export interface ConstraintViolation {
  /** SQLSTATE: 23505 unique, 23P01 exclusion, 23503 foreign key. */
  code: string;
  constraint: string;
  detail?: string;
}

/** The constraint violation behind `error`, if that is what it is (drizzle wraps driver errors in `cause`). */
export function constraintViolation(error: unknown): ConstraintViolation | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (typeof current === "object" && current !== null) {
      const candidate = current as {
        code?: unknown;
        constraint_name?: unknown;
        detail?: unknown;
        cause?: unknown;
      };
      if (typeof candidate.code === "string" && typeof candidate.constraint_name === "string") {
        return {
          code: candidate.code,
          constraint: candidate.constraint_name,
          ...(typeof candidate.detail === "string" ? { detail: candidate.detail } : {}),
        };
      }
      current = candidate.cause;
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** postgres.js's own codes for a connection that is gone or could not be made. */
const DRIVER_CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);
/** Socket errors of a server that is down or restarting (ENOENT: its unix socket is gone). */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOENT", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);
/** SQLSTATEs of a server going away: admin_shutdown, crash_shutdown, cannot_connect_now. */
const SHUTDOWN_STATES = new Set(["57P01", "57P02", "57P03"]);

/**
 * True when `error` (or its cause: drizzle wraps driver errors) says Postgres could not be
 * reached or went away mid-statement: a restart, an outage. The request may be retried once it
 * is back; the API answers 503 rather than 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const candidate = current as { code?: unknown; syscall?: unknown; cause?: unknown };
    const code = typeof candidate.code === "string" ? candidate.code : undefined;
    if (code !== undefined) {
      if (DRIVER_CONNECTION_CODES.has(code) || SHUTDOWN_STATES.has(code) || code.startsWith("08")) {
        return true;
      }
      // A socket error, not a file the request named.
      if (SOCKET_CODES.has(code) && typeof candidate.syscall === "string") {
        return true;
      }
    }
    current = candidate.cause;
  }
  return false;
}
