import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, open, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { runCommand, runCommandOrThrow } from "@labnet/process";
import postgres from "postgres";
import { isProcessAlive, readProcessArgv, terminateChild, waitForPidGone } from "./processes";
import { assertSocketPathFits, toFileUrlSafePath } from "./socket-path";
import { ensureSystemUser, type SystemUser } from "./system-user";

const POSTGRES_ROOT = "/usr/lib/postgresql";
const PORT = 5432;

export interface StartPostgresOptions {
  /**
   * Directory that belongs to this server: the cluster lives in `<dataDir>/data`, the socket in
   * `<dataDir>/socket`, the server log in `<dataDir>/postgres.log`. The `postgres` account must be
   * able to traverse every parent directory.
   */
  dataDir: string;
  /** Database created when missing (default `labnet`). */
  database?: string;
  /**
   * Trade durability for speed (fsync off, no initdb sync). For test runs whose data is thrown
   * away afterwards; never for data you want to keep.
   */
  ephemeral?: boolean;
  /** `max_connections` (default 200: test workers and executors each hold a pool). */
  maxConnections?: number;
  /** How long to wait for the server to accept connections (default 60 s). */
  startTimeoutMs?: number;
}

/** A Postgres server this process started. */
export interface PostgresServer {
  /** `postgres://postgres@localhost/<db>?host=<socketDir>`: libpq's form for a unix socket. */
  url: string;
  socketDir: string;
  dataDir: string;
  logFile: string;
  pid: number;
  /** Fast shutdown (SIGINT) of the server we started, then waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * The newest `/usr/lib/postgresql/<major>/bin` that has a `postgres` binary.
 * @throws when no server is installed.
 */
export async function findPostgresBinDir(): Promise<string> {
  const majors = existsSync(POSTGRES_ROOT) ? await readdir(POSTGRES_ROOT) : [];
  const candidates = majors
    .filter((name) => /^\d+$/.test(name) && existsSync(path.join(POSTGRES_ROOT, name, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a));
  const newest = candidates[0];
  if (newest === undefined) {
    throw new Error(
      `PostgreSQL server binaries not found under ${POSTGRES_ROOT}/*/bin; install the Debian package \`postgresql\` (infra/local/ensure-deps.sh does)`,
    );
  }
  return path.join(POSTGRES_ROOT, newest, "bin");
}

/**
 * Starts a private Postgres that listens only on a unix socket (`listen_addresses=''`), so it
 * touches no network and is reachable from inside network namespaces. Runs as the `postgres`
 * account (Postgres refuses root), runs initdb on first use, clears a stale `postmaster.pid`
 * left by a killed run, and creates the database when missing.
 *
 * @example
 * const pg = await startPostgres({ dataDir: "/tmp/lt-123/pg", ephemeral: true });
 * // pg.url === "postgres://postgres@localhost/labnet?host=/tmp/lt-123/pg/socket"
 * await pg.stop();
 */
export async function startPostgres(options: StartPostgresOptions): Promise<PostgresServer> {
  const database = options.database ?? "labnet";
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, "data");
  const socketDir = path.join(dataDir, "socket");
  const logFile = path.join(dataDir, "postgres.log");
  assertSocketPathFits(path.join(socketDir, `.s.PGSQL.${PORT}.lock`));

  const binDir = await findPostgresBinDir();
  const account = await ensureSystemUser("postgres");
  await prepareDirectories(dataDir, clusterDir, socketDir, account);
  await initClusterIfMissing(binDir, clusterDir, account, options.ephemeral ?? false);
  await stopStalePostgres(dataDir);

  const log = await open(logFile, "a");
  const settings = [
    "listen_addresses=",
    `unix_socket_directories=${socketDir}`,
    "unix_socket_permissions=0777",
    `max_connections=${options.maxConnections ?? 200}`,
    ...(options.ephemeral ? ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] : []),
  ];
  let child: ChildProcess;
  try {
    child = spawn(path.join(binDir, "postgres"), ["-D", clusterDir, ...settings.flatMap((s) => ["-c", s])], {
      cwd: clusterDir,
      uid: account.uid,
      gid: account.gid,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" },
      stdio: ["ignore", log.fd, log.fd],
      // Its own process group: a terminal Ctrl-C reaches only our supervisor, which stops the
      // server after the services that use it.
      detached: true,
    });
  } finally {
    await log.close();
  }
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`could not spawn ${path.join(binDir, "postgres")}`);
  }

  const stop = async (): Promise<void> => {
    // SIGINT is Postgres' fast shutdown; SIGQUIT its immediate one.
    const status = await terminateChild(child, { signal: "SIGINT", timeoutMs: 30_000 });
    if (status.signal === "SIGKILL") {
      await sleep(100);
    }
  };

  try {
    await waitForPostgres(child, socketDir, logFile, options.startTimeoutMs ?? 60_000);
    await createDatabaseIfMissing(socketDir, database);
  } catch (error) {
    await stop();
    throw error;
  }
  const query = `host=${toFileUrlSafePath(socketDir)}`;
  return {
    url: `postgres://postgres@localhost/${database}?${query}`,
    socketDir,
    dataDir,
    logFile,
    pid,
    stop,
  };
}

/**
 * Stops a server left running on `dataDir` by a run that died without cleaning up (found by its
 * `postmaster.pid`, and only if that PID really is a postmaster of this very cluster), and
 * removes stale lock files whose PID is gone or was reused. Returns the PID it stopped, if any.
 */
export async function stopStalePostgres(dataDir: string): Promise<number | undefined> {
  const clusterDir = path.join(path.resolve(dataDir), "data");
  const socketDir = path.join(path.resolve(dataDir), "socket");
  const pidFile = path.join(clusterDir, "postmaster.pid");
  let content: string;
  try {
    content = await readFile(pidFile, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number(content.split("\n")[0]);
  let stopped: number | undefined;
  if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) && (await isPostmasterOf(pid, clusterDir))) {
    process.kill(pid, "SIGINT");
    if (!(await waitForPidGone(pid, 30_000))) {
      process.kill(pid, "SIGQUIT");
      await waitForPidGone(pid, 10_000);
    }
    stopped = pid;
  }
  // Postgres itself ignores a lock whose PID is dead, but refuses one whose PID was reused.
  await rm(pidFile, { force: true });
  await rm(path.join(socketDir, `.s.PGSQL.${PORT}.lock`), { force: true });
  await rm(path.join(socketDir, `.s.PGSQL.${PORT}`), { force: true });
  return stopped;
}

async function isPostmasterOf(pid: number, clusterDir: string): Promise<boolean> {
  const argv = await readProcessArgv(pid);
  if (!argv || path.basename(argv[0] ?? "") !== "postgres") {
    return false;
  }
  const dashD = argv.indexOf("-D");
  return dashD >= 0 && argv[dashD + 1] === clusterDir;
}

async function prepareDirectories(
  dataDir: string,
  clusterDir: string,
  socketDir: string,
  account: SystemUser,
): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  await chmod(dataDir, 0o755);
  if (!(await isReachableBy(account, dataDir))) {
    throw new Error(
      `the postgres account cannot reach ${dataDir}: a parent directory is not searchable by other users (e.g. /root is 0700). Choose a data directory outside it (LABNET_DATA_DIR=/var/lib/labnet).`,
    );
  }
  for (const [dir, mode] of [
    [clusterDir, 0o700],
    [socketDir, 0o755],
  ] as const) {
    await mkdir(dir, { recursive: true, mode });
    await chown(dir, account.uid, account.gid);
    await chmod(dir, mode);
  }
}

/**
 * Whether the `postgres` account can traverse to `dir` (an existing directory). A checkout under
 * a private home (`/root` is 0700) cannot hold the cluster.
 */
export async function isReachableByPostgres(dir: string): Promise<boolean> {
  const account = await ensureSystemUser("postgres");
  return isReachableBy(account, dir);
}

async function isReachableBy(account: SystemUser, dir: string): Promise<boolean> {
  const result = await runCommand(["test", "-x", dir], { uid: account.uid, gid: account.gid });
  return result.code === 0;
}

async function initClusterIfMissing(
  binDir: string,
  clusterDir: string,
  account: SystemUser,
  ephemeral: boolean,
): Promise<void> {
  const installedMajor = path.basename(path.dirname(binDir));
  const versionFile = path.join(clusterDir, "PG_VERSION");
  if (existsSync(versionFile)) {
    const clusterMajor = (await readFile(versionFile, "utf8")).trim();
    if (clusterMajor !== installedMajor) {
      throw new Error(
        `the cluster in ${clusterDir} was made by PostgreSQL ${clusterMajor}, but ${installedMajor} is installed; remove the directory or install PostgreSQL ${clusterMajor}`,
      );
    }
    return;
  }
  if ((await readdir(clusterDir)).length > 0) {
    throw new Error(
      `${clusterDir} is not empty but holds no cluster (no PG_VERSION); remove it and start again`,
    );
  }
  await runCommandOrThrow(
    [
      path.join(binDir, "initdb"),
      "-D",
      clusterDir,
      "--auth=trust",
      "-U",
      "postgres",
      "--encoding=UTF8",
      "--locale=C",
      ...(ephemeral ? ["--no-sync"] : []),
    ],
    {
      uid: account.uid,
      gid: account.gid,
      cwd: clusterDir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" },
    },
  );
}

function connectAdmin(socketDir: string, database: string) {
  return postgres({
    host: socketDir,
    port: PORT,
    user: "postgres",
    database,
    max: 1,
    connect_timeout: 2,
    idle_timeout: 1,
    onnotice: () => {},
  });
}

async function waitForPostgres(child: ChildProcess, socketDir: string, logFile: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `postgres exited during start (${child.exitCode ?? child.signalCode}):\n${await tail(logFile)}`,
      );
    }
    if (existsSync(path.join(socketDir, `.s.PGSQL.${PORT}`))) {
      const sql = connectAdmin(socketDir, "postgres");
      try {
        await sql`select 1`;
        return;
      } catch (error) {
        lastError = error;
      } finally {
        await sql.end({ timeout: 1 });
      }
    }
    await sleep(100);
  }
  throw new Error(
    `postgres did not accept connections within ${timeoutMs} ms (${String(lastError)}):\n${await tail(logFile)}`,
  );
}

async function createDatabaseIfMissing(socketDir: string, database: string): Promise<void> {
  const sql = connectAdmin(socketDir, "postgres");
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) {
      await sql.unsafe(`create database "${database.replaceAll('"', '""')}"`);
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function tail(file: string, lines = 20): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no server log)";
  }
}
