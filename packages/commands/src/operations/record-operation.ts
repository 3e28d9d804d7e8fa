import { insertOperation, type NetworkRow, type NodeRow, type OperationRow, type Tx } from "@labnet/db";

/**
 * Writes the outbox row that has the executor converge a node (`node.ensure`) or tear it
 * down (`node.remove`). Call it in the transaction that changed the node's desired state.
 */
export function recordNodeOperation(
  tx: Tx,
  node: Pick<NodeRow, "id" | "hostId">,
  kind: "node.ensure" | "node.remove" = "node.ensure",
): Promise<OperationRow> {
  return insertOperation(tx, { kind, hostId: node.hostId, targetType: "node", targetId: node.id });
}

/** Likewise for a network: build or repair it (`network.ensure`), or remove it (`network.remove`). */
export function recordNetworkOperation(
  tx: Tx,
  network: Pick<NetworkRow, "id" | "hostId">,
  kind: "network.ensure" | "network.remove",
): Promise<OperationRow> {
  if (!network.hostId) {
    throw new Error(`network ${network.id} has no host to carry out ${kind}`);
  }
  return insertOperation(tx, { kind, hostId: network.hostId, targetType: "network", targetId: network.id });
}
