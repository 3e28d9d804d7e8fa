import {
  deleteEndpointsOfNetwork,
  endpointsOnNetworks,
  getNetwork,
  latestOperationFor,
  lockNetworks,
  type NetworkRow,
  type OperationRow,
  schema,
  setNetworkState,
  type Tx,
} from "@labnet/db";
import { asc, eq, inArray } from "drizzle-orm";
import type { CommandContext } from "../context";
import { DomainError } from "../errors";
import { recordNetworkOperation, recordNodeOperation } from "../operations/record-operation";
import { resolveNetwork } from "../resolve";
import { leaveOverlays } from "./overlay-attach";

/** Names Docker predefines besides `bridge`; Labnet has no such networks, but they are never removable. */
const PREDEFINED_WITHOUT_RECORD = ["host", "none"];

/**
 * Marks a network for removal and records the operation that tears it down. Refused for
 * predefined networks, and for networks with endpoints of nodes not being removed (a
 * network of one host waits for those being removed) unless `force` (then every
 * endpoint is disconnected first: one `node.ensure` per node, so each node's default
 * route moves on, then the `network.remove`). The checks run under the network's row
 * lock, which node creation and connect also take, so no endpoint can sneak in.
 */
export async function deleteNetwork({
  ctx,
  ref,
  force = false,
}: {
  ctx: CommandContext;
  ref: string;
  force?: boolean;
}): Promise<{ network: NetworkRow; operation: OperationRow }> {
  if (PREDEFINED_WITHOUT_RECORD.includes(ref)) {
    throw predefined(ref);
  }
  const found = await resolveNetwork(ctx.db, ref);
  const result = await ctx.db.transaction(async (tx) => {
    await lockNetworks(tx, [found.id]);
    const network = await getNetwork(tx, found.id);
    if (!network) {
      throw new DomainError("NOT_FOUND", `network ${ref} not found`);
    }
    if (network.builtin) {
      throw predefined(network.name);
    }
    if (network.state === "deleting") {
      const pending = (await latestOperationFor(tx, [network.id])).get(network.id);
      if (pending && pending.kind === "network.remove" && pending.state !== "failed") {
        return { network, operation: pending, written: false };
      }
    }
    const attached = await endpointsOnNetworks(tx, [network.id]);
    // Nodes already being removed do not hold a network of one host: its removal is served
    // with theirs, or by a converge after theirs (the executor holds it back until they are
    // gone), so a script may remove the nodes and then the network without waiting between.
    const holding = network.hostId === null ? attached : attached.filter((a) => a.nodeState !== "deleting");
    if (holding.length > 0 && !force) {
      const names = [...new Set(holding.map((a) => a.nodeName))].join(", ");
      throw new DomainError("NETWORK_IN_USE", `network ${network.name} has active endpoints (${names})`, [
        { location: "path.networkId", message: `in use by ${names}` },
      ]);
    }
    const machines = holding.length > 0 ? await disconnectAll(tx, network) : [];
    const operation = await markForRemoval(tx, network, machines);
    return { network: { ...network, state: "deleting" as const }, operation, written: true };
  });
  if (result.written) {
    ctx.onOperationsWritten?.();
  }
  return { network: result.network, operation: result.operation };
}

/**
 * Marks a locked network `deleting` and records its `network.remove`: on its host, or for an
 * overlay (no host of its own) on the machine that created it.
 */
export async function markForRemoval(
  tx: Tx,
  network: NetworkRow,
  /** An overlay's machines that had endpoints on it: each removes its part (see settleOperations). */
  machines: readonly string[] = [],
): Promise<OperationRow> {
  await setNetworkState(tx, network.id, "deleting");
  const hostId = network.hostId ?? (await firstOperationHost(tx, network.id));
  const operation = await recordNetworkOperation(tx, { ...network, hostId }, "network.remove");
  for (const machine of new Set(machines)) {
    if (network.hostId === null && machine !== hostId) {
      await recordNetworkOperation(tx, { ...network, hostId: machine }, "network.remove");
    }
  }
  return operation;
}

/** The machine the first operation of a target went to (an overlay's creator). */
async function firstOperationHost(tx: Tx, targetId: string): Promise<string | null> {
  const [row] = await tx
    .select({ hostId: schema.operations.hostId })
    .from(schema.operations)
    .where(eq(schema.operations.targetId, targetId))
    .orderBy(asc(schema.operations.createdAt))
    .limit(1);
  return row?.hostId ?? null;
}

/**
 * Drops every endpoint of a locked network (their addresses go with them) and records a
 * `node.ensure` per affected node, before the network's own removal: each converges the
 * whole host, so the veths go and each node's default route is re-planned.
 */
async function disconnectAll(tx: Tx, network: NetworkRow): Promise<string[]> {
  // A local network's nodes are on its host.
  const hostId = network.hostId;
  if (!hostId) {
    return disconnectAllFromOverlay(tx, network);
  }
  for (const nodeId of await deleteEndpointsOfNetwork(tx, network.id)) {
    await recordNodeOperation(tx, { id: nodeId, hostId });
  }
  return [hostId];
}

/**
 * The same for an overlay, whose nodes are on several machines: each node also leaves its
 * docker_gwbridge when this was its last overlay. Returns the machines the nodes are on.
 */
async function disconnectAllFromOverlay(tx: Tx, network: NetworkRow): Promise<string[]> {
  const attached = await tx
    .select()
    .from(schema.nodes)
    .where(
      inArray(
        schema.nodes.id,
        tx
          .select({ id: schema.endpoints.nodeId })
          .from(schema.endpoints)
          .where(eq(schema.endpoints.networkId, network.id)),
      ),
    );
  await deleteEndpointsOfNetwork(tx, network.id);
  for (const node of attached) {
    await leaveOverlays(tx, node, [network.id]);
    await recordNodeOperation(tx, node);
  }
  return [...new Set(attached.map((n) => n.hostId))].sort();
}

function predefined(name: string): DomainError {
  return new DomainError("FORBIDDEN", `${name} is a pre-defined network and cannot be removed`, [
    { location: "path.networkId", message: "pre-defined network" },
  ]);
}
