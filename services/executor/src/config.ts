import { hostname } from "node:os";
import { parseEnv } from "@labnet/config";
import { isIpv4 } from "@labnet/ipam";
import { HOST_NETNS_PREFIX_RULE, isValidHostNetnsPrefix } from "@labnet/netplan";
import { z } from "zod";

const HOST_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/** The executor's environment. Parsed once at start; every problem is listed before exiting. */
export const ExecutorConfig = z.object({
  /** Postgres; `?host=/dir` reaches it by unix socket (needed inside a network namespace). */
  DATABASE_URL: z.string().url(),
  /** Redis: `redis://host:port` or `unix:///path/redis.sock`. */
  REDIS_URL: z.string().url(),
  /** Name of the lab host this executor manages; the same name after a restart is the same host. */
  LABNET_HOST_NAME: z.string().regex(HOST_NAME).default(hostname().slice(0, 63)),
  /** Prefix of the sandbox namespaces this executor owns (and may prune). Ends in `-`. */
  LABNET_NETNS_PREFIX: z.string().refine(isValidHostNetnsPrefix, HOST_NETNS_PREFIX_RULE).default("ln-"),
  /** Address other hosts reach this one at (overlay underlay); optional for single-host labs. */
  LABNET_UNDERLAY_ADDRESS: z
    .union([z.string().refine(isIpv4, "must be an IPv4 address"), z.literal("")])
    .default(""),
  /** How often the host's liveness is recorded. */
  LABNET_HEARTBEAT_MS: z.coerce.number().int().min(200).max(60_000).default(5_000),
  /** How often kernel state is compared with Postgres and repaired (drift, orphans). */
  LABNET_RECONCILE_MS: z.coerce.number().int().min(1_000).default(60_000),
  /**
   * Host ports handed out at random (`-P`, `-p 80`, `-p 0:80`), `START-END` inclusive:
   * Docker's 32768-60999 by default; the course material's Docker used 49000-49900.
   * Recorded with the host at start; published ports keep their numbers when it changes.
   */
  LABNET_PORT_RANGE: z
    .string()
    .default("32768-60999")
    .transform((value, ctx) => {
      const range = parsePortRange(value);
      if (!range) {
        ctx.addIssue({
          code: "custom",
          message: "want START-END with 1 <= START <= END <= 65535, e.g. 49000-49900",
        });
        return z.NEVER;
      }
      return range;
    }),
  /** Key prefix of Labnet's BullMQ queues in Redis. */
  LABNET_QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/)
    .default("labnet"),
  /**
   * The host's resolver configuration: nodes on the default bridge get its (non-loopback)
   * servers, and the DNS responder forwards names that are not Labnet's to them.
   */
  LABNET_HOST_RESOLV_CONF: z.string().startsWith("/").default("/etc/resolv.conf"),
  /** How long the DNS responder waits for each upstream server before the next (then SERVFAIL). */
  LABNET_DNS_FORWARD_TIMEOUT_MS: z.coerce.number().int().min(100).max(10_000).default(2_000),
  /**
   * The executor's nice value, its kernel tools' too (0-19; 0 leaves it as started): its
   * converges yield the CPU to the gateway's answers on a lab host that runs both.
   */
  LABNET_EXECUTOR_NICE: z.coerce.number().int().min(0).max(19).default(10),
  /** Manage net.ipv4.ip_forward in the host namespace (bridge networks need it on). */
  LABNET_MANAGE_IP_FORWARD: z.enum(["true", "false"]).default("true"),
});
export type ExecutorConfig = z.infer<typeof ExecutorConfig>;

/** `49000-49900` → { start: 49000, end: 49900 }; undefined unless 1 <= start <= end <= 65535. */
export function parsePortRange(value: string): { start: number; end: number } | undefined {
  const match = /^\s*([0-9]{1,5})\s*-\s*([0-9]{1,5})\s*$/.exec(value);
  if (!match) {
    return undefined;
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  return start >= 1 && start <= end && end <= 65535 ? { start, end } : undefined;
}

/** Parses the environment or throws one error that lists every bad variable. */
export function loadExecutorConfig(env: NodeJS.ProcessEnv = process.env): ExecutorConfig {
  return parseEnv(ExecutorConfig, env, "executor");
}
