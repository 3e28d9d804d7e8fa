import { createHash, randomBytes } from "node:crypto";
import { and, asc, eq, gt, inArray, isNull, or, type SQL, sql } from "drizzle-orm";
import { newId } from "../ids";
import type { AccountQuotas, Role } from "../schema";
import { accounts, labInstances, tokens } from "../schema";
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

export interface NewToken {
  name: string;
  role: Role;
  secret: string;
  /** The account it speaks for; an admin or instructor token without one opens an account of its own. */
  accountId?: string;
  /** A student token's lab instance. */
  instanceId?: string;
  createdBy?: string;
  expiresAt?: Date;
}

/**
 * Stores a token (its hash). A secret given again (LABNET_ADMIN_TOKEN at every start) un-revokes
 * the token it already is instead of making a second one.
 */
export async function createToken(db: Db, input: NewToken): Promise<TokenRow> {
  let accountId = input.accountId;
  if (!accountId && input.role !== "student") {
    const existing = await db
      .select({ accountId: tokens.accountId })
      .from(tokens)
      .where(eq(tokens.tokenHash, hashToken(input.secret)));
    accountId =
      existing[0]?.accountId ?? (await createAccount(db, { name: input.name, role: input.role })).id;
  }
  const [row] = await db
    .insert(tokens)
    .values({
      id: newId("token"),
      name: input.name,
      role: input.role,
      tokenHash: hashToken(input.secret),
      accountId: accountId ?? null,
      instanceId: input.instanceId ?? null,
      createdBy: input.createdBy ?? null,
      expiresAt: input.expiresAt ?? null,
    })
    .onConflictDoUpdate({ target: tokens.tokenHash, set: { revokedAt: null } })
    .returning();
  if (!row) {
    throw new Error("creating a token returned no row");
  }
  return row;
}

function selectActiveToken(db: Db) {
  return db
    .select({ token: tokens, labId: labInstances.labId })
    .from(tokens)
    .leftJoin(labInstances, eq(labInstances.id, tokens.instanceId))
    .where(
      and(
        eq(tokens.tokenHash, sql.placeholder("hash")),
        isNull(tokens.revokedAt),
        or(isNull(tokens.expiresAt), gt(tokens.expiresAt, sql`now()`)),
      ),
    );
}

/** The token with this secret (and its instance's lab), unless revoked or expired. */
export async function findActiveToken(db: Db, secret: string): Promise<TokenWithLab | undefined> {
  const prepared = preparedOn(db, "findActiveToken", (pool) =>
    selectActiveToken(pool).prepare("find_active_token"),
  );
  const values = { hash: hashToken(secret) };
  const [row] = prepared ? await prepared.execute(values) : await selectActiveToken(db).execute(values);
  return row ? { ...row.token, labId: row.labId } : undefined;
}

export async function countAdminTokens(db: Db): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(tokens)
    .where(and(eq(tokens.role, "admin"), isNull(tokens.revokedAt)));
  return row?.n ?? 0;
}

export type AccountRow = typeof accounts.$inferSelect;

export async function createAccount(
  db: Db,
  input: { name: string; role: Role; quotas?: AccountQuotas },
): Promise<AccountRow> {
  const role = input.role === "admin" ? "admin" : "instructor";
  const [row] = await db
    .insert(accounts)
    .values({ id: newId("account"), name: input.name, role, quotas: input.quotas ?? {} })
    .returning();
  if (!row) {
    throw new Error("creating an account returned no row");
  }
  return row;
}

export async function findAccount(db: Db, id: string): Promise<AccountRow | undefined> {
  const [row] = await db.select().from(accounts).where(eq(accounts.id, id));
  return row;
}

/**
 * Changes an account; with `ifRevisions`, only while its revision is one of them (a
 * conditional update, so no change can slip in between). Undefined when nothing was changed:
 * no such account, or another revision.
 */
export async function updateAccount(
  db: Db,
  id: string,
  change: { name?: string; quotas?: AccountQuotas },
  ifRevisions?: readonly number[],
): Promise<AccountRow | undefined> {
  const [row] = await db
    .update(accounts)
    .set({
      ...(change.name ? { name: change.name } : {}),
      ...(change.quotas ? { quotas: change.quotas } : {}),
    })
    .where(
      and(
        eq(accounts.id, id),
        ifRevisions === undefined
          ? undefined
          : ifRevisions.length > 0
            ? inArray(accounts.revision, [...ifRevisions])
            : sql`false`,
      ),
    )
    .returning();
  return row;
}

/** A token with the lab of its instance (a student's). */
export type TokenWithLab = TokenRow & { labId: string | null };

function selectTokensWithLab(db: Db) {
  return db
    .select({ token: tokens, labId: labInstances.labId })
    .from(tokens)
    .leftJoin(labInstances, eq(labInstances.id, tokens.instanceId));
}

export async function listTokens(db: Db, where: SQL | undefined): Promise<TokenWithLab[]> {
  const rows = await selectTokensWithLab(db).where(where).orderBy(asc(tokens.createdAt), asc(tokens.id));
  return rows.map((r) => ({ ...r.token, labId: r.labId }));
}

export async function findTokenById(db: Db, id: string): Promise<TokenWithLab | undefined> {
  const [row] = await selectTokensWithLab(db).where(eq(tokens.id, id));
  return row ? { ...row.token, labId: row.labId } : undefined;
}

/** Channel a revocation is announced on, so every gateway forgets the token at once. */
export const TOKENS_CHANNEL = "labnet_tokens";

/**
 * Revokes a token (once: a second revocation keeps the first time). A trigger announces it on
 * TOKENS_CHANNEL, as it does a token removed with its lab instance (migration 0013).
 */
export async function revokeToken(db: Db, id: string): Promise<void> {
  await db
    .update(tokens)
    .set({ revokedAt: sql`coalesce(${tokens.revokedAt}, now())` })
    .where(eq(tokens.id, id));
}

/** Notes that a token was used, at most once a minute (what `lastUsedAt` shows). */
export async function touchToken(db: Db, id: string): Promise<void> {
  await db
    .update(tokens)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(tokens.id, id),
        or(isNull(tokens.lastUsedAt), sql`${tokens.lastUsedAt} < now() - interval '1 minute'`),
      ),
    );
}
