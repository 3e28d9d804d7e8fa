import type { CommandContext } from "@labnet/commands";
import type { Database, Sql } from "@labnet/db";
import type { Logger } from "@labnet/log";
import type { HostExecutor, HostInspector, HostProber } from "@labnet/queue";
import type { Redis } from "ioredis";
import type { AuditSettler } from "../access/audit";
import type { Quotas } from "../access/quotas";
import type { RateLimits } from "../access/rate-limit";
import type { GatewayMetrics } from "../metrics/gateway-metrics";
import type { EventHub } from "../services/event-hub";
import type { EventStreamLimits } from "../services/event-stream";
import type { OperationWaiter } from "../services/operation-waiter";

/** Everything routes use, built once in main.ts (or by a test) and passed in. */
export interface AppDeps {
  db: Database;
  pg: Sql;
  redis: Redis;
  waiter: OperationWaiter;
  /** Asks executors for the kernel truth of their machines (request/response on the host queues). */
  inspector: HostInspector;
  /** Runs labs' grading probes on executors (request/response on the host queues). */
  prober: HostProber;
  /** Runs allow-listed diagnostics commands in nodes and machines (request/response, `host.exec`). */
  executor: HostExecutor;
  commands: CommandContext;
  /** The events table as streams see it (LISTEN labnet_events), for `GET /v1/events`. */
  events: EventHub;
  /** Per-stream limits (buffer, heartbeat); default DEFAULT_EVENT_STREAM_LIMITS. */
  eventStreamLimits?: EventStreamLimits;
  log: Logger;
  /** Counts requests and answers `GET /metrics` (none: no metrics route). */
  metrics?: GatewayMetrics;
  /** An instructor account's quotas unless it has its own (default DEFAULT_QUOTAS). */
  quotas?: Quotas;
  /** Requests per second per token, by role (default DEFAULT_RATE_LIMITS). */
  rateLimits?: RateLimits;
  /** Origins a web console may call from (CORS); none by default. */
  corsOrigins?: readonly string[];
  /** Batches audit statuses (the runtime's, flushed at stop; else the app makes one). */
  auditSettler?: AuditSettler;
}
