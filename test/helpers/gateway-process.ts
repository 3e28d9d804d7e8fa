import { randomBytes } from "node:crypto";
import path from "node:path";
import { REPO_ROOT } from "@labnet/devstack";
import { inject } from "vitest";
import { contractMismatchesIn, VALIDATE_RESPONSES_ENV } from "./labnet";
import { startTestProcess, type TestProcess } from "./processes";

const GATEWAY_MAIN = path.join(REPO_ROOT, "services", "gateway", "src", "main.ts");

/** An answer of the gateway process, its body parsed (status 0: nothing answered). */
export interface GatewayAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: answers of every operation, read loosely by tests
  body: any;
}

export interface GatewayProcess {
  process: TestProcess;
  /** `http://127.0.0.1:<port>` (routes start with /v1). */
  base: string;
  token: string;
  queuePrefix: string;
  /** Answers that did not match the contract so far (it validates them, unless told not to). */
  contractMismatches(): string[];
  /** One request with the admin token; never throws (status 0 when nothing answered). */
  call(
    method: string,
    route: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<GatewayAnswer>;
}

/**
 * Runs the gateway entrypoint (services/gateway/src/main.ts, with its dispatcher) as a process of
 * its own on a free port, over `databaseUrl` and the run's Redis, with an admin token and a queue
 * prefix of its own: for tests of the process itself (restarts, outages, its memory). It checks
 * its answers against the contract (LABNET_VALIDATE_RESPONSES; `env` may turn that off).
 * Resolves once it listens (it may still be waiting for Postgres: it answers 503 meanwhile).
 */
export async function startGatewayProcess(options: {
  databaseUrl: string;
  env?: Record<string, string>;
  name?: string;
}): Promise<GatewayProcess> {
  const token = `lnt_test_${randomBytes(16).toString("hex")}`;
  const queuePrefix = `lnq${randomBytes(4).toString("hex")}`;
  const child = startTestProcess(
    options.name ?? "gateway",
    [process.execPath, "--import", "tsx", GATEWAY_MAIN],
    {
      env: {
        ...process.env,
        DATABASE_URL: options.databaseUrl,
        REDIS_URL: inject("redisUrl"),
        LABNET_PORT: "0",
        LABNET_ADMIN_TOKEN: token,
        LABNET_QUEUE_PREFIX: queuePrefix,
        ...VALIDATE_RESPONSES_ENV,
        ...options.env,
      },
    },
  );
  const line = await child.waitForOutput(/^Labnet API: (http:\/\/\S+)\/v1$/);
  const base = line.replace(/^Labnet API: /, "").replace(/\/v1$/, "");
  return {
    process: child,
    base,
    token,
    queuePrefix,
    contractMismatches: () => contractMismatchesIn(child.output()),
    async call(method, route, body, headers = {}) {
      try {
        const res = await fetch(`${base}${route}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
            ...headers,
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        return { status: res.status, headers: res.headers, body: parseBody(text) };
      } catch {
        return { status: 0, headers: new Headers(), body: undefined };
      }
    },
  };
}

function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}
