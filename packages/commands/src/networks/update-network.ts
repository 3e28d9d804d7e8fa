import {
  getNetwork,
  type HostRow,
  lockNetworks,
  type NetworkRow,
  type OperationRow,
  schema,
} from "@labnet/db";
import { eq, sql } from "drizzle-orm";
import type { CommandContext } from "../context";
import { DomainError } from "../errors";
import { recordNetworkOperation } from "../operations/record-operation";
import { resolveHost, resolveNetwork } from "../resolve";

export interface UpdateNetworkInput {
  options: {
    /** Nodes of the network may talk to each other (Docker's enable_icc). */
    icc?: boolean;
    /** Drop traffic to and from other bridge networks unless both have isolation off. */
    isolated?: boolean;
  };
}

/**
 * Changes a network's firewall switches (icc, isolation) and records the
 * `network.ensure` that re-renders the host's rules. Allowed on the predefined `bridge`
 * too: that is how its isolation is turned off, so that a user network with isolation
 * off can route to it (the seed 003 experiment).
 */
export async function updateNetwork({
  ctx,
  ref,
  input,
}: {
  ctx: CommandContext;
  ref: string;
  input: UpdateNetworkInput;
}): Promise<{ network: NetworkRow; operation: OperationRow }> {
  const found = await resolveNetwork(ctx.db, ref);
  if (found.driver === "overlay") {
    // Its rules are on every machine it reaches; changing them is not supported (yet).
    throw new DomainError(
      "INVALID_FIELD",
      `overlay network ${found.name} keeps the options it was created with`,
      [{ location: "body.options", message: "not changeable on an overlay network" }],
    );
  }
  if (input.options.icc === false && found.hostId) {
    assertIccSwitchable(await resolveHost(ctx.db, found.hostId), "body.options.icc");
  }
  const result = await ctx.db.transaction(async (tx) => {
    await lockNetworks(tx, [found.id]);
    const current = await getNetwork(tx, found.id);
    if (!current || current.state === "deleting") {
      throw new DomainError("CONFLICT", `network ${found.name} is being removed`, [
        { location: "path.networkId", message: "network is being removed" },
      ]);
    }
    const [network] = await tx
      .update(schema.networks)
      .set({
        ...(input.options.icc !== undefined ? { icc: input.options.icc } : {}),
        ...(input.options.isolated !== undefined ? { isolated: input.options.isolated } : {}),
        updatedAt: sql`now()`,
      })
      .where(eq(schema.networks.id, current.id))
      .returning();
    if (!network) {
      throw new Error("updating a network returned no row");
    }
    const operation = await recordNetworkOperation(tx, network, "network.ensure");
    return { network, operation };
  });
  ctx.onOperationsWritten?.();
  return result;
}

/**
 * icc off is a `-i BR -o BR -j DROP` that only sees bridged traffic when br_netfilter
 * hands it to iptables; on a host without it the rule would silently do nothing.
 */
export function assertIccSwitchable(host: HostRow, location: string): void {
  if (host.capabilities.bridgeNetfilter !== true) {
    const message = `host ${host.name} cannot stop traffic within a bridge (br_netfilter with bridge-nf-call-iptables is not active), so icc cannot be turned off there`;
    throw new DomainError("INVALID_FIELD", message, [{ location, message: "not supported on this host" }]);
  }
}
