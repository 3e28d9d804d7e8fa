/**
 * `npm start`: the whole of Labnet on one machine. Installs missing Debian packages (through
 * infra/local/ensure-deps.sh), starts a
 * private Postgres and Redis (unix sockets only) unless DATABASE_URL / REDIS_URL are given,
 * migrates, and runs the gateway (which also runs the controller) and one executor. By default
 * the executor's lab host is the network namespace `labnet-host`, so the machine's own network
 * is never touched; LABNET_HOST_MODE=root makes it manage the machine, as in production.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { runCommand } from "@labnet/process";
import { killRecordedChildren, recordChild } from "./child-registry";
import { ConfigError, type DevstackConfig, loadDevstackConfig } from "./config";
import { lockDataDir } from "./data-dir-lock";
import { migrateDatabase } from "./migrate-database";
import { deleteNetns, ensureLabHostNetns, listNetns } from "./netns";
import { REPO_ROOT } from "./paths";
import { isReachableByPostgres, startPostgres } from "./postgres";
import type { ExitStatus } from "./processes";
import { startRedis } from "./redis";
import { Supervisor } from "./supervisor";

const GATEWAY_MAIN = path.join(REPO_ROOT, "services", "gateway", "src", "main.ts");
const EXECUTOR_MAIN = path.join(REPO_ROOT, "services", "executor", "src", "main.ts");
const ENSURE_DEPS = path.join(REPO_ROOT, "infra", "local", "ensure-deps.sh");

function say(line: string): void {
  process.stdout.write(`[devstack] ${line}\n`);
}

/** Undo steps, run newest first on the way out. */
const cleanups: { what: string; run: () => Promise<unknown> }[] = [];
let shuttingDown = false;
let startup: Promise<void> | undefined;

/** Between start steps: a Ctrl-C during start lets the current step finish, then unwinds. */
function checkpoint(): void {
  if (shuttingDown) {
    throw new Error("interrupted");
  }
}

let childRegistry: string | undefined;
const recording: Promise<void>[] = [];

const supervisor = new Supervisor({
  onStart: (_name, pid) => {
    if (childRegistry) {
      recording.push(recordChild(childRegistry, pid));
    }
  },
  onUnexpectedExit: (name, status) => {
    if (shuttingDown) {
      say(`${name} exited (${describeExit(status)})`);
      return;
    }
    say(`${name} exited unexpectedly (${describeExit(status)}); stopping the whole stack`);
    void shutdown(1);
  },
  // The gateway and the executor recover state from Postgres: a crash costs a restart, not the stack.
  onRestart: (name, status, delayMs, failures) => {
    say(
      `${name} exited unexpectedly (${describeExit(status)}); restarting it in ${Math.round(delayMs / 1000)} s${failures > 1 ? ` (${failures} crashes in a row)` : ""}`,
    );
  },
});

async function shutdown(exitCode: number): Promise<void> {
  if (shuttingDown) {
    return;
  }
  shuttingDown = true;
  say("stopping (press Ctrl-C again to force)");
  // Let a start step in flight finish, so whatever it started is in `cleanups`.
  await startup?.catch(() => {});
  await supervisor.stopAll();
  for (const step of cleanups.reverse()) {
    try {
      await step.run();
    } catch (error) {
      say(`could not ${step.what}: ${error instanceof Error ? error.message : String(error)}`);
      exitCode = exitCode || 1;
    }
  }
  say("stopped");
  process.exit(exitCode);
}

function onSignal(signal: NodeJS.Signals): void {
  if (shuttingDown) {
    say(`${signal} again: killing the children now`);
    supervisor.killAll();
    process.exit(130);
  }
  void shutdown(0);
}

function describeExit(status: ExitStatus): string {
  return status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
}

async function startStack(config: DevstackConfig): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error("npm start must run as root: it creates network namespaces and runs the executor");
  }
  const unlock = await lockDataDir(config.dataDir);
  cleanups.push({ what: "release the data directory", run: unlock });
  // Gateway and executor of a run that was killed outright would still hold the port and
  // the queue; end exactly those (Postgres and Redis are found through their own pid files).
  childRegistry = path.join(config.dataDir, "children.pid");
  const leftovers = await killRecordedChildren(childRegistry);
  if (leftovers.length > 0) {
    say(`stopped leftover processes of a run that died: ${leftovers.join(" ")}`);
  }
  cleanups.push({
    what: "forget the stopped children",
    run: async () => {
      await Promise.all(recording);
      if (childRegistry) {
        await rm(childRegistry, { force: true });
      }
    },
  });
  checkpoint();

  if (!config.skipApt) {
    // Debian packages have one installer, the script `npm start` runs before devstack.
    const deps = await runCommand(["bash", ENSURE_DEPS, "--debian-only"], {
      timeoutMs: 30 * 60_000,
      inheritOutput: true,
    });
    if (deps.code !== 0) {
      throw new Error(`${path.relative(REPO_ROOT, ENSURE_DEPS)} --debian-only failed (${deps.code})`);
    }
    checkpoint();
  }
  for (const file of [GATEWAY_MAIN, EXECUTOR_MAIN]) {
    if (!existsSync(file)) {
      throw new Error(`${path.relative(REPO_ROOT, file)} does not exist`);
    }
  }

  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const pg = await startPostgres({ dataDir: await choosePostgresDir(config.dataDir) });
    cleanups.push({ what: "stop Postgres", run: pg.stop });
    checkpoint();
    databaseUrl = pg.url;
    say(`Postgres ready on ${pg.socketDir} (log: ${pg.logFile})`);
  }
  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    const redis = await startRedis({ dataDir: path.join(config.dataDir, "redis") });
    cleanups.push({ what: "stop Redis", run: redis.stop });
    checkpoint();
    redisUrl = redis.url;
    say(`Redis ready on ${redis.socketPath}`);
  }
  await migrateDatabase(databaseUrl).catch((error: unknown) => {
    throw new Error(`migrations failed: ${error instanceof Error ? error.message : String(error)}`);
  });
  say("migrations applied");
  checkpoint();

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    LABNET_LISTEN_HOST: config.listenHost,
    LABNET_PORT: String(config.port),
    LABNET_DATA_DIR: config.dataDir,
    LABNET_HOST_NAME: config.hostName,
    LABNET_NETNS_PREFIX: config.netnsPrefix,
    ...(config.underlayAddress ? { LABNET_UNDERLAY_ADDRESS: config.underlayAddress } : {}),
  };
  const node = [process.execPath, "--import", "tsx"];

  let executorArgv = [...node, EXECUTOR_MAIN];
  if (config.hostMode === "netns") {
    // Sandboxes are wired to bridges inside the lab host, which lives only as long as this
    // stack: they go with it (also those a killed run left), and the executor rebuilds them
    // from Postgres on the next start.
    const removeSandboxes = async () => {
      for (const name of await listNetns(config.netnsPrefix)) {
        await deleteNetns(name);
      }
    };
    await removeSandboxes();
    const labHost = await ensureLabHostNetns();
    cleanups.push({
      what: "remove the lab host namespaces",
      run: async () => {
        await removeSandboxes();
        await labHost.remove();
      },
    });
    checkpoint();
    say(
      `lab host namespace ${labHost.hostNetns} (uplink ${labHost.uplinkAddress}, outside world: ${labHost.outsideNetns})`,
    );
    // nsenter switches only the network namespace; `ip netns exec` would also give the executor a
    // private mount namespace, where the namespaces it creates would be invisible to everyone else.
    executorArgv = ["nsenter", `--net=${labHost.hostNetnsPath}`, "--", ...node, EXECUTOR_MAIN];
  } else {
    say("LABNET_HOST_MODE=root: the executor manages this machine's own network namespace");
  }

  supervisor.start("gateway", [...node, GATEWAY_MAIN], { env, cwd: REPO_ROOT, restart: {} });
  supervisor.start("executor", executorArgv, { env, cwd: REPO_ROOT, restart: {} });

  const probeHost = config.listenHost === "0.0.0.0" ? "127.0.0.1" : config.listenHost;
  if (await waitForTcp(probeHost, config.port, 60_000)) {
    const base = `http://${probeHost}:${config.port}`;
    say("Labnet is up.");
    say(`  API:   ${base}/v1`);
    say(`  Docs:  ${base}/docs`);
    say(
      "  Auth:  Authorization: Bearer <admin token> (the gateway prints the token on its first start; or set LABNET_ADMIN_TOKEN)",
    );
    say(`  Data:  ${config.dataDir}`);
    if (config.hostMode === "netns") {
      say("  Look inside the lab host: ip netns exec labnet-host ip -br addr");
    }
    say("Ctrl-C stops everything.");
  } else if (!shuttingDown) {
    say(`the gateway is not answering on ${probeHost}:${config.port} yet; see its output above`);
  }
}

/**
 * `<dataDir>/postgres`, unless the postgres account cannot reach it (a checkout under /root):
 * then a directory of this checkout's own under /var/lib/labnet.
 */
async function choosePostgresDir(dataDir: string): Promise<string> {
  if (await isReachableByPostgres(dataDir)) {
    return path.join(dataDir, "postgres");
  }
  const fallback = path.join(
    "/var/lib/labnet",
    createHash("sha256").update(dataDir).digest("hex").slice(0, 12),
    "postgres",
  );
  await mkdir(path.dirname(fallback), { recursive: true, mode: 0o755 });
  say(
    `the postgres account cannot reach ${dataDir} (a parent directory is private); keeping Postgres in ${fallback}`,
  );
  return fallback;
}

function waitForTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const attempt = (): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = createConnection({ host, port });
      socket.setTimeout(1_000);
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
      socket.once("timeout", () => {
        socket.destroy();
        resolve(false);
      });
    });
  return (async () => {
    while (Date.now() < deadline && !shuttingDown) {
      if (await attempt()) {
        return true;
      }
      await sleep(200);
    }
    return false;
  })();
}

let config: DevstackConfig;
try {
  config = loadDevstackConfig();
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(2);
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
startup = startStack(config);
try {
  await startup;
} catch (error) {
  if (!shuttingDown) {
    say(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1);
  }
}
