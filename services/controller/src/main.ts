import { createDb } from "@labnet/db";
import { createLogger } from "@labnet/log";
import { createRedisConnection, HostQueues } from "@labnet/queue";
import { loadControllerConfig } from "./config";
import { startOutboxDispatcher } from "./dispatch-outbox";

/** The controller as its own process (the gateway also runs it in-process by default). */
async function main(): Promise<void> {
  const log = createLogger("controller");
  const config = loadControllerConfig();
  const { db, sql, close } = createDb(config.DATABASE_URL, { max: 4, applicationName: "labnet-controller" });
  const redis = createRedisConnection(config.REDIS_URL, "producer");
  const queues = new HostQueues(redis, config.LABNET_QUEUE_PREFIX);
  const dispatcher = startOutboxDispatcher({
    db,
    pg: sql,
    queues,
    log,
    redispatchAfterMs: config.LABNET_REDISPATCH_AFTER_MS,
  });
  log.info("controller ready");
  const stop = async () => {
    await dispatcher.stop();
    await queues.close();
    redis.disconnect();
    await close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
}

main().catch((error) => {
  process.stderr.write(
    `controller failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
