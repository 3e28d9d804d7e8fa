import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, randomUUID } from "node:crypto";
import {
  claimIdempotencyKey,
  type Database,
  getIdempotencyKey,
  type IdempotencyKeyRef,
  type IdempotencyKeyState,
  markIdempotencyKeyCommitted,
  operationsOfIdempotencyKey,
  releaseIdempotencyKey,
  renewIdempotencyLease,
  storeIdempotentAnswer,
  type TransactionWrites,
  type Tx,
  takeOverIdempotencyKey,
  untilDatabaseAvailable,
} from "@labnet/db";
import type { Context, MiddlewareHandler } from "hono";
import { ProblemError } from "../http/problem";
import { operationHref } from "../views/operation-view";
import type { AuthVariables } from "./auth";

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** How long a success's answer is retried while Postgres is unreachable. */
const STORE_RETRY_MS = 2_000;
/** Headers a replay must carry again. */
const REPLAYED_HEADERS = ["content-type", "location", "operation-location", "preference-applied"];

/** Keys are forgotten after a day unless configured otherwise (LABNET_IDEMPOTENCY_TTL_MS). */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** An attempt holds its key this long past its last renewal (LABNET_IDEMPOTENCY_LEASE_MS). */
export const DEFAULT_IDEMPOTENCY_LEASE_MS = 30_000;

export interface IdempotencyOptions {
  /** How long a key is remembered (default 24 h). */
  ttlMs?: number;
  /** How long a claim outlives its attempt's last sign of life (default 30 s). */
  leaseMs?: number;
  /** Answers a request inside the app (the GET that rebuilds a lost answer). */
  fetch: (request: Request) => Response | Promise<Response>;
  /** Told when an answer could not be stored or a lease not renewed (the database was away). */
  onStoreError?: (error: unknown) => void;
}

/** The attempt running in this request, as the before-commit hook finds it. */
interface Attempt extends IdempotencyKeyRef {
  leaseId: string;
  /** Until the answer is settled: work a request leaves running afterwards is not fenced. */
  active: boolean;
  committed: boolean;
}

const attempts = new AsyncLocalStorage<Attempt>();

/**
 * The before-commit hook of the gateway's database (see `withBeforeCommit`): a transaction run
 * by a request with an Idempotency-Key records, in itself, that the request committed and the
 * operations it wrote, and only while the request still holds the key. A request whose claim
 * a retry took over (its lease ran out) is rolled back, so a request never commits twice.
 */
export async function fenceIdempotentCommit(tx: Tx, written: Readonly<TransactionWrites>): Promise<void> {
  const attempt = attempts.getStore();
  if (!attempt?.active) {
    return;
  }
  if (!(await markIdempotencyKeyCommitted(tx, { ...attempt, operationIds: written.operationIds }))) {
    throw new ProblemError({
      code: "CONFLICT",
      detail: "a retry with this Idempotency-Key took the request over; this attempt changed nothing",
    });
  }
  attempt.committed = true;
}

/**
 * `Idempotency-Key` on POST, per token and operation (method and path): the first answer is
 * stored and replayed for retries with the same key and body; the same key with another body
 * is refused (422). The key is claimed before the request runs, as a lease renewed while it
 * runs: a retry meanwhile answers 409 with Retry-After, a retry after a crash takes it over.
 * The transaction that carries the request out marks the key committed (see
 * {@link fenceIdempotentCommit}), so a retry of a request that committed but never answered
 * (crash, database lost mid-way) gets the committed outcome rather than running it again.
 */
export function idempotency(
  db: Database,
  options: IdempotencyOptions,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  const ttlMs = options.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const leaseMs = options.leaseMs ?? DEFAULT_IDEMPOTENCY_LEASE_MS;
  const reportStoreError = options.onStoreError ?? (() => {});

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
    const ref: IdempotencyKeyRef = { tokenId: c.get("token").id, operation: `POST ${c.req.path}`, key };
    const body = await c.req.raw.clone().text();
    const requestHash = createHash("sha256").update(`${c.req.method} ${c.req.path}\n${body}`).digest("hex");
    const leaseId = randomUUID();
    const claim = { ...ref, leaseId, leaseMs };

    let claimed = await claimIdempotencyKey(db, { ...claim, requestHash, ttlMs });
    // A retry: the answer, a wait, a takeover, or the committed outcome. Few rounds: each
    // only repeats when another retry changed the row in between.
    for (let round = 0; !claimed; round++) {
      const previous = await getIdempotencyKey(db, ref);
      if (!previous) {
        claimed = await claimIdempotencyKey(db, { ...claim, requestHash, ttlMs });
        continue;
      }
      if (previous.requestHash !== requestHash) {
        throw new ProblemError({
          status: 422,
          code: "IDEMPOTENCY_KEY_REUSED",
          detail: "this Idempotency-Key was used for a different request",
          errors: [{ location: "header.Idempotency-Key", message: "used for a different request" }],
        });
      }
      if (previous.status !== null) {
        return replay(previous);
      }
      if (previous.leased || round >= 3) {
        c.header("Retry-After", String(Math.max(1, Math.ceil(previous.leaseLeftMs / 1000))));
        throw new ProblemError({
          code: "CONFLICT",
          detail: "a request with this Idempotency-Key is still being processed; retry later",
        });
      }
      if (previous.committedAt !== null) {
        return committedAnswer(c, db, options.fetch, ref, previous);
      }
      claimed = await takeOverIdempotencyKey(db, claim);
    }

    const attempt: Attempt = { ...claim, active: true, committed: false };
    const renewal = setInterval(() => {
      renewIdempotencyLease(db, claim).catch(reportStoreError);
    }, leaseMs / 3);
    renewal.unref();
    try {
      await attempts.run(attempt, () => next());
    } catch (error) {
      await settle(undefined);
      throw error;
    }
    await settle(c.res);

    /** Stores a final answer (a status below 500) or gives the claim back. */
    async function settle(res: Response | undefined): Promise<void> {
      attempt.active = false;
      clearInterval(renewal);
      try {
        if (res && res.status < 500) {
          const answer = await answerOf(res);
          // Retried while Postgres is unreachable, for a moment (a restart just after the
          // change committed): a success whose answer is not stored leaves the key open, and
          // the client that has its answer does not come back for it.
          await untilDatabaseAvailable(() => storeIdempotentAnswer(db, { ...claim, ...answer }), {
            initialDelayMs: 100,
            maxDelayMs: 500,
            signal: AbortSignal.timeout(STORE_RETRY_MS),
          });
        } else {
          // A server fault may be retried for real, unless the change committed: then the
          // key stays, and a retry gets the committed outcome. Not retried: a 503 answers at once.
          await releaseIdempotencyKey(db, claim);
        }
      } catch (error) {
        // The database went away after the request was answered: the client has its answer;
        // a retry finds the key committed (its outcome is rebuilt) or its lease run out.
        reportStoreError(error);
      }
    }
  };
}

/** The stored first answer, marked as a replay. */
function replay(previous: Pick<IdempotencyKeyState, "status" | "headers" | "body">): Response {
  return new Response(previous.body, {
    status: previous.status ?? 500,
    headers: { ...previous.headers, "idempotent-replayed": "true" },
  });
}

async function answerOf(
  res: Response,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const headers = Object.fromEntries(
    REPLAYED_HEADERS.flatMap((h) => {
      const value = res.headers.get(h);
      return value === null ? [] : [[h, value]];
    }),
  );
  return { status: res.status, headers, body: await res.clone().text() };
}

/** Collections whose POST creates the target of its first operation. */
const CREATED_BY_POST: Readonly<Record<string, string>> = { node: "/v1/nodes", network: "/v1/networks" };

/**
 * The answer of a request that committed but whose attempt never stored one. A create of a
 * node or network answers as the create would have: 202 (201 once its operation succeeded)
 * with the resource as it is now and its Location. Anything else answers 409 saying the
 * request was carried out, with the Operation-Location of what it started. Stored, so every
 * later retry gets the same.
 */
async function committedAnswer(
  c: Context,
  db: Database,
  fetch: IdempotencyOptions["fetch"],
  ref: IdempotencyKeyRef,
  previous: IdempotencyKeyState,
): Promise<Response> {
  const [first] = await operationsOfIdempotencyKey(db, previous.operationIds);
  const headers: Record<string, string> = first ? { "operation-location": operationHref(first.id) } : {};
  let answer: { status: number; headers: Record<string, string>; body: string } | undefined;
  if (first && CREATED_BY_POST[first.targetType] === c.req.path) {
    const location = `${c.req.path}/${first.targetId}`;
    const current = await fetch(
      new Request(new URL(location, c.req.url), {
        headers: { authorization: c.req.header("authorization") ?? "" },
      }),
    );
    if (current.status === 200) {
      answer = {
        status: first.state === "succeeded" ? 201 : 202,
        headers: {
          ...headers,
          location,
          "content-type": current.headers.get("content-type") ?? "application/json",
        },
        body: await current.text(),
      };
    }
  }
  if (!answer) {
    const problem = new ProblemError({
      code: "CONFLICT",
      detail: first
        ? "the request with this Idempotency-Key was carried out, but its answer was lost; follow its operation"
        : "the request with this Idempotency-Key was carried out, but its answer was lost",
    });
    for (const [name, value] of Object.entries(headers)) {
      c.header(name, value);
    }
    throw problem;
  }
  await storeIdempotentAnswer(db, { ...ref, ...answer });
  return replay(answer);
}
