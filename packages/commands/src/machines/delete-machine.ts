import { type Database, type HostRow, type OperationRow, schema, setNodeState, type Tx } from "@labnet/db";
import { and, eq, ne } from "drizzle-orm";
import type { CommandContext } from "../context";
import { DomainError, notFound } from "../errors";
import { notifyOverlayPeers, overlaysOfHost } from "../networks/overlay-attach";
import { recordNetworkOperation, recordNodeOperation } from "../operations/record-operation";
import { resolveHost } from "../resolve";
import { LAN_LABEL } from "./create-machine";
import { unforwardMachinePorts } from "./forward-ports";

export interface DeletedMachine {
  machine: HostRow;
  /** Operations that empty the machine; its namespace goes after them (see finishMachineRemoval). */
  operations: OperationRow[];
}

/**
 * Marks a virtual machine for removal. Everything on it is removed by its own converge first
 * (its nodes' namespaces are not inside the machine's); once it is empty, the executor removes
 * the uplink node (the machine's namespace), and the record goes with that node. Without
 * `force`, a machine with user networks or nodes is a 409 and nothing changes.
 */
export async function deleteMachine({
  ctx,
  ref,
  force,
}: {
  ctx: CommandContext;
  ref: string;
  force: boolean;
}): Promise<DeletedMachine> {
  const found = await resolveHost(ctx.db, ref, "path.machineId");
  if (found.kind !== "virtual") {
    throw new DomainError("CONFLICT", `${found.name} is a lab host: its own machine cannot be removed`, [
      { location: "path.machineId", message: "a lab host" },
    ]);
  }
  const result = await ctx.db.transaction(async (tx) => {
    const [machine] = await tx.select().from(schema.hosts).where(eq(schema.hosts.id, found.id)).for("update");
    if (!machine) {
      throw notFound("machine", ref, "path.machineId");
    }
    const nodes = await tx.select().from(schema.nodes).where(eq(schema.nodes.hostId, machine.id));
    const networks = await tx.select().from(schema.networks).where(eq(schema.networks.hostId, machine.id));
    const inUse = [
      ...nodes.filter((n) => n.state !== "deleting").map((n) => `node ${n.name}`),
      ...networks.filter((n) => !n.builtin && n.state !== "deleting").map((n) => `network ${n.name}`),
    ];
    if (inUse.length > 0 && !force) {
      throw new DomainError(
        "CONFLICT",
        `machine ${machine.name} still has ${inUse.slice(0, 5).join(", ")}${inUse.length > 5 ? ", ..." : ""}: remove them or delete with force=true`,
        [{ location: "query.force", message: "the machine is not empty" }],
      );
    }
    const operations: OperationRow[] = [];
    for (const node of nodes.filter((n) => n.state !== "deleting")) {
      await setNodeState(tx, node.id, "deleting");
      await unforwardMachinePorts(tx, { nodeId: node.id });
      operations.push(await recordNodeOperation(tx, node, "node.remove"));
    }
    // The other machines on its overlays drop its endpoints' forwarding entries and its VTEP.
    await notifyOverlayPeers(tx, await overlaysOfHost(tx, machine.id), machine.id);
    for (const network of networks.filter((n) => n.state !== "deleting")) {
      await tx.update(schema.networks).set({ state: "deleting" }).where(eq(schema.networks.id, network.id));
      operations.push(await recordNetworkOperation(tx, network, "network.remove"));
    }
    const [marked] = await tx
      .update(schema.hosts)
      .set({ state: "deleting" })
      .where(eq(schema.hosts.id, machine.id))
      .returning();
    return { machine: marked ?? machine, operations };
  });
  if (result.operations.length > 0) {
    ctx.onOperationsWritten?.();
  } else {
    // Nothing left on it (a retry): its namespace can go now.
    await finishMachineRemoval(ctx.db, result.machine.id);
    ctx.onOperationsWritten?.();
  }
  return result;
}

/**
 * The last step of a machine's removal, run by the executor after the machine's converge
 * settled: when the machine is being deleted and has no network or node left, its uplink node
 * (whose sandbox is the machine's namespace) is marked for removal. Returns whether it did.
 */
export async function finishMachineRemoval(db: Database, machineId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [machine] = await tx
      .select()
      .from(schema.hosts)
      .where(and(eq(schema.hosts.id, machineId), eq(schema.hosts.state, "deleting")))
      .for("update");
    if (!machine?.uplinkNodeId) {
      return false;
    }
    const [node] = await tx
      .select({ id: schema.nodes.id })
      .from(schema.nodes)
      .where(eq(schema.nodes.hostId, machineId))
      .limit(1);
    const [network] = await tx
      .select({ id: schema.networks.id })
      .from(schema.networks)
      .where(eq(schema.networks.hostId, machineId))
      .limit(1);
    if (node || network) {
      return false;
    }
    const [uplink] = await tx
      .update(schema.nodes)
      .set({ state: "deleting" })
      .where(and(eq(schema.nodes.id, machine.uplinkNodeId), ne(schema.nodes.state, "deleting")))
      .returning();
    if (!uplink) {
      return false;
    }
    await recordNodeOperation(tx, uplink, "node.remove");
    await removeEmptiedLans(tx, uplink.id);
    return true;
  });
}

/**
 * A LAN Labnet made for machines (labelled LAN_LABEL) goes with its last machine: marked for
 * removal in the transaction that removes that machine's uplink, served by the same converge.
 */
async function removeEmptiedLans(tx: Tx, uplinkId: string): Promise<void> {
  const lans = await tx
    .select({ network: schema.networks })
    .from(schema.endpoints)
    .innerJoin(schema.networks, eq(schema.networks.id, schema.endpoints.networkId))
    .where(eq(schema.endpoints.nodeId, uplinkId))
    // Two machines of one LAN leaving at once: the second sees the first's uplink leaving.
    .for("update", { of: schema.networks });
  for (const { network } of lans) {
    if (network.labels[LAN_LABEL] !== "true" || network.state === "deleting") {
      continue;
    }
    const [other] = await tx
      .select({ id: schema.endpoints.id })
      .from(schema.endpoints)
      .innerJoin(schema.nodes, eq(schema.nodes.id, schema.endpoints.nodeId))
      .where(
        and(
          eq(schema.endpoints.networkId, network.id),
          ne(schema.endpoints.nodeId, uplinkId),
          ne(schema.nodes.state, "deleting"),
        ),
      )
      .limit(1);
    if (!other) {
      await tx.update(schema.networks).set({ state: "deleting" }).where(eq(schema.networks.id, network.id));
      await recordNetworkOperation(tx, network, "network.remove");
    }
  }
}
