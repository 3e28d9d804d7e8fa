import { HOST_ONLINE_WINDOW_MS, schema } from "@labnet/db";
import { gt, sql } from "drizzle-orm";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import type { AppDeps } from "./deps";

/** Liveness says the process serves; readiness that Postgres, Redis and an executor answer. */
export function registerHealthRoutes(app: GatewayApp, deps: AppDeps): void {
  registerOperation(app, "getHealth", (c) => c.json({ status: "ok" }, 200));

  registerOperation(app, "getReadiness", async (c) => {
    const [postgres, redis, executors] = await Promise.all([
      check(async () => {
        await deps.db.execute(sql`select 1`);
        return "reachable";
      }),
      check(async () => {
        const pong = await deps.redis.ping();
        return pong === "PONG" ? "reachable" : `unexpected answer ${pong}`;
      }),
      check(async () => {
        const online = await deps.db
          .select({ name: schema.hosts.name })
          .from(schema.hosts)
          .where(
            gt(
              schema.hosts.lastHeartbeatAt,
              sql`now() - make_interval(secs => ${HOST_ONLINE_WINDOW_MS / 1000})`,
            ),
          );
        if (online.length === 0) {
          throw new Error("no executor has sent a heartbeat recently");
        }
        return `${online.length} online: ${online.map((h) => h.name).join(", ")}`;
      }),
    ]);
    const ready = postgres.ok && redis.ok && executors.ok;
    return c.json(
      { status: ready ? "ok" : "unavailable", checks: { postgres, redis, executors } },
      ready ? 200 : 503,
    );
  });
}

async function check(probe: () => Promise<string>): Promise<{ ok: boolean; detail: string }> {
  try {
    return { ok: true, detail: await withTimeout(probe(), 2_000) };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  ]);
}
