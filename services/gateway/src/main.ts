import cluster from "node:cluster";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import {
  countAdminTokens,
  createDb,
  createToken,
  generateTokenSecret,
  migrate,
  untilDatabaseAvailable,
} from "@labnet/db";
import { createLogger } from "@labnet/log";
import type { GatewayApp } from "./app";
import { reportServing, stopWithPrimary, superviseWorkers, workerIndex } from "./cluster";
import { accessSettingsOf, loadGatewayConfig } from "./config";
import { serveDockerUpgrades } from "./docker/upgrade";
import { CONTRACT_MISMATCH, validatingFetch } from "./http/validate-response";
import { createGatewayRuntime, type GatewayRuntime } from "./runtime";
import { createStartingApp } from "./starting-app";

/**
 * The gateway: listen at once, migrate and make sure an admin can log in (retried with backoff
 * while Postgres is unreachable, answering 503 meanwhile: a gateway started before its database
 * comes up with it), then serve the API and dispatch the outbox.
 */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const workers = config.LABNET_GATEWAY_WORKERS;
  if (workers > 1 && cluster.isPrimary) {
    superviseWorkers(workers, createLogger("gateway"));
    return;
  }
  const worker = workerIndex();
  const log = worker === undefined ? createLogger("gateway") : createLogger("gateway").child({ worker });
  // The first (or only) process announces and bootstraps; the others just serve.
  const first = (worker ?? 0) === 0;
  const { db, sql, close } = createDb(config.DATABASE_URL, { applicationName: "labnet-gateway" });

  let step = "connecting to Postgres";
  const starting = createStartingApp(() => step);
  let runtime: GatewayRuntime | undefined;
  const served: GatewayApp["fetch"] = (request, ...rest) =>
    runtime ? runtime.app.fetch(request, ...rest) : starting.fetch(request, ...rest);
  const fetch =
    config.LABNET_VALIDATE_RESPONSES === "true"
      ? validatingFetch(served, (request, mismatches) =>
          log.error(CONTRACT_MISMATCH, { method: request.method, url: request.url, mismatches }),
        )
      : served;
  if (config.LABNET_VALIDATE_RESPONSES === "true") {
    log.warn("validating every answer against the contract (LABNET_VALIDATE_RESPONSES, tests only)");
  }
  const server = serve({ fetch, hostname: config.LABNET_LISTEN_HOST, port: config.LABNET_PORT }, (info) => {
    const url = `http://${config.LABNET_LISTEN_HOST}:${info.port}`;
    log.info("gateway listening", { url });
    if (first) {
      process.stdout.write(`Labnet API: ${url}/v1\nAPI reference: ${url}/docs\n`);
    }
  });
  // `docker exec` and `docker attach` hijack their connection (HTTP Upgrade).
  // serve() makes an HTTP/1.1 server unless told otherwise.
  serveDockerUpgrades(server as Server, fetch);

  const startup = new AbortController();
  let stopping = false;
  const stop = async (signal: string) => {
    // Once: a worker hears Ctrl-C from the terminal and again from its primary.
    if (stopping) {
      return;
    }
    stopping = true;
    log.info("stopping", { signal });
    startup.abort();
    server.close();
    await runtime?.stop();
    await close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  if (worker !== undefined) {
    stopWithPrimary((why) => void stop(why));
  }

  const retrying = {
    signal: startup.signal,
    onRetry: (error: unknown, delayMs: number, attempt: number) =>
      log.warn("Postgres unavailable, retrying", { step, attempt, delayMs, error: String(error) }),
  };
  step = "applying migrations";
  await untilDatabaseAvailable(() => migrate(config.DATABASE_URL), retrying);
  if (first) {
    step = "checking the admin token";
    await untilDatabaseAvailable(() => bootstrapAdminToken(db, config.LABNET_ADMIN_TOKEN), retrying);
  }

  runtime = createGatewayRuntime({
    db,
    pg: sql,
    redisUrl: config.REDIS_URL,
    queuePrefix: config.LABNET_QUEUE_PREFIX,
    addressPools: config.LABNET_ADDRESS_POOLS,
    lanPools: config.LABNET_LAN_POOLS,
    defaultMtu: config.LABNET_DEFAULT_MTU,
    log,
    // The outbox, sweeps and pruning: one worker's job (the others would only contend for it).
    runController: config.LABNET_RUN_CONTROLLER === "true" && first,
    ...(worker === undefined ? {} : { worker: { index: worker, count: workers } }),
    redispatchAfterMs: config.LABNET_REDISPATCH_AFTER_MS,
    access: accessSettingsOf(config),
    idempotencyTtlMs: config.LABNET_IDEMPOTENCY_TTL_MS,
    idempotencyLeaseMs: config.LABNET_IDEMPOTENCY_LEASE_MS,
  });
  log.info("gateway serving");
  if (worker === undefined) {
    process.stdout.write("Labnet API serving\n");
  } else {
    reportServing();
  }
}

/**
 * LABNET_ADMIN_TOKEN is accepted as given (stored hashed). Without it, the first start
 * creates an admin token and prints it once: only its hash is kept.
 */
async function bootstrapAdminToken(db: Parameters<typeof createToken>[0], fromEnv: string | undefined) {
  if (fromEnv) {
    await createToken(db, { name: "admin (LABNET_ADMIN_TOKEN)", role: "admin", secret: fromEnv });
    process.stdout.write("Authenticate with: Authorization: Bearer $LABNET_ADMIN_TOKEN\n");
    return;
  }
  if ((await countAdminTokens(db)) > 0) {
    process.stdout.write(
      "Authenticate with the admin token printed at first start (or set LABNET_ADMIN_TOKEN).\n",
    );
    return;
  }
  const secret = generateTokenSecret();
  await createToken(db, { name: "admin (first start)", role: "admin", secret });
  process.stdout.write(
    `Admin token (shown once; only its hash is stored):\n  ${secret}\nAuthenticate with: Authorization: Bearer ${secret}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(
    `gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
