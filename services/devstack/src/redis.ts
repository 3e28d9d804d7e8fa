import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive, readProcessArgv, readProcessCwd, terminateChild, waitForPidGone } from "./processes";
import { assertSocketPathFits, toFileUrlSafePath } from "./socket-path";

export interface StartRedisOptions {
  /** Directory that belongs to this server: `redis.sock`, `redis.pid` and `redis.log` go here. */
  dataDir: string;
  /** Path of `redis-server` (default: found on PATH). */
  binary?: string;
  /** How long to wait for PONG (default 20 s). */
  startTimeoutMs?: number;
}

/** A Redis server this process started. */
export interface RedisServer {
  /** `unix:///<dataDir>/redis.sock` */
  url: string;
  socketPath: string;
  logFile: string;
  pid: number;
  /** SIGTERM to the server we started, then waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts a private Redis on a unix socket only (`port 0`), with no persistence: the queue is
 * transport, Postgres holds the work. No config file; everything is on the command line.
 */
export async function startRedis(options: StartRedisOptions): Promise<RedisServer> {
  const dataDir = path.resolve(options.dataDir);
  const socketPath = path.join(dataDir, "redis.sock");
  const logFile = path.join(dataDir, "redis.log");
  assertSocketPathFits(socketPath);
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  await stopStaleRedis(dataDir);

  const args = [
    "--port",
    "0",
    "--unixsocket",
    socketPath,
    "--unixsocketperm",
    "777",
    "--dir",
    dataDir,
    "--pidfile",
    path.join(dataDir, "redis.pid"),
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
    "--logfile",
    "",
  ];
  const log = await open(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(options.binary ?? "redis-server", args, {
      cwd: dataDir,
      stdio: ["ignore", log.fd, log.fd],
      // See startPostgres: the supervisor decides when it stops.
      detached: true,
    });
  } finally {
    await log.close();
  }
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(
      `could not spawn redis-server: ${(await spawnError).message}; install the Debian package redis-server`,
    );
  }
  const stop = async (): Promise<void> => {
    await terminateChild(child, { signal: "SIGTERM", timeoutMs: 10_000 });
  };
  try {
    await waitForPong(child, socketPath, logFile, options.startTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `unix://${toFileUrlSafePath(socketPath)}`, socketPath, logFile, pid, stop };
}

/**
 * Stops a Redis left running in `dataDir` by a run that died (found by its pidfile, and only if
 * that PID is a redis-server working in this very directory). Returns the PID it stopped, if any.
 */
export async function stopStaleRedis(dataDir: string): Promise<number | undefined> {
  const dir = path.resolve(dataDir);
  const pidFile = path.join(dir, "redis.pid");
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, "utf8")).trim());
  } catch {
    return undefined;
  }
  let stopped: number | undefined;
  if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) {
    const argv = (await readProcessArgv(pid)) ?? [];
    if (argv.join(" ").includes("redis-server") && (await readProcessCwd(pid)) === dir) {
      process.kill(pid, "SIGTERM");
      if (!(await waitForPidGone(pid, 10_000))) {
        process.kill(pid, "SIGKILL");
        await waitForPidGone(pid, 5_000);
      }
      stopped = pid;
    }
  }
  await rm(pidFile, { force: true });
  await rm(path.join(dir, "redis.sock"), { force: true });
  return stopped;
}

/** Sends one PING over the socket; true on `+PONG`. */
export function pingRedis(socketPath: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path: socketPath });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      reply += chunk;
      if (reply.includes("\r\n")) {
        done(reply.startsWith("+PONG"));
      }
    });
  });
}

async function waitForPong(child: ChildProcess, socketPath: string, logFile: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = await readFile(logFile, "utf8").catch(() => "(no log)");
      throw new Error(
        `redis-server exited during start (${child.exitCode ?? child.signalCode}):\n${log.trimEnd().split("\n").slice(-20).join("\n")}`,
      );
    }
    if (await pingRedis(socketPath)) {
      return;
    }
    await sleep(50);
  }
  throw new Error(`redis-server did not answer PING on ${socketPath} within ${timeoutMs} ms`);
}
