/**
 * Exec instances (`docker exec` is three calls: create, start on a hijacked connection, inspect for
 * the exit code) and which nodes a docker client attached to, kept in Redis for an hour so any
 * gateway process can serve the next call.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

export interface DockerExec {
  id: string;
  nodeId: string;
  machineId: string;
  argv: string[];
  tty: boolean;
  running: boolean;
  /** Set once it ended (before its stream closes, so the client's inspect right after sees it). */
  exitCode: number | null;
}

const TTL_SECONDS = 3600;
const execKey = (id: string) => `labnet-docker-exec-${id}`;
const attachedKey = (nodeId: string) => `labnet-docker-attached-${nodeId}`;

export async function createExec(
  redis: Redis,
  exec: Omit<DockerExec, "id" | "running" | "exitCode">,
): Promise<DockerExec> {
  const record: DockerExec = { ...exec, id: randomBytes(32).toString("hex"), running: false, exitCode: null };
  await redis.set(execKey(record.id), JSON.stringify(record), "EX", TTL_SECONDS);
  return record;
}

export async function findExec(redis: Redis, id: string): Promise<DockerExec | undefined> {
  if (!/^[0-9a-f]{64}$/.test(id)) {
    return undefined;
  }
  const raw = await redis.get(execKey(id));
  return raw ? (JSON.parse(raw) as DockerExec) : undefined;
}

export async function saveExec(redis: Redis, exec: DockerExec): Promise<void> {
  await redis.set(execKey(exec.id), JSON.stringify(exec), "EX", TTL_SECONDS);
}

/** A client attached to the node (`docker run` without -d): its start is then the whole run. */
export async function markAttached(redis: Redis, nodeId: string): Promise<void> {
  await redis.set(attachedKey(nodeId), "1", "EX", TTL_SECONDS);
}

export async function wasAttached(redis: Redis, nodeId: string): Promise<boolean> {
  return (await redis.exists(attachedKey(nodeId))) === 1;
}
