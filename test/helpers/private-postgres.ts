import path from "node:path";
import { migrateDatabase, type PostgresServer, recordChild, startPostgres } from "@labnet/devstack";
import { inject } from "vitest";
import { childRegistryOf } from "../setup/run";

/** A Postgres of one test file's own, which the file may stop, restart and take away. */
export interface PrivatePostgres {
  /** `postgres://postgres@localhost/labnet?host=<socket dir>`, migrated. */
  url: string;
  socketDir: string;
  /** True while the server runs. */
  readonly running: boolean;
  /** Fast shutdown (SIGINT, what `pg_ctl stop -m fast` sends): sessions are terminated. */
  stop(): Promise<void>;
  /** Starts it again on the same cluster (same socket, same data). */
  start(): Promise<void>;
  /** `pg_ctl restart -m fast`: stop, stay down `downMs`, start. */
  restart(downMs?: number): Promise<void>;
}

/**
 * Starts a private server under `<runDir>/<name>` (unix socket only) with a migrated `labnet`
 * database, for tests that restart or stop Postgres: the run's shared server is never disturbed.
 * Its PIDs are recorded, so a killed run's sweep ends it; stop it in afterAll.
 */
export async function startPrivatePostgres(name: string): Promise<PrivatePostgres> {
  const runDir = inject("runDir");
  const dataDir = path.join(runDir, name);
  const launch = async (): Promise<PostgresServer> => {
    const server = await startPostgres({ dataDir, ephemeral: true, maxConnections: 100 });
    await recordChild(childRegistryOf(runDir), server.pid);
    return server;
  };
  let server: PostgresServer | undefined = await launch();
  await migrateDatabase(server.url);
  const { url, socketDir } = server;
  const stop = async () => {
    const running = server;
    server = undefined;
    await running?.stop();
  };
  const start = async () => {
    if (!server) {
      server = await launch();
    }
  };
  return {
    url,
    socketDir,
    get running() {
      return server !== undefined;
    },
    stop,
    start,
    async restart(downMs = 0) {
      await stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
  };
}
