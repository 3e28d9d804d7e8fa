/**
 * What the facade's routes share: a container named as dockerd resolves one (whole id, name with or
 * without its `/`, unique id prefix) among the machine's nodes, and waiting for the kernel work a
 * change started, so a docker command returns once it is done as it does against dockerd.
 */
import { MACHINE_LABEL } from "@labnet/commands";
import {
  type Db,
  findHost,
  findNodes,
  getOperation,
  type HostRow,
  isHostOnline,
  listNodes,
  type NodeRow,
  type OperationRow,
} from "@labnet/db";
import type { OperationWaiter } from "../services/operation-waiter";
import { DockerError } from "./errors";

/** How long a docker call waits for the kernel work it started (dockerd's calls return when it is done). */
export const SETTLE_TIMEOUT_MS = 30_000;

/** The machine's nodes as docker lists them: not a virtual machine's uplink (that is a machine, not a container). */
export async function dockerNodesOf(db: Db, machine: HostRow): Promise<NodeRow[]> {
  return (await listNodes(db, { hostId: machine.id })).filter((n) => !n.labels[MACHINE_LABEL]);
}

/** The node `ref` names on the machine; 404 `No such container: <ref>` otherwise. */
export async function findDockerContainer(db: Db, machine: HostRow, ref: string): Promise<NodeRow> {
  const name = ref.startsWith("/") ? ref.slice(1) : ref;
  const [exact] = (await findNodes(db, name, machine.id)).filter((n) => !n.labels[MACHINE_LABEL]);
  if (exact) {
    return exact;
  }
  const prefixed =
    name.length >= 4 ? (await dockerNodesOf(db, machine)).filter((n) => n.id.startsWith(name)) : [];
  const [only, ...more] = prefixed;
  if (only && more.length === 0) {
    return only;
  }
  throw new DockerError(404, `No such container: ${ref}`);
}

/**
 * Waits for an operation (at most {@link SETTLE_TIMEOUT_MS}) while its lab host's executor is
 * online; a failed one is dockerd's 500 with the executor's problem. Still running after the wait:
 * answered as done, the state shows it.
 */
export async function settle(
  deps: { db: Db; waiter: OperationWaiter },
  operation: OperationRow,
): Promise<void> {
  // No executor to carry it out (its lab host is offline): nothing to wait for.
  const host = await findHost(deps.db, operation.hostId);
  const labHost = host?.parentHostId ? await findHost(deps.db, host.parentHostId) : host;
  if (!labHost || !isHostOnline(labHost)) {
    return;
  }
  await deps.waiter.wait(operation.id, SETTLE_TIMEOUT_MS);
  const done = await getOperation(deps.db, operation.id);
  if (done?.state === "failed") {
    throw new DockerError(500, done.error?.detail ?? `${operation.kind} failed`);
  }
}
