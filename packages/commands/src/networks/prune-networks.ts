import {
  getNetwork,
  listUnusedNetworks,
  lockNetworks,
  type NetworkRow,
  networkHasEndpoints,
  type OperationRow,
} from "@labnet/db";
import type { CommandContext } from "../context";
import { markForRemoval } from "./delete-network";

export interface PruneNetworksInput {
  /** Only networks of this host (id). */
  hostId?: string;
  /** Only networks with these labels (`key` or `key=value`, all must match). */
  labels?: string[];
}

/**
 * Removes every user network nothing is attached to, like `docker network prune`:
 * predefined networks and networks with endpoints stay. Each candidate is checked again
 * under its row lock (a node may have joined it meanwhile). Answers what it removes.
 */
export async function pruneNetworks({
  ctx,
  input,
}: {
  ctx: CommandContext;
  input: PruneNetworksInput;
}): Promise<{ network: NetworkRow; operation: OperationRow }[]> {
  const candidates = await listUnusedNetworks(ctx.db, input);
  if (candidates.length === 0) {
    return [];
  }
  const removed = await ctx.db.transaction(async (tx) => {
    await lockNetworks(
      tx,
      candidates.map((n) => n.id),
    );
    const out: { network: NetworkRow; operation: OperationRow }[] = [];
    for (const candidate of candidates) {
      const network = await getNetwork(tx, candidate.id);
      if (!network || network.builtin || network.state === "deleting") {
        continue;
      }
      if (await networkHasEndpoints(tx, network.id)) {
        continue;
      }
      const operation = await markForRemoval(tx, network);
      out.push({ network: { ...network, state: "deleting" as const }, operation });
    }
    return out;
  });
  if (removed.length > 0) {
    ctx.onOperationsWritten?.();
  }
  return removed;
}
