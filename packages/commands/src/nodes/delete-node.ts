import {
  latestOperationFor,
  lockNodesForRemoval,
  markNodeForRemoval,
  type NodeRow,
  type OperationRow,
  pipelined,
  setNodeState,
} from "@labnet/db";
import type { CommandContext } from "../context";
import { DomainError } from "../errors";
import { unforwardMachinePorts } from "../machines/forward-ports";
import { notifyOverlayPeers } from "../networks/overlay-attach";
import { recordNodeOperation } from "../operations/record-operation";
import { pickOne } from "../resolve";

/** Label of a lab host's node that is a virtual machine's uplink (its value: the machine id). */
export const MACHINE_LABEL = "labnet.machine";

/**
 * Marks a node for removal and records the operation that tears its sandbox down. Its
 * addresses stay allocated until the executor has removed the kernel objects that use
 * them. Deleting a node already being deleted returns the pending operation.
 */
export async function deleteNode({
  ctx,
  ref,
}: {
  ctx: CommandContext;
  ref: string;
}): Promise<{ node: NodeRow; operation: OperationRow }> {
  const result = await ctx.db.transaction(async (tx) => {
    // Found, locked and read in one statement: each round trip costs the accept path. A node
    // named by its id is marked for removal in the same round trip, before its checks are
    // read; a check that refuses rolls the mark back with the transaction.
    const byId = ref.startsWith("nod_");
    const [locked, marked] = await pipelined(lockNodesForRemoval(tx, ref), async () =>
      byId
        ? Promise.all([markNodeForRemoval(tx, ref), unforwardMachinePorts(tx, { nodeId: ref })])
        : undefined,
    );
    const { sharingNames, overlayIds: overlays, ...node } = pickOne(locked, "node", ref, "path.nodeId");
    if (node.labels[MACHINE_LABEL] && node.state !== "deleting") {
      throw new DomainError(
        "CONFLICT",
        `node ${node.name} is the uplink of machine ${node.labels[MACHINE_LABEL]}: delete the machine instead`,
        [{ location: "path.nodeId", message: "a machine's uplink" }],
      );
    }
    // Nodes in mode container:<this> live in this node's namespace; it goes with the node.
    if (node.state !== "deleting" && sharingNames.length > 0) {
      const names = sharingNames.join(", ");
      throw new DomainError(
        "CONFLICT",
        `node ${node.name} shares its network namespace with ${names}: remove them first`,
        [{ location: "path.nodeId", message: `namespace shared with ${names}` }],
      );
    }
    const [premarked] = marked ?? [];
    if (premarked) {
      // The other machines on its overlays drop its forwarding entries.
      await notifyOverlayPeers(tx, overlays, node.hostId);
      return { node: { ...node, state: "deleting" as const }, operation: premarked, written: true };
    }
    if (node.state === "deleting") {
      const pending = (await latestOperationFor(tx, [node.id])).get(node.id);
      if (pending && pending.kind === "node.remove" && pending.state !== "failed") {
        return { node, operation: pending, written: false };
      }
    }
    // Independent writes, sent together (they run in this order): one round trip for all.
    const [, operation] = await Promise.all([
      setNodeState(tx, node.id, "deleting"),
      recordNodeOperation(tx, node, "node.remove"),
      unforwardMachinePorts(tx, { nodeId: node.id }),
      // The other machines on its overlays drop its forwarding entries.
      notifyOverlayPeers(tx, overlays, node.hostId),
    ]);
    return { node: { ...node, state: "deleting" as const }, operation, written: true };
  });
  if (result.written) {
    ctx.onOperationsWritten?.();
  }
  return { node: result.node, operation: result.operation };
}
