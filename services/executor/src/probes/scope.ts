import { basename } from "node:path";
import { type Database, virtualMachinesOf } from "@labnet/db";
import type { ProbeScope } from "./run-probes";

/**
 * The probe scope of a lab host, read from Postgres at each request: its own netns prefix (its
 * nodes and its virtual machines' namespaces, which are sandboxes of its uplink nodes) and each
 * virtual machine's prefix (that machine's nodes) and namespace.
 */
export async function labHostProbeScope(
  db: Database,
  labHostId: string,
  labNetnsPrefix: string,
): Promise<ProbeScope> {
  const machines = await virtualMachinesOf(db, labHostId);
  return {
    prefixes: [labNetnsPrefix, ...machines.map((m) => m.netnsPrefix)],
    namespaces: machines.flatMap((m) => (m.netnsPath ? [basename(m.netnsPath)] : [])),
  };
}
