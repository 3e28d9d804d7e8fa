import { randomBytes } from "node:crypto";
import { createLabnetClient, type LabnetClient } from "@labnet/api";
import { createDb, createToken, type Database } from "@labnet/db";
import {
  CONTRACT_MISMATCH,
  createGatewayRuntime,
  createResponseValidator,
  type EventStreamLimits,
  type GatewayApp,
  type GatewayRuntimeOptions,
} from "@labnet/gateway";
import { DEFAULT_ADDRESS_POOLS } from "@labnet/ipam";
import { createLogger } from "@labnet/log";
import { inject } from "vitest";
import { createTestDatabase } from "./database";
import { startExecutor } from "./executor-process";
import type { TestProcess } from "./processes";

/** A gateway + dispatcher running in the test process, over a database of the test's own. */
export interface TestLabnet {
  app: GatewayApp;
  client: LabnetClient;
  /** Same as `client`, but every call carries `Prefer: wait=60`. */
  waitingClient: LabnetClient;
  db: Database;
  databaseUrl: string;
  /** Queue prefix of this stack, so tests sharing the run's Redis do not see each other's jobs. */
  queuePrefix: string;
  adminToken: string;
  /** Raw request through the app (for what the typed client cannot send: unknown fields, bad JSON). */
  request(
    method: string,
    path: string,
    init?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  /** Starts an executor in a sim host, wired to this stack. */
  startExecutor(hostNetns: string, env?: Record<string, string>): TestProcess;
  stop(): Promise<void>;
}

export interface StartTestLabnetOptions {
  /** Open operations dispatched longer ago than this are dispatched again (default 30 s). */
  redispatchAfterMs?: number;
  /** Limits of `GET /v1/events` streams (default the gateway's). */
  eventStreamLimits?: EventStreamLimits;
  /** Idempotency-Key lifetimes (default the gateway's: kept 24 h, leased 30 s). */
  idempotencyTtlMs?: number;
  idempotencyLeaseMs?: number;
  /** A database to use instead of a fresh clone of the template (a private Postgres's). */
  databaseUrl?: string;
  /** Rate limits, quotas and CORS origins (default the gateway's). */
  access?: GatewayRuntimeOptions["access"];
}

export async function startTestLabnet(options: StartTestLabnetOptions = {}): Promise<TestLabnet> {
  const database = options.databaseUrl
    ? { url: options.databaseUrl, drop: async () => {} }
    : await createTestDatabase("e2e");
  const queuePrefix = `lnq${randomBytes(4).toString("hex")}`;
  const { db, sql, close } = createDb(database.url, { max: 20 });
  const adminToken = `lnt_test_${randomBytes(16).toString("hex")}`;
  await createToken(db, { name: "test admin", role: "admin", secret: adminToken });
  const runtime = createGatewayRuntime({
    db,
    pg: sql,
    redisUrl: inject("redisUrl"),
    queuePrefix,
    addressPools: DEFAULT_ADDRESS_POOLS,
    defaultMtu: 1500,
    log: createLogger("test-gateway"),
    runController: true,
    redispatchAfterMs: options.redispatchAfterMs ?? 30_000,
    pollMs: 500,
    ...(options.eventStreamLimits ? { eventStreamLimits: options.eventStreamLimits } : {}),
    ...(options.idempotencyTtlMs ? { idempotencyTtlMs: options.idempotencyTtlMs } : {}),
    ...(options.idempotencyLeaseMs ? { idempotencyLeaseMs: options.idempotencyLeaseMs } : {}),
    ...(options.access ? { access: options.access } : {}),
  });
  const { app } = runtime;
  const mismatches = validateResponses(app);
  const fetch = (request: Request) => app.fetch(request);
  const executors: TestProcess[] = [];
  return {
    app,
    db,
    databaseUrl: database.url,
    queuePrefix,
    adminToken,
    client: createLabnetClient({ baseUrl: "http://labnet.test", token: adminToken, fetch }),
    waitingClient: createLabnetClient({
      baseUrl: "http://labnet.test",
      token: adminToken,
      fetch,
      headers: { prefer: "wait=60" },
    }),
    request: (method, path, init = {}) =>
      Promise.resolve(
        app.fetch(
          new Request(`http://labnet.test${path}`, {
            method,
            headers: {
              authorization: `Bearer ${adminToken}`,
              ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
              ...init.headers,
            },
            ...(init.body !== undefined
              ? { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }
              : {}),
          }),
        ),
      ),
    startExecutor: (hostNetns, env = {}) => {
      const executor = startExecutor({
        hostNetns,
        env: {
          DATABASE_URL: database.url,
          LABNET_QUEUE_PREFIX: queuePrefix,
          LABNET_HEARTBEAT_MS: "1000",
          ...env,
        },
      });
      executors.push(executor);
      return executor;
    },
    stop: async () => {
      for (const executor of executors) {
        await executor.stop();
      }
      await runtime.stop();
      await close();
      await database.drop();
      // Also those a caller caught: a file whose answers broke the contract fails.
      if (mismatches.length > 0) {
        throw new Error(`answers that do not match openapi/labnet.yaml:\n${mismatches.join("\n")}`);
      }
    },
  };
}

const responseValidator = createResponseValidator();

/**
 * Checks every answer of `app.fetch` (however a test calls it: the typed clients, `request`,
 * `app.fetch` itself, a CLI served over it) against the OpenAPI document, and throws on the
 * first that does not conform, so the contract cannot drift from the code unnoticed. Returns
 * the list of mismatches seen. A test that builds a gateway runtime of its own wraps its app too.
 */
export function validateResponses(app: GatewayApp): string[] {
  const seen: string[] = [];
  const inner = app.fetch;
  app.fetch = async (request, ...rest) => {
    const response = await inner(request, ...rest);
    const mismatches = await responseValidator(request, response);
    if (mismatches.length > 0) {
      seen.push(...mismatches);
      throw new Error(`the answer does not match openapi/labnet.yaml: ${mismatches.join("; ")}`);
    }
    return response;
  };
  return seen;
}

/**
 * The environment that has a gateway run as its own process (services/gateway/src/main.ts)
 * check every answer as {@link validateResponses} does: one that does not conform is logged and
 * answered 500. Spread it into the process's env; {@link contractMismatchesIn} its output after.
 */
export const VALIDATE_RESPONSES_ENV = { LABNET_VALIDATE_RESPONSES: "true" } as const;

/** The log lines of a gateway process's output that report an answer not matching the contract. */
export function contractMismatchesIn(output: string): string[] {
  return output.split("\n").filter((line) => line.includes(CONTRACT_MISMATCH));
}
