/**
 * What attaching to an overlay network brings along, in the attaching transaction: the
 * machine's gateway bridge (Docker's `docker_gwbridge`) as the node's egress, and the
 * converges of the other machines with endpoints on the overlay, whose vxlan forwarding
 * tables follow the endpoints that come and go.
 */
import {
  anyOf,
  DatabaseLock,
  deleteEndpoint,
  findNetworks,
  type HostRow,
  type IpamConfigRow,
  ipamConfigsOfNetwork,
  type NetworkRow,
  type NodeRow,
  type OperationRow,
  type Tx,
} from "@labnet/db";
import { sql } from "drizzle-orm";
import type { CommandContext } from "../context";
import { DomainError } from "../errors";
import { recordNetworkOperation } from "../operations/record-operation";
import { insertHostNetworkIn } from "./create-network";

/** Docker's name for the per-host bridge that gives overlay nodes their egress. */
export const GATEWAY_BRIDGE_NAME = "docker_gwbridge";

/**
 * The machine's gateway bridge network, recorded now if it has none: a bridge network named
 * `docker_gwbridge` with a subnet from the machine's pools, icc off (as Docker makes it,
 * when the machine's iptables sees bridged traffic) and isolated. Concurrent makers queue on
 * the machine's pool lock, so the second finds the first's.
 */
export async function ensureGatewayBridge(
  tx: Tx,
  ctx: CommandContext,
  host: HostRow,
): Promise<{ network: NetworkRow; configs: IpamConfigRow[] }> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${DatabaseLock.SubnetPool}, hashtext(${host.id}))`);
  const existing = (await findNetworks(tx, GATEWAY_BRIDGE_NAME, host.id)).find((n) => n.hostId === host.id);
  if (existing) {
    if (existing.state === "deleting") {
      throw new DomainError("CONFLICT", `network ${GATEWAY_BRIDGE_NAME} of ${host.name} is being removed`, [
        { location: "body.networks", message: `${GATEWAY_BRIDGE_NAME} is being removed` },
      ]);
    }
    return { network: existing, configs: await ipamConfigsOfNetwork(tx, existing.id) };
  }
  const { network } = await insertHostNetworkIn(tx, ctx, host, {
    name: GATEWAY_BRIDGE_NAME,
    // Its bridge is named like the network, as dockerd names it (seed 001 ex3 shows it).
    bridge: GATEWAY_BRIDGE_NAME,
    options: { icc: host.capabilities.bridgeNetfilter === false, isolated: true },
  });
  return { network, configs: await ipamConfigsOfNetwork(tx, network.id) };
}

/** True for an overlay network (scoped to a LAN, no host of its own). */
export function isOverlay(network: Pick<NetworkRow, "driver">): boolean {
  return network.driver === "overlay";
}

/**
 * Refuses an overlay network for a node of `host` unless the host is a machine of the
 * overlay's LAN (`scope` = `lan:<LAN id>`).
 */
export async function assertOverlayReaches(
  tx: Tx,
  network: NetworkRow,
  host: HostRow,
  location: string,
): Promise<void> {
  const visible = await findNetworks(tx, network.id, host.id);
  if (visible.length === 0) {
    throw new DomainError(
      "INVALID_FIELD",
      `overlay network ${network.name} spans another LAN than machine ${host.name}'s`,
      [{ location, message: `not on ${host.name}'s LAN` }],
    );
  }
}

/**
 * Has every other machine with endpoints on `networkIds` converge (a `network.ensure` of the
 * overlay on each): an endpoint joined or left on `hostId`, and their vxlan entries follow.
 */
export async function notifyOverlayPeers(
  tx: Tx,
  networkIds: readonly string[],
  hostId: string,
): Promise<OperationRow[]> {
  if (networkIds.length === 0) {
    return [];
  }
  const rows = await tx.execute<{ network_id: string; host_id: string }>(sql`
    SELECT DISTINCT e.network_id, n.host_id FROM endpoints e JOIN nodes n ON n.id = e.node_id
    WHERE ${anyOf(sql`e.network_id`, networkIds)} AND n.host_id <> ${hostId} AND n.state <> 'deleting'
    ORDER BY e.network_id, n.host_id`);
  const operations: OperationRow[] = [];
  for (const row of rows) {
    operations.push(
      await recordNetworkOperation(tx, { id: row.network_id, hostId: row.host_id }, "network.ensure"),
    );
  }
  return operations;
}

/** The overlay networks node `nodeId` has endpoints on. */
export async function overlaysOfNode(tx: Tx, nodeId: string): Promise<string[]> {
  const rows = await tx.execute<{ network_id: string }>(sql`
    SELECT e.network_id FROM endpoints e JOIN networks w ON w.id = e.network_id
    WHERE e.node_id = ${nodeId} AND w.driver = 'overlay' ORDER BY e.network_id`);
  return rows.map((r) => r.network_id);
}

/**
 * After `node` left the overlays `networkIds` (its endpoints deleted): the other machines on
 * them converge, and when the node is on no overlay any more its docker_gwbridge endpoint goes
 * too, as Docker's does.
 */
export async function leaveOverlays(tx: Tx, node: NodeRow, networkIds: readonly string[]): Promise<void> {
  await notifyOverlayPeers(tx, networkIds, node.hostId);
  if ((await overlaysOfNode(tx, node.id)).length > 0) {
    return;
  }
  const [gateway] = await tx.execute<{ id: string }>(sql`
    SELECT e.id FROM endpoints e JOIN networks w ON w.id = e.network_id
    WHERE e.node_id = ${node.id} AND w.host_id = ${node.hostId} AND w.name = ${GATEWAY_BRIDGE_NAME}`);
  if (gateway) {
    await deleteEndpoint(tx, gateway.id);
  }
}

/** The overlay networks nodes of machine `hostId` have endpoints on. */
export async function overlaysOfHost(tx: Tx, hostId: string): Promise<string[]> {
  const rows = await tx.execute<{ network_id: string }>(sql`
    SELECT DISTINCT e.network_id FROM endpoints e
    JOIN networks w ON w.id = e.network_id JOIN nodes n ON n.id = e.node_id
    WHERE n.host_id = ${hostId} AND w.driver = 'overlay' ORDER BY e.network_id`);
  return rows.map((r) => r.network_id);
}
