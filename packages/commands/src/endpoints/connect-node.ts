import {
  constraintViolation,
  findHost,
  type HostRow,
  type NodeRow,
  type OperationRow,
  schema,
  type Tx,
  takeNextIfIndex,
} from "@labnet/db";
import { and, eq } from "drizzle-orm";
import type { CommandContext } from "../context";
import { DomainError } from "../errors";
import { bridgeFullProblem } from "../networks/bridge-ports";
import {
  assertOverlayReaches,
  ensureGatewayBridge,
  GATEWAY_BRIDGE_NAME,
  isOverlay,
  notifyOverlayPeers,
} from "../networks/overlay-attach";
import { attach, checkAliases } from "../nodes/attach";
import { recordNodeOperation } from "../operations/record-operation";
import { lockAttachment, resolveAttachment } from "./attachment";

export interface ConnectNodeInput {
  /** The network (id or name), from the path. */
  network: string;
  /** The node (id or name) on the network's host. */
  node: string;
  /** A static address in one of the network's subnets (Docker's `--ip`). */
  ipv4Address?: string;
  /** Extra names on this network (Docker's `--alias`). */
  aliases?: string[];
}

/**
 * Connects a node to one more network, like `docker network connect`: a new endpoint
 * `eth<N>` (N from the node's counter: eth1, eth2, ... in attach order, never reused) with
 * a static or the next free address, and a `node.ensure` that builds it. Refused for nodes
 * without a sandbox of their own (modes host and container:), nodes already on the
 * network, networks of another host and networks that are not attachable.
 */
export async function connectNode({
  ctx,
  input,
}: {
  ctx: CommandContext;
  input: ConnectNodeInput;
}): Promise<{ node: NodeRow; operation: OperationRow }> {
  const aliases = checkAliases(input.aliases, "body.aliases");
  const { network, node: found } = await resolveAttachment(ctx, input);
  try {
    const result = await ctx.db.transaction(async (tx) => {
      const node = await lockAttachment(tx, found, input.node);
      if (!network.attachable) {
        throw new DomainError("CONFLICT", `network ${network.name} is not attachable`, [
          { location: "path.networkId", message: "nodes can only be attached when they are created" },
        ]);
      }
      const inUse = await ifIndexesOf(tx, node.id, network.id, network.name, node.name);
      const ifIndex = await takeNextIfIndex(tx, node, inUse);
      const host = isOverlay(network) ? await findHost(tx, node.hostId) : undefined;
      if (host) {
        await assertOverlayReaches(tx, network, host, "path.networkId");
      }
      await attach(tx, node, network, {
        ifIndex,
        staticAddress: input.ipv4Address,
        aliases,
        locations: { network: "path.networkId", ipv4Address: "body.ipv4Address" },
      });
      if (host) {
        await attachGatewayBridge(tx, ctx, node, host, [...inUse, ifIndex]);
        await notifyOverlayPeers(tx, [network.id], host.id);
      }
      const operation = await recordNodeOperation(tx, node);
      return { node, operation };
    });
    ctx.onOperationsWritten?.();
    return result;
  } catch (error) {
    if (constraintViolation(error)?.constraint === "endpoints_node_network_key") {
      throw alreadyConnected(found.name, network.name);
    }
    throw (await bridgeFullProblem(ctx.db, error, [{ network, location: "path.networkId" }])) ?? error;
  }
}

/** Attaches the node to its machine's docker_gwbridge (its overlay egress) unless it is on it. */
async function attachGatewayBridge(
  tx: Tx,
  ctx: CommandContext,
  node: NodeRow,
  host: HostRow,
  inUse: number[],
): Promise<void> {
  const gateway = await ensureGatewayBridge(tx, ctx, host);
  const [onIt] = await tx
    .select({ id: schema.endpoints.id })
    .from(schema.endpoints)
    .where(and(eq(schema.endpoints.nodeId, node.id), eq(schema.endpoints.networkId, gateway.network.id)));
  if (onIt) {
    return;
  }
  const [row] = await tx.select().from(schema.nodes).where(eq(schema.nodes.id, node.id));
  const ifIndex = await takeNextIfIndex(tx, row ?? node, inUse);
  await attach(
    tx,
    node,
    gateway.network,
    { ifIndex, locations: { network: "path.networkId", ipv4Address: `(${GATEWAY_BRIDGE_NAME})` } },
    gateway.configs,
  );
}

async function ifIndexesOf(
  tx: Tx,
  nodeId: string,
  networkId: string,
  networkName: string,
  nodeName: string,
): Promise<number[]> {
  const rows = await tx
    .select({ ifIndex: schema.endpoints.ifIndex, networkId: schema.endpoints.networkId })
    .from(schema.endpoints)
    .where(eq(schema.endpoints.nodeId, nodeId));
  if (rows.some((r) => r.networkId === networkId)) {
    throw alreadyConnected(nodeName, networkName);
  }
  return rows.map((r) => r.ifIndex);
}

function alreadyConnected(node: string, network: string): DomainError {
  const message = `node ${node} is already connected to network ${network}`;
  return new DomainError("CONFLICT", message, [{ location: "body.node", message: "already connected" }]);
}
