import { constraintViolation, type Db, type NetworkRow, schema } from "@labnet/db";
import { inArray } from "drizzle-orm";
import { DomainError } from "../errors";

const { MAX_BRIDGE_PORTS } = schema;

/** The constraint that caps a bridge network's endpoints (migration 0005). */
const BRIDGE_PORTS_CHECK = "networks_bridge_ports_chk";

/** The problem of attaching to a full bridge network, naming where the request named it. */
export function networkFull(network: Pick<NetworkRow, "name">, location: string): DomainError {
  const message = `network ${network.name} has ${MAX_BRIDGE_PORTS} endpoints, as many as one bridge holds (the kernel refuses a ${MAX_BRIDGE_PORTS + 1}th port); attach the node to another network`;
  return new DomainError("NETWORK_FULL", message, [
    { location, message: `network ${network.name} is full (${MAX_BRIDGE_PORTS} endpoints)` },
  ]);
}

/**
 * Refuses an attach that the network's endpoint count (as last committed) already rules
 * out. Only the fast answer: concurrent attaches are refused by the database's check when
 * they commit, see {@link bridgeFullProblem}.
 */
export function assertBridgeHasRoom(
  network: Pick<NetworkRow, "name" | "driver" | "endpointCount">,
  location: string,
): void {
  if (network.driver === "bridge" && network.endpointCount >= MAX_BRIDGE_PORTS) {
    throw networkFull(network, location);
  }
}

/**
 * Turns the commit-time refusal of `networks_bridge_ports_chk` into {@link networkFull} for
 * the first of the request's networks that is full now; undefined for any other error.
 *
 * @param attached the networks the failed transaction attached to, with where the request named each
 */
export async function bridgeFullProblem(
  db: Db,
  error: unknown,
  attached: readonly { network: NetworkRow; location: string }[],
): Promise<DomainError | undefined> {
  if (constraintViolation(error)?.constraint !== BRIDGE_PORTS_CHECK || attached.length === 0) {
    return undefined;
  }
  const rows = await db
    .select({ id: schema.networks.id, endpointCount: schema.networks.endpointCount })
    .from(schema.networks)
    .where(
      inArray(
        schema.networks.id,
        attached.map((a) => a.network.id),
      ),
    );
  const count = new Map(rows.map((r) => [r.id, r.endpointCount]));
  const full =
    attached.find(
      (a) => a.network.driver === "bridge" && (count.get(a.network.id) ?? 0) >= MAX_BRIDGE_PORTS,
    ) ??
    attached.find((a) => a.network.driver === "bridge") ??
    attached[0];
  return full ? networkFull(full.network, full.location) : undefined;
}
