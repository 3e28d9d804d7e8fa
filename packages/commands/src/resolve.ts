import {
  type Db,
  findHost,
  findNetworks,
  findNetworksWithHosts,
  findNodes,
  type HostRow,
  type NetworkRow,
  type NodeRow,
  pickLeastLoadedHost,
} from "@labnet/db";
import { DomainError, invalidField, notFound } from "./errors";

/** The host a request names, or the least loaded online host when it names none. */
export async function resolveHost(db: Db, ref: string | undefined, location = "body.host"): Promise<HostRow> {
  if (ref !== undefined) {
    const host = await findHost(db, ref);
    if (!host) {
      throw notFound("host", ref, location);
    }
    return host;
  }
  const host = await pickLeastLoadedHost(db);
  if (!host) {
    throw new DomainError("NO_HOST", "no lab host is online: start an executor first");
  }
  return host;
}

/** The one row of `rows` (found by `ref`): 404 without one, 409 when the name is on several hosts. */
export function pickOne<T extends { hostId: string | null }>(
  rows: T[],
  what: string,
  ref: string,
  location: string,
): T {
  const [first] = rows;
  if (!first) {
    throw notFound(what, ref, location);
  }
  if (rows.length > 1) {
    throw new DomainError(
      "CONFLICT",
      `${what} name ${ref} exists on several hosts: use its id or name the host`,
      [{ location, message: "ambiguous name" }],
    );
  }
  return first;
}

export async function resolveNetwork(
  db: Db,
  ref: string,
  hostId?: string,
  location = "path.networkId",
): Promise<NetworkRow> {
  return pickOne(await findNetworks(db, ref, hostId), "network", ref, location);
}

/** {@link resolveNetwork} with the network's host (null for an overlay), in one statement. */
export async function resolveNetworkWithHost(
  db: Db,
  ref: string,
  hostId: string | undefined,
  location: string,
): Promise<{ network: NetworkRow; host: HostRow | null }> {
  const rows = await findNetworksWithHosts(db, ref, hostId);
  return pickOne(
    rows.map((row) => ({ ...row, hostId: row.network.hostId })),
    "network",
    ref,
    location,
  );
}

export async function resolveNode(
  db: Db,
  ref: string,
  hostId?: string,
  location = "path.nodeId",
): Promise<NodeRow> {
  return pickOne(await findNodes(db, ref, hostId), "node", ref, location);
}

/**
 * The node `ref` names on `host` (any host when undefined). A node that exists only on
 * another host is a 422 naming `location`: nodes and networks of different hosts never meet.
 */
export async function resolveNodeOnHost(
  db: Db,
  ref: string,
  host: Pick<HostRow, "id" | "name"> | undefined,
  location: string,
): Promise<NodeRow> {
  const onHost = await findNodes(db, ref, host?.id);
  if (onHost.length > 0 || !host) {
    return pickOne(onHost, "node", ref, location);
  }
  const elsewhere = await findNodes(db, ref);
  if (elsewhere.length > 0) {
    throw invalidField(location, `node ${ref} is on another host than ${host.name}`);
  }
  throw notFound("node", ref, location);
}
