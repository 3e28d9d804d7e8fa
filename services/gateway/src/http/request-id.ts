import { randomUUID } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { type RequestIdVariables, requestId } from "hono/request-id";

export type { RequestIdVariables };

/** The header carrying the request id, both ways. */
export const REQUEST_ID_HEADER = "X-Request-Id";

/** Longest incoming id we keep; longer (or with characters outside `[A-Za-z0-9_=-]`) is replaced. */
export const MAX_REQUEST_ID_LENGTH = 200;

/**
 * Sets `c.var.requestId` and the `X-Request-Id` answer header: the client's id when it is
 * sane (up to 200 of `[A-Za-z0-9_=-]`, so it is safe in logs), else a new UUID. Mount it first,
 * so every log line and problem document of the request carries the id.
 */
export function requestIdMiddleware(): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  return requestId({
    headerName: REQUEST_ID_HEADER,
    limitLength: MAX_REQUEST_ID_LENGTH,
    generator: () => randomUUID(),
  });
}

/**
 * The request's id; when the middleware did not run (a bare test app), a sane incoming
 * header or a fresh UUID, so problem documents always carry one.
 */
export function readRequestId(c: Context): string {
  const id: unknown = c.get("requestId");
  if (typeof id === "string" && id.length > 0) {
    return id;
  }
  const incoming = c.req.header(REQUEST_ID_HEADER);
  if (incoming && incoming.length <= MAX_REQUEST_ID_LENGTH && /^[\w=-]+$/.test(incoming)) {
    return incoming;
  }
  const generated = randomUUID();
  c.set("requestId", generated);
  return generated;
}
