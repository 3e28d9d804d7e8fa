import { Redis, type RedisOptions } from "ioredis";

/**
 * ioredis options from `redis://[:password@]host:port[/db]` or `unix:///path/to/redis.sock`
 * (an executor inside a network namespace reaches Redis by unix socket).
 */
export function redisOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  if (parsed.protocol === "unix:") {
    return { path: decodeURIComponent(parsed.pathname) };
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new Error(`REDIS_URL must start with redis://, rediss:// or unix:// (got ${parsed.protocol})`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
  };
}

/**
 * A Redis connection for BullMQ. Producers fail fast when Redis is away (the outbox keeps
 * the work and re-dispatches); workers wait for it to come back (BullMQ requires
 * `maxRetriesPerRequest: null` for blocking connections).
 */
export function createRedisConnection(url: string, role: "producer" | "worker"): Redis {
  const base = redisOptions(url);
  return new Redis(
    role === "producer"
      ? { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false }
      : { ...base, maxRetriesPerRequest: null },
  );
}
