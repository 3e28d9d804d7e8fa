import type { CommandContext } from "@labnet/commands";
import {
  type OutboxDispatcher,
  startEventPruner,
  startIdempotencyKeyPruner,
  startLabSweeper,
  startOutboxDispatcher,
} from "@labnet/controller";
import { type Database, type Sql, withBeforeCommit } from "@labnet/db";
import type { AddressPool } from "@labnet/ipam";
import type { Logger } from "@labnet/log";
import { createRedisConnection, HostExecutor, HostInspector, HostProber, HostQueues } from "@labnet/queue";
import { createAuditSettler } from "./access/audit";
import { createApp, type GatewayApp } from "./app";
import { createGatewayMetrics } from "./metrics/gateway-metrics";
import { fenceIdempotentCommit } from "./middleware/idempotency";
import type { AppDeps } from "./routes/deps";
import { startEventHub } from "./services/event-hub";
import type { EventStreamLimits } from "./services/event-stream";
import { createOperationWaiter } from "./services/operation-waiter";

export interface GatewayRuntimeOptions {
  db: Database;
  pg: Sql;
  redisUrl: string;
  queuePrefix: string;
  addressPools: readonly AddressPool[];
  /** Where LANs made for machines get their subnet (default DEFAULT_LAN_POOLS). */
  lanPools?: readonly AddressPool[];
  defaultMtu: number;
  log: Logger;
  /** Run the outbox dispatcher in this process. */
  runController: boolean;
  /** This process is gateway worker `index` of `count` (cluster.ts); default: the only one. */
  worker?: { index: number; count: number };
  redispatchAfterMs: number;
  /** How often expired and emptied labs are swept (default LAB_SWEEP_MS). */
  labSweepMs?: number;
  /** Dispatcher's safety-net poll. */
  pollMs?: number;
  /** Limits of each `GET /v1/events` stream (tests make them small). */
  eventStreamLimits?: EventStreamLimits;
  /** Access settings (config.ts accessSettingsOf); the defaults when left out. */
  access?: Pick<AppDeps, "corsOrigins" | "rateLimits" | "quotas">;
  /** How long Idempotency-Keys are remembered (default 24 h). */
  idempotencyTtlMs?: number;
  /** How long a claimed key outlives its request's last renewal (default 30 s). */
  idempotencyLeaseMs?: number;
}

/** Lab TTLs are checked this often. */
const LAB_SWEEP_MS = 5_000;
/** Old events and expired Idempotency-Keys are pruned this often. */
const EVENT_PRUNE_MS = 10 * 60_000;

export interface GatewayRuntime {
  app: GatewayApp;
  commands: CommandContext;
  dispatcher: OutboxDispatcher | undefined;
  /** Stops the dispatcher, the waiter and the queues (not the database: the caller owns it). */
  stop(): Promise<void>;
}

/** Wires the app to its clients: Redis, host queues, dispatcher, operation waiter, commands. */
export function createGatewayRuntime(options: GatewayRuntimeOptions): GatewayRuntime {
  const { db: pool, pg, log } = options;
  // What requests write through: a transaction run for a request with an Idempotency-Key
  // marks the key committed in itself. Background loops use the pool as it is.
  const db = withBeforeCommit(pool, fenceIdempotentCommit);
  const redis = createRedisConnection(options.redisUrl, "producer");
  const queues = new HostQueues(redis, options.queuePrefix);
  const dispatcher = options.runController
    ? startOutboxDispatcher({
        db: pool,
        pg,
        queues,
        log,
        redispatchAfterMs: options.redispatchAfterMs,
        ...(options.pollMs ? { pollMs: options.pollMs } : {}),
      })
    : undefined;
  const waiter = createOperationWaiter(pool, pg);
  const inspector = new HostInspector(queues, redis, options.queuePrefix);
  const prober = new HostProber(queues, redis, options.queuePrefix);
  const executor = new HostExecutor(queues, redis, options.queuePrefix);
  const commands: CommandContext = {
    db,
    addressPools: options.addressPools,
    ...(options.lanPools ? { lanPools: options.lanPools } : {}),
    defaultMtu: options.defaultMtu,
    ...(dispatcher ? { onOperationsWritten: dispatcher.kick } : {}),
  };
  const events = startEventHub({ db: pool, pg, log });
  const auditSettler = createAuditSettler(pool, log);
  const app = createApp(
    {
      db,
      pg,
      redis,
      waiter,
      inspector,
      prober,
      executor,
      log,
      commands,
      events,
      auditSettler,
      metrics: createGatewayMetrics({
        pg,
        redis,
        queues,
        queuePrefix: options.queuePrefix,
        ...(options.worker ? { worker: options.worker } : {}),
      }),
      ...(options.eventStreamLimits ? { eventStreamLimits: options.eventStreamLimits } : {}),
      ...options.access,
    },
    {
      idempotency: {
        ...(options.idempotencyTtlMs ? { ttlMs: options.idempotencyTtlMs } : {}),
        ...(options.idempotencyLeaseMs ? { leaseMs: options.idempotencyLeaseMs } : {}),
      },
    },
  );
  // Lab TTLs and finished teardowns are the controller's too.
  const labs = options.runController
    ? startLabSweeper({ ctx: commands, log, intervalMs: options.labSweepMs ?? LAB_SWEEP_MS })
    : undefined;
  // Events are kept for a while (EVENT_RETENTION_MS / _ROWS), pruned in the controller's round.
  const pruner = options.runController
    ? startEventPruner({ db: pool, log, intervalMs: EVENT_PRUNE_MS })
    : undefined;
  const keyPruner = options.runController
    ? startIdempotencyKeyPruner({ db: pool, log, intervalMs: EVENT_PRUNE_MS })
    : undefined;
  return {
    app,
    commands,
    dispatcher,
    async stop() {
      await dispatcher?.stop();
      await labs?.stop();
      await pruner?.stop();
      await keyPruner?.stop();
      await events.stop();
      await waiter.stop();
      await auditSettler.flush();
      await inspector.close();
      await prober.close();
      await executor.close();
      await queues.close();
      redis.disconnect();
    },
  };
}
