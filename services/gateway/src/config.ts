import { DEFAULT_LAN_POOLS } from "@labnet/commands";
import { parseEnv } from "@labnet/config";
import { type AddressPool, DEFAULT_ADDRESS_POOLS, parseAddressPools } from "@labnet/ipam";
import { z } from "zod";
import { DEFAULT_QUOTAS, type Quotas } from "./access/quotas";
import { DEFAULT_RATE_LIMITS, type RateLimits } from "./access/rate-limit";

/** An address-pool variable (`base=172.18.0.0/16,size=16;...`), `fallback` when unset. */
function addressPools(fallback: readonly AddressPool[]) {
  return z
    .string()
    .optional()
    .transform((spec, ctx): readonly AddressPool[] => {
      if (spec === undefined) {
        return fallback;
      }
      const parsed = parseAddressPools(spec);
      if (!parsed.ok) {
        ctx.addIssue({ code: "custom", message: parsed.message });
        return z.NEVER;
      }
      return parsed.pools;
    });
}

/** The gateway's environment. Parsed once at start; every problem is listed before exiting. */
export const GatewayConfig = z.object({
  /** Address the HTTP API listens on. */
  LABNET_LISTEN_HOST: z.string().min(1).default("127.0.0.1"),
  /** Port the HTTP API listens on. */
  LABNET_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /**
   * Gateway processes sharing the port (cluster.ts): one Node thread is what limits a burst of a
   * class's requests; a lab host with cores to spare (or a gateway host) runs several.
   */
  LABNET_GATEWAY_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  /** Postgres; `?host=/dir` for a unix socket. */
  DATABASE_URL: z.string().url(),
  /** Redis: `redis://host:port` or `unix:///path/redis.sock`. */
  REDIS_URL: z.string().url(),
  /** An admin token to accept (stored hashed), so automation can start Labnet with a known token. */
  LABNET_ADMIN_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  /** Default address pools, `base=172.18.0.0/16,size=16;base=10.10.0.0/16,size=24`; Docker's, then 10.128.0.0/9 in /24s, by default. */
  LABNET_ADDRESS_POOLS: addressPools(DEFAULT_ADDRESS_POOLS),
  /** Pools of the LANs made for machines, in the same form; 10.0.0.0/9 in /24s by default. */
  LABNET_LAN_POOLS: addressPools(DEFAULT_LAN_POOLS),
  /** MTU of networks that do not set one. */
  LABNET_DEFAULT_MTU: z.coerce.number().int().min(576).max(9000).default(1500),
  /** Key prefix of Labnet's BullMQ queues; must match the executors'. */
  LABNET_QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/)
    .default("labnet"),
  /** Run the outbox dispatcher in this process (turn off when a separate controller runs). */
  LABNET_RUN_CONTROLLER: z.enum(["true", "false"]).default("true"),
  /** Open operations dispatched longer ago than this are dispatched again (Redis may have lost them). */
  LABNET_REDISPATCH_AFTER_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** How long an Idempotency-Key is remembered (its answer replayed); a day by default. */
  LABNET_IDEMPOTENCY_TTL_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(24 * 60 * 60 * 1000),
  /**
   * How long a claimed Idempotency-Key outlives its request's last renewal (every third of it):
   * after a crash, a retry takes the key over this long after.
   */
  LABNET_IDEMPOTENCY_LEASE_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** Origins a web console may call the API from (CORS), comma-separated; none by default. */
  LABNET_CORS_ORIGINS: z
    .string()
    .optional()
    .transform((v) =>
      v
        ? v
            .split(",")
            .map((o) => o.trim())
            .filter((o) => o.length > 0)
        : [],
    ),
  /** Requests per second per token, by role (0: unlimited); bursts of 5 s worth pass. */
  LABNET_RATE_LIMIT_ADMIN: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMITS.admin),
  LABNET_RATE_LIMIT_INSTRUCTOR: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMITS.instructor),
  LABNET_RATE_LIMIT_STUDENT: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMITS.student),
  /** An instructor account's quotas unless an admin set its own. */
  LABNET_QUOTA_LABS: z.coerce.number().int().min(0).default(DEFAULT_QUOTAS.labs),
  LABNET_QUOTA_INSTANCES: z.coerce.number().int().min(0).default(DEFAULT_QUOTAS.instances),
  LABNET_QUOTA_MACHINES: z.coerce.number().int().min(0).default(DEFAULT_QUOTAS.machines),
  LABNET_QUOTA_NODES: z.coerce.number().int().min(0).default(DEFAULT_QUOTAS.nodes),
  LABNET_QUOTA_PORTS: z.coerce.number().int().min(0).default(DEFAULT_QUOTAS.ports),
  /**
   * Tests only, never in production: check every answer against the contract (openapi/labnet.yaml;
   * dockerd's rules under /docker) and log and answer 500 for one that does not conform
   * (http/validate-response.ts validatingFetch). Costs a parse of every JSON body.
   */
  LABNET_VALIDATE_RESPONSES: z.enum(["true", "false"]).default("false"),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;

/**
 * The access settings of a parsed configuration, as the app takes them. Each of several
 * workers gets an equal share of the rate limits (connections are handed out in turn).
 */
export function accessSettingsOf(config: GatewayConfig): {
  corsOrigins: readonly string[];
  rateLimits: RateLimits;
  quotas: Quotas;
} {
  return {
    corsOrigins: config.LABNET_CORS_ORIGINS,
    rateLimits: {
      admin: share(config.LABNET_RATE_LIMIT_ADMIN, config.LABNET_GATEWAY_WORKERS),
      instructor: share(config.LABNET_RATE_LIMIT_INSTRUCTOR, config.LABNET_GATEWAY_WORKERS),
      student: share(config.LABNET_RATE_LIMIT_STUDENT, config.LABNET_GATEWAY_WORKERS),
    },
    quotas: {
      labs: config.LABNET_QUOTA_LABS,
      instances: config.LABNET_QUOTA_INSTANCES,
      machines: config.LABNET_QUOTA_MACHINES,
      nodes: config.LABNET_QUOTA_NODES,
      ports: config.LABNET_QUOTA_PORTS,
    },
  };
}

/** One worker's share of a per-second limit (0: no limit, whatever the workers). */
function share(perSecond: number, workers: number): number {
  return perSecond === 0 ? 0 : Math.max(1, Math.ceil(perSecond / workers));
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return parseEnv(GatewayConfig, env, "gateway");
}

/** What `migrate-main.ts` (a deployment's migration step) reads: the database alone. */
export const MigrateConfig = GatewayConfig.pick({ DATABASE_URL: true });
