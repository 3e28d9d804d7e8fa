import type { components } from "@labnet/api";
import { DomainError, invalidField, notFound } from "@labnet/commands";
import {
  accountUsage,
  createAccount,
  createToken,
  type Database,
  findAccount,
  findLab,
  findTokenById,
  findVisible,
  generateTokenSecret,
  listAudit,
  listTokens,
  revokeToken,
  schema,
  type TokenWithLab,
  updateAccount,
  visibleLab,
  visibleToken,
} from "@labnet/db";
import { sql } from "drizzle-orm";
import type { Access } from "../access/gate";
import { studentRulesOf } from "../access/lab-students";
import { DEFAULT_QUOTAS } from "../access/quotas";
import type { GatewayApp } from "../app";
import { etagOf, ifMatchRevisions } from "../http/etag";
import { registerOperation } from "../http/openapi-router";
import { paginate } from "../http/paginate";
import { ProblemError } from "../http/problem";
import { accountView, auditEntryView, createdTokenView, tokenView } from "../views/access-view";
import type { AppDeps } from "./deps";

type CreateTokenRequest = components["schemas"]["CreateTokenRequest"];

export function registerAccessRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db } = deps;
  const quotas = deps.quotas ?? DEFAULT_QUOTAS;

  registerOperation(app, "whoami", async (c) => {
    const access = c.get("access");
    const { token, scope } = access;
    const account =
      token.accountId && token.role !== "student" ? await findAccount(db, token.accountId) : undefined;
    return c.json(
      {
        token: tokenView(token),
        account: account ? accountView(account, await accountUsage(db, account.id), quotas) : null,
        scope: {
          all: scope.kind === "all",
          lab: scope.kind === "instance" ? scope.labId : null,
          instance: scope.kind === "instance" ? scope.instanceId : null,
          machines: scope.kind === "instance" ? ((await access.hostIds()) ?? []) : [],
          ...(scope.kind === "instance" ? { may: (await studentRulesOf(db, scope.labId)).may } : {}),
        },
      },
      200,
    );
  });

  registerOperation(app, "createToken", async (c, input) => {
    const access = c.get("access");
    const row = await issueToken(db, access, input.body);
    return c.json(createdTokenView(row.token, row.secret), 201);
  });

  registerOperation(app, "listTokens", async (c, input) => {
    const rows = await listTokens(db, visibleToken(c.get("access").scope));
    return c.json(
      paginate(rows.map(tokenView), input.query, (t) => [t.createdAt, t.id]),
      200,
    );
  });

  registerOperation(app, "getToken", async (c, input) => {
    const row = await findTokenById(db, input.params.tokenId);
    if (!row) {
      throw notFound("token", input.params.tokenId, "path.tokenId");
    }
    return c.json(tokenView(row), 200);
  });

  registerOperation(app, "revokeToken", async (c, input) => {
    const row = await findTokenById(db, input.params.tokenId);
    if (!row) {
      throw notFound("token", input.params.tokenId, "path.tokenId");
    }
    await db.transaction((tx) => revokeToken(tx, row.id));
    c.get("forgetToken")(row.id);
    return c.body(null, 204);
  });

  registerOperation(app, "getAccount", async (c, input) => {
    const account = await findAccount(db, input.params.accountId);
    if (!account) {
      throw notFound("account", input.params.accountId, "path.accountId");
    }
    c.header("ETag", etagOf(account.revision));
    return c.json(accountView(account, await accountUsage(db, account.id), quotas), 200);
  });

  registerOperation(app, "updateAccount", async (c, input) => {
    const ifRevisions = ifMatchRevisions(input.headers["If-Match"]);
    const account = await db.transaction((tx) =>
      updateAccount(tx, input.params.accountId, input.body, ifRevisions),
    );
    if (!account) {
      const current = await findAccount(db, input.params.accountId);
      if (current && ifRevisions) {
        throw new ProblemError({
          code: "PRECONDITION_FAILED",
          detail: `account ${current.name} changed since that read: it is at revision ${current.revision} (ETag "${current.revision}")`,
          errors: [
            { location: "header.If-Match", message: `does not match the current ETag "${current.revision}"` },
          ],
        });
      }
      throw notFound("account", input.params.accountId, "path.accountId");
    }
    c.header("ETag", etagOf(account.revision));
    return c.json(accountView(account, await accountUsage(db, account.id), quotas), 200);
  });

  registerOperation(app, "listAuditEntries", async (c, input) => {
    const { scope } = c.get("access");
    // This gateway's answers still waiting for their batched write are read too.
    await deps.auditSettler?.flush();
    const limit = input.query.limit ?? 100;
    const rows = await listAudit(db, {
      limit: limit + 1,
      ...(input.query.after === undefined ? {} : { after: input.query.after }),
      ...(input.query.lab ? { labId: input.query.lab } : {}),
      ...(input.query.account ? { accountId: input.query.account } : {}),
      ...(scope.kind === "account"
        ? {
            ofAccount: {
              accountId: scope.accountId,
              labIds: sql`select ${schema.labs.id} from ${schema.labs} where ${visibleLab(scope)}`,
            },
          }
        : {}),
    });
    const page = rows.slice(0, limit);
    return c.json(
      { items: page.map(auditEntryView), next: rows.length > limit ? (page.at(-1)?.id ?? null) : null },
      200,
    );
  });
}

/**
 * Creates a token as `access` may: an admin any; an instructor, more of their own account's
 * and their students'; the secret is returned to be shown once.
 */
export async function issueToken(
  db: Database,
  access: Access,
  body: CreateTokenRequest,
): Promise<{ token: TokenWithLab; secret: string }> {
  const { scope, token: caller } = access;
  const expiresAt = body.expiresInSeconds ? new Date(Date.now() + body.expiresInSeconds * 1000) : undefined;
  if (body.role === "student") {
    if (!body.instance) {
      throw invalidField("body.instance", "a student token needs its lab instance");
    }
    if (body.account || body.quotas) {
      throw invalidField(
        body.account ? "body.account" : "body.quotas",
        "a student token belongs to its lab's account",
      );
    }
    const [instance] = await findVisible(db, scope, "instance", body.instance);
    if (!instance?.labId) {
      throw notFound("lab instance", body.instance, "body.instance");
    }
    const lab = await findLab(db, instance.labId);
    if (!lab?.ownerId) {
      throw invalidField("body.instance", "the instance's lab has no owning account to give the token to");
    }
    return issue(db, {
      name: body.name,
      role: "student",
      accountId: lab.ownerId,
      instanceId: instance.id,
      createdBy: caller.id,
      expiresAt: expiresAt ?? lab.expiresAt ?? undefined,
    });
  }
  if (body.instance) {
    throw invalidField("body.instance", "only a student token has a lab instance");
  }
  if (scope.kind !== "all") {
    // An instructor makes more tokens of their own account, never an admin's or another's.
    if (body.role !== "instructor") {
      throw new DomainError(
        "FORBIDDEN",
        "an instructor may create instructor tokens (their own) and student tokens",
      );
    }
    if (body.account && body.account !== caller.accountId) {
      throw notFound("account", body.account, "body.account");
    }
    if (body.quotas) {
      throw new DomainError("FORBIDDEN", "only an admin sets an account's quotas");
    }
    return issue(db, {
      name: body.name,
      role: "instructor",
      accountId: caller.accountId ?? "",
      createdBy: caller.id,
      expiresAt,
    });
  }
  let accountId = body.account;
  if (accountId) {
    const account = await findAccount(db, accountId);
    if (!account) {
      throw notFound("account", accountId, "body.account");
    }
    if (account.role !== body.role) {
      throw invalidField("body.account", `account ${accountId} is an ${account.role}'s`);
    }
    if (body.quotas) {
      await updateAccount(db, accountId, { quotas: body.quotas });
    }
  } else {
    accountId = (await createAccount(db, { name: body.name, role: body.role, quotas: body.quotas ?? {} })).id;
  }
  return issue(db, { name: body.name, role: body.role, accountId, createdBy: caller.id, expiresAt });
}

async function issue(
  db: Database,
  input: Omit<Parameters<typeof createToken>[1], "secret">,
): Promise<{ token: TokenWithLab; secret: string }> {
  const secret = generateTokenSecret();
  const row = await db.transaction((tx) => createToken(tx, { ...input, secret }));
  return { token: (await findTokenById(db, row.id)) ?? { ...row, labId: null }, secret };
}
