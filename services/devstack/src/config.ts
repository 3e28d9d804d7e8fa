import { hostname } from "node:os";
import path from "node:path";
import { isIpv4 } from "@labnet/ipam";
import { HOST_NETNS_PREFIX_RULE, isValidHostNetnsPrefix } from "@labnet/netplan";
import { z } from "zod";
import { REPO_ROOT } from "./paths";

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

/**
 * The environment `npm start` reads. Everything has a default. The whole environment is passed
 * on to the gateway and the executor, which validate their own variables (LABNET_ADMIN_TOKEN ...).
 */
export const DevstackEnv = z
  .object({
    /** Where the embedded Postgres and Redis keep their files. Default `<repo>/.labnet`. */
    LABNET_DATA_DIR: optionalString.pipe(z.string().startsWith("/", "must be an absolute path").optional()),
    /** External Postgres; when unset an embedded one is started under LABNET_DATA_DIR. */
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
        .optional(),
    ),
    /** External Redis; when unset an embedded one is started under LABNET_DATA_DIR. */
    REDIS_URL: optionalString.pipe(
      z
        .string()
        .regex(/^(redis|rediss|unix):\/\//, "must start with redis://, rediss:// or unix://")
        .optional(),
    ),
    /** Address the gateway listens on (default 127.0.0.1: the API is local until you choose otherwise). */
    LABNET_LISTEN_HOST: z.string().trim().refine(isIpv4, "must be an IPv4 address").default("127.0.0.1"),
    /** Gateway port (default 8080). */
    LABNET_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
    /**
     * `netns` (default): the lab host is a network namespace of its own (`labnet-host`, with an
     * `labnet-outside` namespace as its outside world), so trying Labnet never touches the
     * machine's network. `root`: the executor manages the machine's own network namespace, as a
     * production lab host does.
     */
    LABNET_HOST_MODE: z.enum(["netns", "root"]).default("netns"),
    /** Name this lab host registers under (default `labnet-host`, or the machine's hostname in root mode). */
    LABNET_HOST_NAME: optionalString.pipe(z.string().regex(NAME, "must be a lowercase DNS label").optional()),
    /**
     * Prefix of the sandbox namespaces the executor creates (default `ln-`). In netns mode they go
     * with the lab host when the stack stops, so it must be specific: it ends in a dash.
     */
    LABNET_NETNS_PREFIX: z
      .string()
      .trim()
      .refine(isValidHostNetnsPrefix, HOST_NETNS_PREFIX_RULE)
      .default("ln-"),
    /** Underlay address for overlay networks (default 198.18.0.1 in netns mode; detected by the executor in root mode). */
    LABNET_UNDERLAY_ADDRESS: optionalString.pipe(
      z.string().refine(isIpv4, "must be an IPv4 address").optional(),
    ),
    /** `1` skips the Debian package check (for machines managed otherwise). */
    LABNET_SKIP_APT: z.enum(["0", "1", "true", "false"]).default("0"),
  })
  .strip();

/**
 * Checks across variables, run on the raw environment so they are reported together with the
 * per-variable problems. In netns mode the executor runs in a namespace with its own loopback
 * and no route to the machine's networks: it reaches Postgres and Redis only by unix socket.
 */
function checkAcrossVariables(env: NodeJS.ProcessEnv): string[] {
  if ((env.LABNET_HOST_MODE?.trim() || "netns") !== "netns") {
    return [];
  }
  const problems: string[] = [];
  const databaseUrl = env.DATABASE_URL?.trim();
  if (databaseUrl && !/[?&]host=(\/|%2F)/i.test(databaseUrl)) {
    problems.push(
      "DATABASE_URL: in LABNET_HOST_MODE=netns the executor reaches Postgres only by unix socket: use postgres://user@localhost/db?host=/socket/dir, or LABNET_HOST_MODE=root",
    );
  }
  const redisUrl = env.REDIS_URL?.trim();
  if (redisUrl && !redisUrl.startsWith("unix://")) {
    problems.push(
      "REDIS_URL: in LABNET_HOST_MODE=netns the executor reaches Redis only by unix socket: use unix:///path/to/redis.sock, or LABNET_HOST_MODE=root",
    );
  }
  return problems;
}

/** Validated devstack configuration, with defaults resolved. */
export interface DevstackConfig {
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  listenHost: string;
  port: number;
  hostMode: "netns" | "root";
  hostName: string;
  netnsPrefix: string;
  underlayAddress: string | undefined;
  skipApt: boolean;
}

/** Thrown with one line per bad variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Parses the environment. @throws {ConfigError} listing every bad variable, not just the first.
 */
export function loadDevstackConfig(env: NodeJS.ProcessEnv = process.env): DevstackConfig {
  const parsed = DevstackEnv.safeParse(env);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => `${i.path.join(".") || "(environment)"}: ${i.message}`)),
    ...checkAcrossVariables(env),
  ];
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n${problems.map((line) => `  ${line}`).join("\n")}`);
  }
  const e = parsed.data;
  const netnsMode = e.LABNET_HOST_MODE === "netns";
  return {
    dataDir: e.LABNET_DATA_DIR ?? path.join(REPO_ROOT, ".labnet"),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    listenHost: e.LABNET_LISTEN_HOST,
    port: e.LABNET_PORT,
    hostMode: e.LABNET_HOST_MODE,
    hostName: e.LABNET_HOST_NAME ?? (netnsMode ? "labnet-host" : toHostLabel(hostname())),
    netnsPrefix: e.LABNET_NETNS_PREFIX,
    underlayAddress: e.LABNET_UNDERLAY_ADDRESS ?? (netnsMode ? "198.18.0.1" : undefined),
    skipApt: e.LABNET_SKIP_APT === "1" || e.LABNET_SKIP_APT === "true",
  };
}

function toHostLabel(name: string): string {
  const label = name
    .toLowerCase()
    .split(".")[0]
    ?.replace(/[^a-z0-9-]/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
  return label || "labnet-host";
}
