/**
 * Global setup of the `integration` and `e2e` projects: one private Postgres and Redis per
 * vitest run (unix sockets under /tmp/lt-<pid>), migrated, handed to tests via `inject()`.
 * Both projects name this file; they share one stack through a reference count.
 */
import "./provided";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  killRecordedChildren,
  migrateDatabase,
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startRedis,
} from "@labnet/devstack";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { childRegistryOf, removeRunNamespaces, runDirFor, runPrefixFor, sweepStaleRuns } from "./run";

const TEMPLATE_DATABASE = "labnet_template";

interface Stack {
  databaseUrl: string;
  templateDatabase: string;
  redisUrl: string;
  runPrefix: string;
  runDir: string;
  postgres: PostgresServer;
  redis: RedisServer;
}

interface Shared {
  refs: number;
  stack: Promise<Stack>;
}

// Each project loads this module on its own; the stack is per process.
const SHARED = Symbol.for("labnet.test.stack");
const registry = globalThis as { [SHARED]?: Shared };

function log(line: string): void {
  process.stderr.write(`[test-setup] ${line}\n`);
}

async function startStack(): Promise<Stack> {
  const runPrefix = runPrefixFor(process.pid);
  const runDir = runDirFor(process.pid);
  const swept = await sweepStaleRuns();
  if (swept.length > 0) {
    log(`swept leftovers of earlier runs: ${swept.join(" ")}`);
  }
  await mkdir(path.join(runDir, "logs"), { recursive: true });
  // The postgres account must traverse it, whatever the umask.
  await chmod(runDir, 0o755);
  await writeFile(path.join(runDir, "owner"), `${process.pid}\n`);

  const [pg, redis] = await Promise.all([
    startPostgres({ dataDir: path.join(runDir, "pg"), database: TEMPLATE_DATABASE, ephemeral: true }),
    startRedis({ dataDir: path.join(runDir, "redis") }),
  ]);
  try {
    // Migrate a template once; the shared database is a copy of it, and tests that need a
    // database of their own clone the template (no connections may be open to it).
    await migrateDatabase(pg.url);
    const admin = postgres({
      host: pg.socketDir,
      user: "postgres",
      database: "postgres",
      max: 1,
      onnotice: () => {},
    });
    try {
      await admin.unsafe(`create database labnet template ${TEMPLATE_DATABASE}`);
    } finally {
      await admin.end({ timeout: 5 });
    }
  } catch (error) {
    await redis.stop();
    await pg.stop();
    throw error;
  }
  return {
    databaseUrl: withDatabase(pg.url, "labnet"),
    templateDatabase: TEMPLATE_DATABASE,
    redisUrl: redis.url,
    runPrefix,
    runDir,
    postgres: pg,
    redis,
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function stopStack(stack: Stack): Promise<void> {
  // Children first (they hold connections and sit in namespaces), then the namespaces, then
  // the servers. The run directory stays when something could not be removed, so the next
  // run's sweep finds it.
  await killRecordedChildren(childRegistryOf(stack.runDir));
  let clean = true;
  try {
    await removeRunNamespaces(stack.runPrefix);
  } catch (error) {
    clean = false;
    log(`could not remove this run's namespaces: ${error instanceof Error ? error.message : String(error)}`);
  }
  await stack.redis.stop();
  await stack.postgres.stop();
  if (clean && process.env.LABNET_TEST_KEEP_RUN_DIR !== "1") {
    await rm(stack.runDir, { recursive: true, force: true });
  }
}

/** Vitest global setup: starts (or joins) the run's stack and provides its coordinates. */
export async function setup(project: TestProject): Promise<void> {
  let shared = registry[SHARED];
  if (!shared) {
    shared = { refs: 0, stack: startStack() };
    registry[SHARED] = shared;
  }
  shared.refs += 1;
  const stack = await shared.stack;
  project.provide("databaseUrl", stack.databaseUrl);
  project.provide("templateDatabase", stack.templateDatabase);
  project.provide("redisUrl", stack.redisUrl);
  project.provide("runPrefix", stack.runPrefix);
  project.provide("runDir", stack.runDir);
}

/** Vitest global teardown: the last project out stops the stack and removes the run's namespaces. */
export async function teardown(): Promise<void> {
  const shared = registry[SHARED];
  if (!shared) {
    return;
  }
  shared.refs -= 1;
  if (shared.refs > 0) {
    return;
  }
  registry[SHARED] = undefined;
  const stack = await shared.stack.catch(() => undefined);
  if (stack) {
    await stopStack(stack);
  }
}
