import { isDatabaseUnavailable } from "@labnet/db";
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  PROBLEM_CODES,
  type ProblemCode,
  ProblemError,
  type ProblemStatus,
  problemResponse,
} from "./problem";

/** Options of {@link createErrorHandler}. */
export interface ErrorHandlerOptions {
  /**
   * Maps errors from other layers (e.g. `@labnet/commands`' HTTP-free domain errors) to
   * problems; return `undefined` for errors it does not know.
   */
  mapError?: (error: unknown) => ProblemError | undefined;
  /** Called with every unexpected error (the 500s), to log it with the request id. */
  onUnexpected?: (error: unknown, c: Context) => void;
}

/** Seconds a client is asked to wait while Postgres is away (it reconnects within a second of coming back). */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

const CODE_BY_STATUS: Partial<Record<number, ProblemCode>> = {
  400: "VALIDATION_FAILED",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  412: "PRECONDITION_FAILED",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "INVALID_FIELD",
};

function fromHttpException(error: HTTPException): ProblemError {
  const status = error.status as ProblemStatus;
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? "INTERNAL" : "VALIDATION_FAILED");
  return new ProblemError({
    code,
    status,
    title: PROBLEM_CODES[code].title,
    detail: error.message || PROBLEM_CODES[code].title,
    cause: error,
  });
}

/**
 * The app's single `onError`, in three tiers: a {@link ProblemError} (or what `mapError`
 * makes of an error) becomes its problem; Hono's `HTTPException` is mapped by status; a lost
 * or unreachable database answers 503 `DATABASE_UNAVAILABLE` with Retry-After; anything else
 * is reported to `onUnexpected` and answered 500 `INTERNAL` without internals.
 *
 * @example
 * app.onError(createErrorHandler({ mapError: mapDomainError, onUnexpected: (e, c) => log.error({ err: e, requestId: c.var.requestId }) }));
 */
export function createErrorHandler(options: ErrorHandlerOptions = {}): ErrorHandler {
  return (error, c) => {
    if (error instanceof ProblemError) {
      return problemResponse(c, error);
    }
    const mapped = options.mapError?.(error);
    if (mapped) {
      return problemResponse(c, mapped);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return problemResponse(c, fromHttpException(error));
    }
    if (isDatabaseUnavailable(error)) {
      return problemResponse(
        c,
        {
          code: "DATABASE_UNAVAILABLE",
          detail: "Labnet's database is unavailable (restarting?); retry shortly",
        },
        { "retry-after": String(DATABASE_RETRY_AFTER_SECONDS) },
      );
    }
    options.onUnexpected?.(error, c);
    return problemResponse(c, {
      code: "INTERNAL",
      detail: "An unexpected error occurred. Quote the request id when reporting it.",
    });
  };
}

/**
 * `app.notFound`: a path the contract has for other methods answers 405 `METHOD_NOT_ALLOWED`
 * with `Allow` (`OPTIONS` there: 204 with `Allow`); any other 404 `NOT_FOUND`, as problems
 * like every other error.
 */
export function createNotFoundHandler(allowedMethods: (path: string) => string[]): NotFoundHandler {
  return (c) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length === 0) {
      return problemResponse(c, { code: "NOT_FOUND", detail: `No route for ${c.req.method} ${c.req.path}.` });
    }
    const allow = [...allowed, "OPTIONS"].sort().join(", ");
    if (c.req.method === "OPTIONS") {
      return c.body(null, 204, { allow });
    }
    return problemResponse(
      c,
      {
        code: "METHOD_NOT_ALLOWED",
        detail: `${c.req.path} does not take ${c.req.method}; it takes ${allowed.join(", ")}.`,
      },
      { allow },
    );
  };
}

/** 404 `NOT_FOUND` for every unrouted request (an app with no contract behind its routes). */
export const handleNotFound: NotFoundHandler = createNotFoundHandler(() => []);
