import {
  latestOperationFor,
  lockNode,
  type NodeRow,
  nodesSharingNetns,
  type OperationRow,
  setNodeState,
} from "@labnet/db";
import type { CommandContext } from "../context";
import { DomainError, notFound } from "../errors";
import { unforwardMachinePorts } from "../machines/forward-ports";
import { notifyOverlayPeers, overlaysOfNode } from "../networks/overlay-attach";
import { recordNodeOperation } from "../operations/record-operation";
import { resolveNode } from "../resolve";

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
  const found = await resolveNode(ctx.db, ref);
  const result = await ctx.db.transaction(async (tx) => {
    const node = await lockNode(tx, found.id);
    if (!node) {
      throw notFound("node", ref, "path.nodeId");
    }
    if (node.labels[MACHINE_LABEL] && node.state !== "deleting") {
      throw new DomainError(
        "CONFLICT",
        `node ${node.name} is the uplink of machine ${node.labels[MACHINE_LABEL]}: delete the machine instead`,
        [{ location: "path.nodeId", message: "a machine's uplink" }],
      );
    }
    // Nodes in mode container:<this> live in this node's namespace; it goes with the node.
    const sharing = node.state === "deleting" ? [] : await nodesSharingNetns(tx, node.id);
    if (sharing.length > 0) {
      const names = sharing.map((n) => n.name).join(", ");
      throw new DomainError(
        "CONFLICT",
        `node ${node.name} shares its network namespace with ${names}: remove them first`,
        [{ location: "path.nodeId", message: `namespace shared with ${names}` }],
      );
    }
    if (node.state === "deleting") {
      const pending = (await latestOperationFor(tx, [node.id])).get(node.id);
      if (pending && pending.kind === "node.remove" && pending.state !== "failed") {
        return { node, operation: pending, written: false };
      }
    }
    await setNodeState(tx, node.id, "deleting");
    await unforwardMachinePorts(tx, { nodeId: node.id });
    // The other machines on its overlays drop its forwarding entries.
    await notifyOverlayPeers(tx, await overlaysOfNode(tx, node.id), node.hostId);
    const operation = await recordNodeOperation(tx, node, "node.remove");
    return { node: { ...node, state: "deleting" as const }, operation, written: true };
  });
  if (result.written) {
    ctx.onOperationsWritten?.();
  }
  return { node: result.node, operation: result.operation };
}
