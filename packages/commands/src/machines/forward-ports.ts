import { anyOf, deleteForwardsOfNode, type HostRow, type PortMappingRow, schema, type Tx } from "@labnet/db";
import { and, eq, isNotNull } from "drizzle-orm";
import { recordNodeOperation } from "../operations/record-operation";
import { allocatePorts } from "../ports/allocate-ports";

/**
 * A virtual machine's published ports answer on the machine's own address (its ledger, the
 * student's `宿主机IP:8080`); so that a browser outside the lab host reaches them too, each is
 * also published on the lab host: a random port of the lab host's ledger on the machine's
 * uplink node, forwarding to the machine's port (`forwards_id` ties the two; the forward goes
 * with the machine's mapping). Records the uplink's `node.ensure`, so the lab host converges.
 */
export async function forwardMachinePorts(
  tx: Tx,
  machine: HostRow,
  mappings: readonly PortMappingRow[],
): Promise<PortMappingRow[]> {
  if (machine.kind !== "virtual" || mappings.length === 0) {
    return [];
  }
  const uplink = await uplinkOf(tx, machine);
  if (!uplink) {
    return [];
  }
  const forwards: PortMappingRow[] = [];
  for (const mapping of mappings) {
    const [forward] = await allocatePorts(tx, { host: uplink.labHost, node: uplink.node }, [
      {
        protocol: mapping.protocol,
        hostIp: "0.0.0.0",
        containerPort: mapping.hostPort,
        location: "body.ports",
      },
    ]);
    if (forward) {
      await tx
        .update(schema.portMappings)
        .set({ forwardsId: mapping.id })
        .where(eq(schema.portMappings.id, forward.id));
      forwards.push({ ...forward, forwardsId: mapping.id });
    }
  }
  await recordNodeOperation(tx, uplink.node);
  return forwards;
}

/**
 * Takes the lab host's forwards of a virtual machine's mappings away now (the machine's own
 * mappings go when their node's removal is done), given the mappings or their node: the lab
 * host converges without them at once and its ports are free again. Records the uplink's
 * `node.ensure` when there were any. Nothing happens for a lab host's own mappings (nothing
 * forwards to them): one statement.
 */
export async function unforwardMachinePorts(
  tx: Tx,
  of: { nodeId: string } | { mappingIds: readonly string[] },
): Promise<void> {
  if ("mappingIds" in of && of.mappingIds.length === 0) {
    return;
  }
  const removed =
    "nodeId" in of
      ? await deleteForwardsOfNode(tx, of.nodeId)
      : await tx
          .delete(schema.portMappings)
          .where(
            and(
              isNotNull(schema.portMappings.forwardsId),
              anyOf(schema.portMappings.forwardsId, [...of.mappingIds]),
            ),
          )
          .returning({ nodeId: schema.portMappings.nodeId, hostId: schema.portMappings.hostId });
  const [uplink] = removed;
  if (uplink) {
    await recordNodeOperation(tx, { id: uplink.nodeId, hostId: uplink.hostId });
  }
}

async function uplinkOf(tx: Tx, machine: HostRow) {
  if (!machine.uplinkNodeId || !machine.parentHostId) {
    return undefined;
  }
  const [node] = await tx.select().from(schema.nodes).where(eq(schema.nodes.id, machine.uplinkNodeId));
  const [labHost] = await tx.select().from(schema.hosts).where(eq(schema.hosts.id, machine.parentHostId));
  return node && labHost ? { node, labHost } : undefined;
}
