import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/**
 * Refuses request bodies over `maxSize` bytes (`onError` answers). On Node's HTTP server
 * (`c.env.incoming` set) a body with a length says its size in `Content-Length`, which the
 * parser holds it to, and a request with neither that nor `Transfer-Encoding` has none: both
 * pass or fail on the header alone. A chunked body, and any request not from Node's server
 * (`app.request` in tests), is counted as it is read (Hono's bodyLimit). Hono's reads
 * `c.req.raw.body` for every request, which turns @hono/node-server's lightweight request
 * into a full one (about 0.3 ms a call, and its body then no longer reads on the fast path).
 */
/** The request came through Node's HTTP server (`@hono/node-server`), not `app.request`. */
function fromNodeServer(c: Context): boolean {
  return (c.env as { incoming?: unknown } | undefined)?.incoming !== undefined;
}

/**
 * The request certainly has no body: it came through Node's HTTP server with neither
 * `Transfer-Encoding` nor a non-zero `Content-Length` (HTTP/1.1 has no other way to send one).
 * Knowing it spares reading the body, which on @hono/node-server builds the full request.
 */
export function carriesNoBody(c: Context): boolean {
  if (!fromNodeServer(c) || c.req.header("transfer-encoding") !== undefined) {
    return false;
  }
  const length = c.req.header("content-length");
  return length === undefined || length.trim() === "0";
}

export function limitBodies(options: {
  maxSize: number;
  onError: (c: Context) => Response | Promise<Response>;
}): MiddlewareHandler {
  const counting = bodyLimit(options);
  return async (c, next) => {
    if (!fromNodeServer(c) || c.req.header("transfer-encoding") !== undefined) {
      return counting(c, next);
    }
    const length = c.req.header("content-length");
    if (length !== undefined && Number.parseInt(length, 10) > options.maxSize) {
      return options.onError(c);
    }
    await next();
  };
}
