import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { countAdminTokens, createDb, createToken, generateTokenSecret, migrate } from "@labnet/db";
import { createLogger } from "@labnet/log";

import { accessSettingsOf, loadGatewayConfig } from "./config";
import { serveDockerUpgrades } from "./docker/upgrade";
import { createGatewayRuntime } from "./runtime";

/** The gateway: migrate, make sure an admin can log in, serve the API, dispatch the outbox. */
async function main(): Promise<void> {
  const log = createLogger("gateway");
  const config = loadGatewayConfig();
  await migrate(config.DATABASE_URL);
  const { db, sql, close } = createDb(config.DATABASE_URL, { applicationName: "labnet-gateway" });
  await bootstrapAdminToken(db, config.LABNET_ADMIN_TOKEN);

  const runtime = createGatewayRuntime({
    db,
    pg: sql,
    redisUrl: config.REDIS_URL,
    queuePrefix: config.LABNET_QUEUE_PREFIX,
    addressPools: config.LABNET_ADDRESS_POOLS,
    lanPools: config.LABNET_LAN_POOLS,
    defaultMtu: config.LABNET_DEFAULT_MTU,
    log,
    runController: config.LABNET_RUN_CONTROLLER === "true",
    redispatchAfterMs: config.LABNET_REDISPATCH_AFTER_MS,
    access: accessSettingsOf(config),
    idempotencyTtlMs: config.LABNET_IDEMPOTENCY_TTL_MS,
    idempotencyLeaseMs: config.LABNET_IDEMPOTENCY_LEASE_MS,
  });

  const server = serve(
    { fetch: runtime.app.fetch, hostname: config.LABNET_LISTEN_HOST, port: config.LABNET_PORT },
    (info) => {
      const url = `http://${config.LABNET_LISTEN_HOST}:${info.port}`;
      log.info("gateway listening", { url });
      process.stdout.write(`Labnet API: ${url}/v1\nAPI reference: ${url}/docs\n`);
    },
  );

  // `docker exec` and `docker attach` hijack their connection (HTTP Upgrade).
  // serve() makes an HTTP/1.1 server unless told otherwise.
  serveDockerUpgrades(server as Server, runtime.app.fetch);

  const stop = async (signal: string) => {
    log.info("stopping", { signal });
    server.close();
    await runtime.stop();
    await close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
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
