/**
 * Labnet end to end inside the bench's namespace, which plays the lab host: a private Postgres
 * and Redis on unix sockets in the run directory, the real gateway (`services/gateway/src/main.ts`)
 * listening on the namespace's loopback, and the real executor (`services/executor/src/main.ts`)
 * managing the namespace, both as child processes (`node --import tsx`), as in production.
 * A reaper process ends all of it should this process be killed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createDb, type Sql } from "@labnet/db";
import {
  migrateDatabase,
  type PostgresServer,
  REPO_ROOT,
  type RedisServer,
  recordChild,
  runCommandOrThrow,
  startPostgres,
  startRedis,
  terminateChild,
} from "@labnet/devstack";
import { gatewayWorkers } from "./config";
import { Api } from "./http";
import { cleanUpRun, makeRunDir, type RunPaths, runPaths } from "./run-dir";

const GATEWAY_MAIN = path.join(REPO_ROOT, "services", "gateway", "src", "main.ts");
const EXECUTOR_MAIN = path.join(REPO_ROOT, "services", "executor", "src", "main.ts");
const REAPER = fileURLToPath(new URL("./reaper.ts", import.meta.url));
/** The namespace is the bench's own: any port is free on its loopback. */
const GATEWAY_PORT = 8080;
const QUEUE_PREFIX = "lbench";
const START_TIMEOUT_MS = 60_000;

export interface LabnetStack {
  api: Api;
  /** The run's Postgres, for what the API does not show (when operations were settled). */
  sql: Sql;
  hostId: string;
  /** The executor's LABNET_NETNS_PREFIX: its sandboxes are `<prefix><16 id chars>`. */
  sandboxPrefix: string;
  paths: RunPaths;
  /** Throws (with the end of its log) when the gateway or the executor has exited. */
  assertRunning(): void;
  /** CPU seconds (user + system) the gateway, the executor and Postgres have used so far. */
  cpuSeconds(): Promise<{ gateway: number; executor: number; postgres: number }>;
  /** Stops everything it started; the run directory goes too unless `keepLogs`. */
  stop(options: { keepLogs: boolean }): Promise<void>;
}

interface Service {
  name: string;
  child: ChildProcess;
  logFile: string;
}

/** Starts Postgres, Redis, the gateway and the executor; returns once the host is online. */
export async function startStack(hostNetns: string): Promise<LabnetStack> {
  const paths = runPaths(hostNetns);
  await makeRunDir(paths);
  // A new namespace's loopback is down; the gateway listens on it.
  await runCommandOrThrow(["ip", "link", "set", "lo", "up"]);
  const reaperLog = openSync(path.join(paths.logs, "reaper.log"), "a");
  const reaper = spawn(process.execPath, [...process.execArgv, REAPER, hostNetns], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ["pipe", reaperLog, reaperLog],
  });
  closeSync(reaperLog);
  reaper.unref();
  reaper.stdin?.on("error", () => {});

  let pg: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  let sql: Sql | undefined;
  const services: Service[] = [];
  const sandboxPrefix = `${hostNetns}-l-`;

  const stop = async (options: { keepLogs: boolean }) => {
    for (const service of [...services].reverse()) {
      await terminateChild(service.child, { signal: "SIGTERM", timeoutMs: 15_000 });
    }
    await sql?.end({ timeout: 5 });
    await redis?.stop();
    await pg?.stop();
    await cleanUpRun(hostNetns, { ...options, namespaces: true });
    reaper.stdin?.end("done\n");
  };

  try {
    pg = await startPostgres({ dataDir: paths.pg, ephemeral: true });
    redis = await startRedis({ dataDir: paths.redis });
    await migrateDatabase(pg.url);
    const token = `lnt_bench_${randomBytes(16).toString("hex")}`;
    const common = { DATABASE_URL: pg.url, REDIS_URL: redis.url, LABNET_QUEUE_PREFIX: QUEUE_PREFIX };
    services.push(
      await startService(paths, "gateway", GATEWAY_MAIN, {
        ...common,
        LABNET_LISTEN_HOST: "127.0.0.1",
        LABNET_PORT: String(GATEWAY_PORT),
        LABNET_ADMIN_TOKEN: token,
        LABNET_GATEWAY_WORKERS: String(gatewayWorkers()),
      }),
    );
    const api = new Api(`http://127.0.0.1:${GATEWAY_PORT}`, token);
    const assertRunning = () => {
      for (const service of services) {
        assertServiceRunning(service);
      }
    };
    // Printed once every worker serves (a worker still starting would answer 503).
    await waitUntil(
      async () =>
        (await readFile(services[0]?.logFile ?? "", "utf8").catch(() => "")).includes("Labnet API serving"),
      {
        what: "the gateway to serve",
        check: assertRunning,
      },
    );
    services.push(
      await startService(paths, "executor", EXECUTOR_MAIN, {
        ...common,
        LABNET_HOST_NAME: hostNetns,
        LABNET_NETNS_PREFIX: sandboxPrefix,
        // The namespace's own ip_forward (a per-namespace sysctl).
        LABNET_MANAGE_IP_FORWARD: "true",
        // No periodic reconcile in the middle of a measurement (the baselines' included).
        LABNET_RECONCILE_MS: "3600000",
      }),
    );
    let hostId = "";
    await waitUntil(
      async () => {
        const hosts = await api.request<{ items: { id: string; name: string; status: string }[] }>(
          "GET",
          "/v1/hosts",
        );
        const host = hosts.body?.items.find((h) => h.name === hostNetns && h.status === "online");
        hostId = host?.id ?? "";
        return host !== undefined;
      },
      { what: "the executor's host to be online", check: assertRunning },
    );
    sql = createDb(pg.url, { max: 2, applicationName: "labnet-bench" }).sql;
    const treeCpuOf = (name: string, options?: { reaped: boolean }) => {
      const pid = services.find((s) => s.name === name)?.child.pid;
      return pid === undefined ? Promise.resolve(0) : treeCpuSeconds(pid, options);
    };
    const postgresPid = pg.pid;
    const cpuSeconds = async () => ({
      // Its workers are its children.
      gateway: await treeCpuOf("gateway"),
      // Its process starter included (a child that starts the kernel tools for it), not the tools.
      executor: await treeCpuOf("executor", { reaped: false }),
      postgres: await treeCpuSeconds(postgresPid),
    });
    return { api, sql, hostId, sandboxPrefix, paths, assertRunning, cpuSeconds, stop };
  } catch (error) {
    await stop({ keepLogs: true });
    throw error;
  }
}

async function startService(
  paths: RunPaths,
  name: string,
  main: string,
  env: Record<string, string>,
): Promise<Service> {
  const logFile = path.join(paths.logs, `${name}.log`);
  const log = openSync(logFile, "a");
  // V8's profiles of the services, for finding where their CPU goes under a burst.
  const profileDir = process.env.LABNET_BENCH_CPU_PROFILE;
  // One directory per service: tsx's loader thread writes a profile of its own beside the main one.
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${path.join(profileDir, name)}`] : [];
  const child = spawn(process.execPath, [...profile, "--import", "tsx", main], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  if (child.pid === undefined) {
    throw new Error(`could not start the ${name}`);
  }
  await recordChild(paths.registry, child.pid);
  return { name, child, logFile };
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces), from `state`. */
async function statFields(pid: number | string): Promise<string[] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined; // gone meanwhile
  }
}

/**
 * A server and its children (Postgres's backends): its own time, what its exited children
 * used (cutime + cstime, counted once reaped; unless `reaped` is false) and what the live
 * ones have used.
 */
async function treeCpuSeconds(pid: number, options = { reaped: true }): Promise<number> {
  const own = await statFields(pid);
  const reaped = own && options.reaped ? Number(own[13]) + Number(own[14]) : 0;
  let ticks = own ? Number(own[11]) + Number(own[12]) + reaped : 0;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === pid) {
      continue;
    }
    const fields = await statFields(entry);
    if (fields && Number(fields[1]) === pid) {
      ticks += Number(fields[11]) + Number(fields[12]);
    }
  }
  return ticks / 100;
}

function assertServiceRunning(service: Service): void {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(
      `the ${service.name} exited (${child.exitCode ?? child.signalCode}); the end of ${service.logFile}:\n${tail(service.logFile)}`,
    );
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Polls `probe` every 50 ms until it is true; throws after the timeout or when `check` throws. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  options: { what: string; check?: () => void; timeoutMs?: number; intervalMs?: number },
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    options.check?.();
    if (await probe()) {
      return;
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${options.what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
