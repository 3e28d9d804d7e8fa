import {
  insertOperation,
  type NetworkRow,
  type NodeRow,
  type OperationKind,
  type OperationRow,
  schema,
  type Tx,
} from "@labnet/db";
import { and, eq } from "drizzle-orm";

/**
 * Writes the outbox row that has the executor converge a node (`node.ensure`) or tear it
 * down (`node.remove`). Call it in the transaction that changed the node's desired state.
 * A `failed` node is left out of its host's desired state (it has no kernel side); asking
 * to ensure it again (pass the row, with its state) makes it `pending`, so the next
 * converge tries it again.
 */
export async function recordNodeOperation(
  tx: Tx,
  node: Pick<NodeRow, "id" | "hostId"> & { state?: NodeRow["state"] },
  kind: Extract<OperationKind, `node.${string}`> = "node.ensure",
): Promise<OperationRow> {
  // Only rows known to be failed (a new node is pending): no extra statement on the hot path.
  if (kind === "node.ensure" && node.state === "failed") {
    await tx
      .update(schema.nodes)
      .set({ state: "pending" })
      .where(and(eq(schema.nodes.id, node.id), eq(schema.nodes.state, "failed")));
  }
  return insertOperation(tx, { kind, hostId: node.hostId, targetType: "node", targetId: node.id });
}

/** Likewise for a network: build or repair it (`network.ensure`), or remove it (`network.remove`). */
export async function recordNetworkOperation(
  tx: Tx,
  network: Pick<NetworkRow, "id" | "hostId"> & { state?: NetworkRow["state"] },
  kind: Extract<OperationKind, `network.${string}`>,
): Promise<OperationRow> {
  if (!network.hostId) {
    throw new Error(`network ${network.id} has no host to carry out ${kind}`);
  }
  if (kind === "network.ensure" && network.state === "failed") {
    await tx
      .update(schema.networks)
      .set({ state: "pending" })
      .where(and(eq(schema.networks.id, network.id), eq(schema.networks.state, "failed")));
  }
  return insertOperation(tx, { kind, hostId: network.hostId, targetType: "network", targetId: network.id });
}
