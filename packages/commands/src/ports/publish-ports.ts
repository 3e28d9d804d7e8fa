import {
  findHost,
  listNodePortMappings,
  type NodeRow,
  type OperationRow,
  type PortMappingRow,
  schema,
  type Tx,
} from "@labnet/db";
import type { PortSpecInput } from "@labnet/netplan";
import { eq } from "drizzle-orm";
import type { CommandContext } from "../context";
import { DomainError, invalidField, notFound } from "../errors";
import { forwardMachinePorts } from "../machines/forward-ports";
import { recordNodeOperation } from "../operations/record-operation";
import { resolveNode } from "../resolve";
import { allocatePorts } from "./allocate-ports";
import {
  assertCanPublish,
  type LocatedPortRequest,
  parseExposedKeys,
  preparePortRequests,
  publishAllRequests,
} from "./port-requests";

export interface PublishPortsInput {
  /** `-p` values, as strings or structured. */
  ports?: PortSpecInput[];
  /** Publish every exposed port of the node that has no mapping yet, on random host ports. */
  publishAll?: boolean;
}

export interface PublishedPorts {
  node: NodeRow;
  /** The mappings this call recorded. */
  added: PortMappingRow[];
  operation: OperationRow;
}

/**
 * Publishes more ports of an existing node: records them in the ledger and a `node.ensure`
 * operation (every converge renders the host's whole rule set) in one transaction, under
 * the node's row lock so a concurrent removal cannot slip in between.
 */
export async function publishPorts({
  ctx,
  ref,
  input,
}: {
  ctx: CommandContext;
  ref: string;
  input: PublishPortsInput;
}): Promise<PublishedPorts> {
  const found = await resolveNode(ctx.db, ref);
  const { requests } = preparePortRequests({ ports: input.ports ?? [] });
  const result = await ctx.db.transaction(async (tx) => {
    const node = await lockLiveNode(tx, found.id, ref);
    assertCanPublish(node.networkMode, "body.ports");
    const host = await findHost(tx, node.hostId);
    if (!host) {
      throw notFound("host", node.hostId);
    }
    const all: LocatedPortRequest[] = [...requests];
    if (input.publishAll === true) {
      const existing = await listNodePortMappings(tx, node.id);
      all.push(
        ...publishAllRequests(
          parseExposedKeys(node.exposedPorts),
          [...existing, ...requests],
          "body.publishAll",
        ),
      );
    }
    if (all.length === 0) {
      throw invalidField(
        input.publishAll === true ? "body.publishAll" : "body.ports",
        `nothing to publish: give ports${input.publishAll === true ? ", or expose ports when creating the node" : ""}`,
      );
    }
    const added = await allocatePorts(tx, { host, node }, all);
    await forwardMachinePorts(tx, host, added);
    const operation = await recordNodeOperation(tx, node);
    return { node, added, operation };
  });
  ctx.onOperationsWritten?.();
  return result;
}

/** The node, locked for the rest of the transaction; refused while it is being removed. */
export async function lockLiveNode(tx: Tx, id: string, ref: string): Promise<NodeRow> {
  const [node] = await tx.select().from(schema.nodes).where(eq(schema.nodes.id, id)).for("update");
  if (!node) {
    throw notFound("node", ref, "path.nodeId");
  }
  if (node.state === "deleting") {
    throw new DomainError("CONFLICT", `node ${node.name} is being removed`, [
      { location: "path.nodeId", message: "node is being removed" },
    ]);
  }
  return node;
}
