import { createHash } from "node:crypto";
import { type Database, schema } from "@labnet/db";
import { and, eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { ProblemError } from "../http/problem";
import type { AuthVariables } from "./auth";

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Headers a replay must carry again. */
const REPLAYED_HEADERS = ["content-type", "location", "operation-location", "preference-applied"];

/**
 * `Idempotency-Key` on POST: the first answer is stored and replayed for retries with
 * the same key; the same key with another request is refused. The row is claimed before
 * the request runs (primary key), so two concurrent retries cannot both run it.
 */
export function idempotency(db: Database): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const key = c.req.header("idempotency-key");
    if (c.req.method !== "POST" || key === undefined) {
      return next();
    }
    if (!KEY_PATTERN.test(key)) {
      throw new ProblemError({
        status: 400,
        code: "VALIDATION_FAILED",
        detail: "Idempotency-Key must be 1-255 visible ASCII characters",
        errors: [{ location: "header.Idempotency-Key", message: "1-255 visible ASCII characters" }],
      });
    }
    const token = c.get("token");
    const body = await c.req.raw.clone().text();
    const requestHash = createHash("sha256").update(`${c.req.method} ${c.req.path}\n${body}`).digest("hex");
    const where = and(eq(schema.idempotencyKeys.tokenId, token.id), eq(schema.idempotencyKeys.key, key));

    const claimed = await db
      .insert(schema.idempotencyKeys)
      .values({ tokenId: token.id, key, requestHash })
      .onConflictDoNothing()
      .returning();
    if (claimed.length === 0) {
      const [previous] = await db.select().from(schema.idempotencyKeys).where(where);
      if (!previous || previous.requestHash !== requestHash) {
        throw new ProblemError({
          status: 422,
          code: "IDEMPOTENCY_KEY_REUSED",
          detail: "this Idempotency-Key was used for a different request",
          errors: [{ location: "header.Idempotency-Key", message: "used for a different request" }],
        });
      }
      if (previous.status === null) {
        throw new ProblemError({
          status: 409,
          code: "CONFLICT",
          detail: "a request with this Idempotency-Key is still being processed; retry later",
        });
      }
      return new Response(previous.body, {
        status: previous.status,
        headers: { ...previous.headers, "idempotent-replayed": "true" },
      });
    }

    try {
      await next();
    } catch (error) {
      await db.delete(schema.idempotencyKeys).where(where);
      throw error;
    }
    if (c.res.status >= 500) {
      await db.delete(schema.idempotencyKeys).where(where); // a server fault may be retried for real
      return;
    }
    const headers = Object.fromEntries(
      REPLAYED_HEADERS.flatMap((h) => {
        const value = c.res.headers.get(h);
        return value === null ? [] : [[h, value]];
      }),
    );
    const text = await c.res.clone().text();
    await db.update(schema.idempotencyKeys).set({ status: c.res.status, headers, body: text }).where(where);
  };
}
