import {
  deletePortMappings,
  listNodePortMappings,
  type NodeRow,
  type OperationRow,
  type PortLedgerFilters,
  type PortMappingWithNode,
} from "@labnet/db";
import type { CommandContext } from "../context";
import { DomainError, invalidField } from "../errors";
import { unforwardMachinePorts } from "../machines/forward-ports";
import { recordNodeOperation } from "../operations/record-operation";
import { resolveNode } from "../resolve";
import { lockLiveNode } from "./publish-ports";

/** Which mappings of the node to remove; every given filter must match. */
export type UnpublishPortsFilters = Omit<PortLedgerFilters, "nodeId">;

export interface UnpublishedPorts {
  node: NodeRow;
  removed: PortMappingWithNode[];
  operation: OperationRow;
}

/**
 * Removes published ports of a node: releases them in the ledger (another node may take
 * them at once) and records a `node.ensure` that re-renders the host's rules without them.
 *
 * @throws DomainError INVALID_FIELD without any filter; NOT_FOUND when none matches.
 */
export async function unpublishPorts({
  ctx,
  ref,
  filters,
}: {
  ctx: CommandContext;
  ref: string;
  filters: UnpublishPortsFilters;
}): Promise<UnpublishedPorts> {
  if (Object.values(filters).every((value) => value === undefined)) {
    throw invalidField(
      "query",
      "name the ports to remove: id, containerPort, protocol, hostPort or hostIp (several narrow it down)",
    );
  }
  const found = await resolveNode(ctx.db, ref);
  const result = await ctx.db.transaction(async (tx) => {
    const node = await lockLiveNode(tx, found.id, ref);
    const removed = await listNodePortMappings(tx, node.id, filters);
    if (removed.length === 0) {
      throw new DomainError("NOT_FOUND", `node ${node.name} has no published port matching the filters`, [
        { location: "query", message: "no published port matches" },
      ]);
    }
    await unforwardMachinePorts(tx, { mappingIds: removed.map((m) => m.id) });
    await deletePortMappings(
      tx,
      removed.map((m) => m.id),
    );
    const operation = await recordNodeOperation(tx, node);
    return { node, removed, operation };
  });
  ctx.onOperationsWritten?.();
  return result;
}
