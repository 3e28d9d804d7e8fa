import { lockNode, type NetworkRow, type NodeRow, type Tx } from "@labnet/db";
import type { CommandContext } from "../context";
import { DomainError, notFound } from "../errors";
import { resolveHost, resolveNetwork, resolveNodeOnHost } from "../resolve";

/** The network of a connect/disconnect call and the node it names on the network's host. */
export async function resolveAttachment(
  ctx: CommandContext,
  input: { network: string; node: string },
): Promise<{ network: NetworkRow; node: NodeRow }> {
  const network = await resolveNetwork(ctx.db, input.network);
  const host = network.hostId ? await resolveHost(ctx.db, network.hostId) : undefined;
  const node = await resolveNodeOnHost(ctx.db, input.node, host, "body.node");
  return { network, node };
}

/**
 * Takes the node's row lock and returns the node as it is now, refusing one that cannot
 * gain or lose endpoints. The network is not locked here: attaching share-locks it (and
 * re-checks that it is not being removed) in the statement that records the endpoint, so
 * connects and node creations on one network do not queue behind each other.
 */
export async function lockAttachment(tx: Tx, found: NodeRow, ref: string): Promise<NodeRow> {
  const node = await lockNode(tx, found.id);
  if (!node) {
    throw notFound("node", ref, "body.node");
  }
  assertConnectable(node, "body.node");
  return node;
}

/** Refuses nodes that cannot gain or lose endpoints: being removed, or without a sandbox of their own. */
export function assertConnectable(node: NodeRow, location: string): void {
  if (node.state === "deleting") {
    throw new DomainError("CONFLICT", `node ${node.name} is being removed`, [
      { location, message: "node is being removed" },
    ]);
  }
  if (node.networkMode === "host" || node.netnsOwnerId !== null) {
    const message =
      node.networkMode === "host"
        ? `node ${node.name} is in network mode host: it shares the host's network namespace and has no endpoints of its own`
        : `node ${node.name} is in network mode ${node.networkMode}: it shares that node's network namespace and has no endpoints of its own`;
    throw new DomainError("CONFLICT", message, [{ location, message: `network mode ${node.networkMode}` }]);
  }
}
