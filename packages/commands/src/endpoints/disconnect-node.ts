import { deleteEndpoint, findEndpoint, type NodeRow, type OperationRow } from "@labnet/db";
import type { CommandContext } from "../context";
import { DomainError } from "../errors";
import { isOverlay, leaveOverlays } from "../networks/overlay-attach";
import { recordNodeOperation } from "../operations/record-operation";
import { lockAttachment, resolveAttachment } from "./attachment";

export interface DisconnectNodeInput {
  /** The network (id or name), from the path. */
  network: string;
  /** The node (id or name) on the network's host. */
  node: string;
}

/**
 * Disconnects a node from a network, like `docker network disconnect`: the endpoint goes
 * with its address (free for the next node at once: jobs of a host run in order, so the
 * veth is gone before anyone else's is built) and a `node.ensure` removes its veth. When
 * it carried the default route, the route moves to the next endpoint's gateway.
 */
export async function disconnectNode({
  ctx,
  input,
}: {
  ctx: CommandContext;
  input: DisconnectNodeInput;
}): Promise<{ node: NodeRow; operation: OperationRow }> {
  const { network, node: found } = await resolveAttachment(ctx, input);
  const result = await ctx.db.transaction(async (tx) => {
    const node = await lockAttachment(tx, found, input.node);
    const endpoint = await findEndpoint(tx, node.id, network.id);
    if (!endpoint) {
      const message = `node ${node.name} is not connected to network ${network.name}`;
      throw new DomainError("CONFLICT", message, [{ location: "body.node", message: "not connected" }]);
    }
    await deleteEndpoint(tx, endpoint.id);
    if (isOverlay(network)) {
      await leaveOverlays(tx, node, [network.id]);
    }
    const operation = await recordNodeOperation(tx, node);
    return { node, operation };
  });
  ctx.onOperationsWritten?.();
  return result;
}
