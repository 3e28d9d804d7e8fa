import {
  endpointsOnNetworks,
  getNetwork,
  insertOperation,
  latestOperationFor,
  lockNetworks,
  type NetworkRow,
  type OperationRow,
  setNetworkState,
} from "@labnet/db";
import type { CommandContext } from "../context";
import { DomainError } from "../errors";
import { resolveNetwork } from "../resolve";

/**
 * Marks a network for removal and records the operation that tears it down. Refused for
 * predefined networks and for networks with endpoints; both checks run under the
 * network's row lock, which node creation also takes, so no endpoint can sneak in.
 */
export async function deleteNetwork({
  ctx,
  ref,
}: {
  ctx: CommandContext;
  ref: string;
}): Promise<{ network: NetworkRow; operation: OperationRow }> {
  const found = await resolveNetwork(ctx.db, ref);
  const result = await ctx.db.transaction(async (tx) => {
    await lockNetworks(tx, [found.id]);
    const network = await getNetwork(tx, found.id);
    if (!network) {
      throw new DomainError("NOT_FOUND", `network ${ref} not found`);
    }
    if (network.builtin) {
      throw new DomainError("FORBIDDEN", `${network.name} is a pre-defined network and cannot be removed`, [
        { location: "path.networkId", message: "pre-defined network" },
      ]);
    }
    if (network.state === "deleting") {
      const pending = (await latestOperationFor(tx, [network.id])).get(network.id);
      if (pending && pending.kind === "network.remove" && pending.state !== "failed") {
        return { network, operation: pending, written: false };
      }
    }
    const attached = await endpointsOnNetworks(tx, [network.id]);
    if (attached.length > 0) {
      const names = [...new Set(attached.map((a) => a.nodeName))].join(", ");
      throw new DomainError("NETWORK_IN_USE", `network ${network.name} has active endpoints (${names})`, [
        { location: "path.networkId", message: `in use by ${names}` },
      ]);
    }
    await setNetworkState(tx, network.id, "deleting");
    const operation = await insertOperation(tx, {
      kind: "network.remove",
      hostId: network.hostId ?? "",
      targetType: "network",
      targetId: network.id,
    });
    return { network: { ...network, state: "deleting" as const }, operation, written: true };
  });
  if (result.written) {
    ctx.onOperationsWritten?.();
  }
  return { network: result.network, operation: result.operation };
}
