import {
  getNode,
  latestOperationFor,
  lockNode,
  type NodeRow,
  type OperationRow,
  setNodeState,
} from "@labnet/db";
import type { CommandContext } from "../context";
import { notFound } from "../errors";
import { recordNodeOperation } from "../operations/record-operation";
import { resolveNode } from "../resolve";
import { notStartedOwner } from "./create-node";

/**
 * Starts a node recorded without its kernel side (state `created`, `docker create`): it becomes
 * `pending`, with the operation that builds its sandbox (`started`). A node in any other state is
 * left as it is (its newest operation is returned, if any), as dockerd starts a running container
 * again without error. A node in another's namespace starts only once that one has.
 */
export async function startNode({
  ctx,
  ref,
}: {
  ctx: CommandContext;
  ref: string;
}): Promise<{ node: NodeRow; operation: OperationRow | undefined; started: boolean }> {
  const found = await resolveNode(ctx.db, ref);
  const result = await ctx.db.transaction(async (tx) => {
    const node = await lockNode(tx, found.id);
    if (!node) {
      throw notFound("node", ref, "path.nodeId");
    }
    if (node.state !== "created") {
      return { node, operation: (await latestOperationFor(tx, [node.id])).get(node.id), written: false };
    }
    if (node.netnsOwnerId) {
      const owner = await getNode(tx, node.netnsOwnerId);
      if (owner?.state === "created") {
        throw notStartedOwner(owner.name, "path.nodeId");
      }
    }
    await setNodeState(tx, node.id, "pending");
    const operation = await recordNodeOperation(tx, node);
    return { node: { ...node, state: "pending" as const }, operation, written: true };
  });
  if (result.written) {
    ctx.onOperationsWritten?.();
  }
  return { node: result.node, operation: result.operation, started: result.written };
}
