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
  options?: {
    /** Nodes of the network may talk to each other (Docker's enable_icc). */
    icc?: boolean;
    /** Drop traffic to and from other bridge networks unless both have isolation off. */
    isolated?: boolean;
  };
  /** Labels to set; a null value removes the label (a JSON merge patch of the labels). */
  labels?: Record<string, string | null>;
}

/** The most labels a resource holds (the contract's `Labels`). */
const MAX_LABELS = 64;

/**
 * Changes a network's labels and firewall switches (icc, isolation); a switch change records
 * the `network.ensure` that re-renders the host's rules (`operation`), a labels-only change
 * needs no kernel work (no operation). Allowed on the predefined `bridge` too: that is how its
 * isolation is turned off, so that a user network with isolation off can route to it (the
 * seed 003 experiment). With `ifRevisions` (the client's `If-Match`), a network whose revision
 * is not one of them is left alone: PRECONDITION_FAILED.
 */
export async function updateNetwork({
  ctx,
  ref,
  input,
  ifRevisions,
}: {
  ctx: CommandContext;
  ref: string;
  input: UpdateNetworkInput;
  ifRevisions?: readonly number[] | undefined;
}): Promise<{ network: NetworkRow; operation: OperationRow | undefined }> {
  const found = await resolveNetwork(ctx.db, ref);
  const options = input.options ?? {};
  const switches = options.icc !== undefined || options.isolated !== undefined;
  if (switches && found.driver === "overlay") {
    // Its rules are on every machine it reaches; changing them is not supported (yet).
    throw new DomainError(
      "INVALID_FIELD",
      `overlay network ${found.name} keeps the options it was created with`,
      [{ location: "body.options", message: "not changeable on an overlay network" }],
    );
  }
  if (options.icc === false && found.hostId) {
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
    // The row is locked: nobody changes it between this check and the update.
    if (ifRevisions !== undefined && !ifRevisions.includes(current.revision)) {
      throw new DomainError(
        "PRECONDITION_FAILED",
        `network ${found.name} changed since that read: it is at revision ${current.revision} (ETag "${current.revision}")`,
        [{ location: "header.If-Match", message: `does not match the current ETag "${current.revision}"` }],
      );
    }
    const labels = input.labels ? mergeLabels(current.labels, input.labels) : undefined;
    const [network] = await tx
      .update(schema.networks)
      .set({
        ...(options.icc !== undefined ? { icc: options.icc } : {}),
        ...(options.isolated !== undefined ? { isolated: options.isolated } : {}),
        ...(labels ? { labels } : {}),
        updatedAt: sql`now()`,
      })
      .where(eq(schema.networks.id, current.id))
      .returning();
    if (!network) {
      throw new Error("updating a network returned no row");
    }
    const operation = switches ? await recordNetworkOperation(tx, network, "network.ensure") : undefined;
    return { network, operation };
  });
  if (result.operation) {
    ctx.onOperationsWritten?.();
  }
  return result;
}

/** `current` with `patch` applied: string values set, null values remove; at most {@link MAX_LABELS}. */
function mergeLabels(
  current: Record<string, string>,
  patch: Record<string, string | null>,
): Record<string, string> {
  const merged = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete merged[key];
    } else {
      merged[key] = value;
    }
  }
  if (Object.keys(merged).length > MAX_LABELS) {
    throw new DomainError("INVALID_FIELD", `a network holds at most ${MAX_LABELS} labels`, [
      {
        location: "body.labels",
        message: `would leave ${Object.keys(merged).length} labels, at most ${MAX_LABELS}`,
      },
    ]);
  }
  return merged;
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
