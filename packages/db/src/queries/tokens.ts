import { createHash, randomBytes } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import { newId } from "../ids";
import type { Role } from "../schema";
import { tokens } from "../schema";
import type { Db } from "../tx";
import { preparedOn } from "./prepared";

export type TokenRow = typeof tokens.$inferSelect;

/** Only this digest of a token is stored. */
export function hashToken(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** A fresh secret, recognisable in logs and secret scanners by its prefix. */
export function generateTokenSecret(): string {
  return `lnt_${randomBytes(24).toString("base64url")}`;
}

export async function createToken(
  db: Db,
  input: { name: string; role: Role; secret: string },
): Promise<TokenRow> {
  const [row] = await db
    .insert(tokens)
    .values({ id: newId("token"), name: input.name, role: input.role, tokenHash: hashToken(input.secret) })
    .onConflictDoUpdate({ target: tokens.tokenHash, set: { revokedAt: null } })
    .returning();
  if (!row) {
    throw new Error("creating a token returned no row");
  }
  return row;
}

function selectActiveToken(db: Db) {
  return db
    .select()
    .from(tokens)
    .where(and(eq(tokens.tokenHash, sql.placeholder("hash")), isNull(tokens.revokedAt)));
}

/** The token with this secret, unless revoked. */
export async function findActiveToken(db: Db, secret: string): Promise<TokenRow | undefined> {
  const prepared = preparedOn(db, "findActiveToken", (pool) =>
    selectActiveToken(pool).prepare("find_active_token"),
  );
  const values = { hash: hashToken(secret) };
  const [row] = prepared ? await prepared.execute(values) : await selectActiveToken(db).execute(values);
  return row;
}

export async function countAdminTokens(db: Db): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(tokens)
    .where(and(eq(tokens.role, "admin"), isNull(tokens.revokedAt)));
  return row?.n ?? 0;
}
