import { eq } from "drizzle-orm";
import type { Database } from "../client";
import { networks, nodes } from "../schema";
import { type IpamConfigRow, ipamConfigsOfHost } from "./ipam";
import type { NetworkRow } from "./networks";
import { endpointsOfHost, type NodeEndpoint, type NodeRow } from "./nodes";
import { type OperationRow, openOperationsOfHost } from "./operations";
import { livePortMappingsOfHost, type PortMappingRow } from "./port-ledger";

/**
 * Everything one converge of a host needs, read in one consistent snapshot: the operations
 * it will settle and the desired state that serves exactly them. An operation recorded after
 * the snapshot is not in it, and neither is its intent: the next converge serves both.
 */
export interface HostSnapshot {
  /** Open operations (queued or running), oldest first. */
  operations: OperationRow[];
  /** Every network of the host, in creation order, whatever its state. */
  networks: NetworkRow[];
  /** IPAM configs of those networks, in position order. */
  ipamConfigs: IpamConfigRow[];
  /** Every node of the host, in creation order, whatever its state. */
  nodes: NodeRow[];
  /** Endpoints of those nodes, in attach order. */
  endpoints: NodeEndpoint[];
  /** Ledger rows of nodes not being removed, in ledger order. */
  portMappings: PortMappingRow[];
}

/**
 * Reads a host's {@link HostSnapshot} in one REPEATABLE READ, read-only transaction, so every
 * part of it (operations, networks, nodes, endpoints, ports) is of the same moment.
 */
export async function loadHostSnapshot(db: Database, hostId: string): Promise<HostSnapshot> {
  return db.transaction(
    async (tx) => {
      // Issued together: postgres.js pipelines them on the transaction's connection.
      const [operations, networkRows, nodeRows, ipamConfigs, endpoints, portMappings] = await Promise.all([
        openOperationsOfHost(tx, hostId),
        tx.select().from(networks).where(eq(networks.hostId, hostId)).orderBy(networks.createdAt),
        tx.select().from(nodes).where(eq(nodes.hostId, hostId)).orderBy(nodes.createdAt),
        ipamConfigsOfHost(tx, hostId),
        endpointsOfHost(tx, hostId),
        livePortMappingsOfHost(tx, hostId),
      ]);
      return { operations, networks: networkRows, ipamConfigs, nodes: nodeRows, endpoints, portMappings };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}
