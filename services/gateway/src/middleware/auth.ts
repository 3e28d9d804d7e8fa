import {
  type Database,
  findActiveToken,
  type Sql,
  TOKENS_CHANNEL,
  type TokenWithLab,
  touchToken,
} from "@labnet/db";
import type { Logger } from "@labnet/log";
import type { MiddlewareHandler } from "hono";
import { type Access, createAccess } from "../access/gate";
import { operationGate } from "../access/operation-gate";
import { DEFAULT_QUOTAS, type Quotas } from "../access/quotas";
import { getOperationSpec, listOperationIds, type OperationGate } from "../http/openapi-router";
import { ProblemError } from "../http/problem";
import { createTokenVerifier, type TokenVerifierOptions } from "./token-cache";

/**
 * Paths anyone may call: those of the contract's operations that declare no security (the
 * probes). Read from the document, as the router's access gate reads `secured`; a templated
 * path would match no request here, so a mistake there asks for a token rather than none.
 */
const PUBLIC_PATHS = new Set(
  listOperationIds()
    .map(getOperationSpec)
    .filter((spec) => !spec.secured)
    .map((spec) => spec.path),
);

export interface AuthVariables {
  token: TokenWithLab;
  /** What the token reaches (access/gate.ts), for the gate and the lists. */
  access: Access;
  /** The access gate of this request (access/operation-gate.ts), called by the router. */
  admit: OperationGate;
  /**
   * Drops a token from this gateway's cache, once its revocation committed: the NOTIFY that
   * tells every gateway may arrive after the revoking request's next call.
   */
  forgetToken(tokenId: string): void;
}

export interface AuthOptions extends TokenVerifierOptions {
  /** LISTEN for revocations here (every gateway forgets a revoked token at once). */
  pg?: Sql;
  log?: Logger;
  /** An instructor's quotas unless their account sets its own. */
  quotas?: Quotas;
}

/**
 * Bearer-token authentication against the hashed tokens in Postgres; a verified token is
 * trusted for a few seconds without asking again (see `createTokenVerifier`), except that a
 * revocation (NOTIFY labnet_tokens) or an expiry takes effect at once.
 */
export function authenticate(
  db: Database,
  options: AuthOptions = {},
): MiddlewareHandler<{ Variables: AuthVariables }> {
  const lookup = async (secret: string) => {
    const token = await findActiveToken(db, secret);
    if (token) {
      // Asked only when the short cache misses: at most a write per token every few seconds.
      touchToken(db, token.id).catch((error: unknown) =>
        options.log?.warn("token use not recorded", { error: String(error) }),
      );
    }
    return token;
  };
  const tokens = createTokenVerifier(lookup, options);
  options.pg
    ?.listen(TOKENS_CHANNEL, (tokenId) => tokens.forget(tokenId))
    .catch((error: unknown) => options.log?.error("LISTEN labnet_tokens failed", { error: String(error) }));
  return async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path)) {
      return next();
    }
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      throw unauthorized("send an API token as `Authorization: Bearer <token>`");
    }
    const token = await tokens.verify(match[1]);
    if (!token) {
      throw unauthorized("the API token is unknown, expired or revoked");
    }
    c.set("token", token);
    const access = createAccess(db, token);
    c.set("access", access);
    c.set("admit", operationGate(db, access, options.quotas ?? DEFAULT_QUOTAS));
    c.set("forgetToken", (tokenId: string) => tokens.forget(tokenId));
    return next();
  };
}

function unauthorized(detail: string): ProblemError {
  return new ProblemError({
    status: 401,
    code: "UNAUTHORIZED",
    detail,
    headers: { "WWW-Authenticate": 'Bearer realm="labnet"' },
  });
}
