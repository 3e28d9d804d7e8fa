import { type Database, findActiveToken, type TokenRow } from "@labnet/db";
import type { MiddlewareHandler } from "hono";
import { ProblemError } from "../http/problem";
import { createTokenVerifier, type TokenVerifierOptions } from "./token-cache";

/** Paths anyone may read: probes and the API reference. */
const PUBLIC_PATHS = new Set(["/v1/healthz", "/v1/readyz", "/openapi.json"]);

export interface AuthVariables {
  token: TokenRow;
}

/**
 * Bearer-token authentication against the hashed tokens in Postgres; a verified token is
 * trusted for a few seconds without asking again (see `createTokenVerifier`).
 */
export function authenticate(
  db: Database,
  options: TokenVerifierOptions = {},
): MiddlewareHandler<{ Variables: AuthVariables }> {
  const tokens = createTokenVerifier((secret) => findActiveToken(db, secret), options);
  return async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path) || c.req.path === "/docs" || c.req.path.startsWith("/docs/")) {
      return next();
    }
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      throw new ProblemError({
        status: 401,
        code: "UNAUTHORIZED",
        detail: "send an API token as `Authorization: Bearer <token>`",
      });
    }
    const token = await tokens.verify(match[1]);
    if (!token) {
      throw new ProblemError({
        status: 401,
        code: "UNAUTHORIZED",
        detail: "the API token is unknown or revoked",
      });
    }
    c.set("token", token);
    return next();
  };
}

/** Only admins may change lab hosts' networking for now; instructors and students come with labs. */
export function requireRole(token: TokenRow, roles: TokenRow["role"][]): void {
  if (!roles.includes(token.role)) {
    throw new ProblemError({
      status: 403,
      code: "FORBIDDEN",
      detail: `this needs one of the roles: ${roles.join(", ")}`,
    });
  }
}
