import { createHash, randomBytes } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import { newId } from "../ids";
import type { Role } from "../schema";
import { tokens } from "../schema";
import type { Db } from "../tx";

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

export async function findActiveToken(db: Db, secret: string): Promise<TokenRow | undefined> {
  const [row] = await db
    .select()
    .from(tokens)
    .where(and(eq(tokens.tokenHash, hashToken(secret)), isNull(tokens.revokedAt)));
  return row;
}

export async function countAdminTokens(db: Db): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(tokens)
    .where(and(eq(tokens.role, "admin"), isNull(tokens.revokedAt)));
  return row?.n ?? 0;
}
