import { and, count, eq, gt, ne, or, type SQL, sql } from "drizzle-orm";
import type { HostCapabilities, NodeState } from "../schema";
import { hosts, networks, nodes } from "../schema";
import type { Db } from "../tx";
import { labelFilter } from "./networks";
import { anyOf, preparedOn } from "./prepared";

export type HostRow = typeof hosts.$inferSelect;

/** A host is online while its executor's heartbeats are younger than this. */
export const HOST_ONLINE_WINDOW_MS = 30_000;

export interface RegisterHostInput {
  id: string;
  name: string;
  netnsPrefix: string;
  underlayAddress: string | null;
  capabilities: HostCapabilities;
  /** The host's own namespace as a path (sandbox key of nodes in network mode `host`). */
  netnsPath?: string | null;
  /**
   * Host ports handed out at random (`-P`, `-p 0:80`), from the executor's configuration.
   * Changing it later moves no published port: a node keeps its ports for its whole life.
   */
  portRangeStart?: number;
  portRangeEnd?: number;
}

/**
 * Inserts the host or refreshes its record (same name = same host across executor restarts).
 * `online: false` records a new host offline (its heartbeat at the epoch) and leaves an existing
 * one's heartbeat as it was, for a registration that has more to set up before the host takes work.
 */
export async function registerHost(
  db: Db,
  input: RegisterHostInput,
  { online = true }: { online?: boolean } = {},
): Promise<HostRow> {
  const [row] = await db
    .insert(hosts)
    .values({ ...input, ...(online ? {} : { lastHeartbeatAt: new Date(0) }) })
    .onConflictDoUpdate({
      target: hosts.name,
      set: {
        netnsPrefix: input.netnsPrefix,
        underlayAddress: input.underlayAddress,
        capabilities: input.capabilities,
        netnsPath: input.netnsPath ?? null,
        ...(input.portRangeStart !== undefined && input.portRangeEnd !== undefined
          ? { portRangeStart: input.portRangeStart, portRangeEnd: input.portRangeEnd }
          : {}),
        ...(online ? { lastHeartbeatAt: sql`now()` } : {}),
        updatedAt: sql`now()`,
      },
      // A virtual machine's name is not an executor's to take over.
      setWhere: eq(hosts.kind, "lab"),
    })
    .returning();
  if (!row) {
    throw new Error(`cannot register host ${input.name}: the name belongs to a virtual machine`);
  }
  return row;
}

/** Records a heartbeat of a lab host, which its virtual machines share (its executor serves them). */
export async function touchHost(db: Db, hostId: string): Promise<void> {
  await db
    .update(hosts)
    .set({ lastHeartbeatAt: sql`now()` })
    .where(or(eq(hosts.id, hostId), eq(hosts.parentHostId, hostId)));
}

/** The virtual machines built on lab host `hostId`, by name. */
export async function virtualMachinesOf(db: Db, hostId: string): Promise<HostRow[]> {
  return db.select().from(hosts).where(eq(hosts.parentHostId, hostId)).orderBy(hosts.name);
}

/** Virtual machine `id` if it is built on lab host `parentId`. */
export async function machineOfHost(db: Db, id: string, parentId: string): Promise<HostRow | undefined> {
  const [row] = await db
    .select()
    .from(hosts)
    .where(and(eq(hosts.id, id), eq(hosts.parentHostId, parentId)));
  return row;
}

function selectHostByRef(db: Db, column: typeof hosts.id | typeof hosts.name) {
  return db
    .select()
    .from(hosts)
    .where(eq(column, sql.placeholder("ref")));
}

/** The host with id (`hst_...`) or name `ref`. */
export async function findHost(db: Db, ref: string): Promise<HostRow | undefined> {
  const column = ref.startsWith("hst_") ? hosts.id : hosts.name;
  // Every node creation looks up its host: prepared on the pool, built once.
  const prepared = preparedOn(db, `findHost.${column.name}`, (pool) =>
    selectHostByRef(pool, column).prepare(`find_host_by_${column.name}`),
  );
  const [row] = prepared
    ? await prepared.execute({ ref })
    : await selectHostByRef(db, column).execute({ ref });
  return row;
}

export function isHostOnline(host: Pick<HostRow, "lastHeartbeatAt">, now = Date.now()): boolean {
  return now - host.lastHeartbeatAt.getTime() < HOST_ONLINE_WINDOW_MS;
}

export interface HostUsage {
  networks: number;
  nodes: number;
}

/** Lab hosts (virtual machines are listed as machines). */
export async function listHosts(db: Db): Promise<HostRow[]> {
  return db.select().from(hosts).where(eq(hosts.kind, "lab")).orderBy(hosts.name);
}

/** Networks and nodes per host (user-visible ones: not being deleted). */
export async function hostUsage(db: Db, hostIds: string[]): Promise<Map<string, HostUsage>> {
  const usage = new Map<string, HostUsage>(hostIds.map((id) => [id, { networks: 0, nodes: 0 }]));
  if (hostIds.length === 0) {
    return usage;
  }
  const networkCounts = await db
    .select({ hostId: networks.hostId, n: count() })
    .from(networks)
    .where(and(anyOf(networks.hostId, hostIds), ne(networks.state, "deleting")))
    .groupBy(networks.hostId);
  const nodeCounts = await db
    .select({ hostId: nodes.hostId, n: count() })
    .from(nodes)
    .where(and(anyOf(nodes.hostId, hostIds), ne(nodes.state, "deleting")))
    .groupBy(nodes.hostId);
  for (const row of networkCounts) {
    const entry = row.hostId ? usage.get(row.hostId) : undefined;
    if (entry) {
      entry.networks = row.n;
    }
  }
  for (const row of nodeCounts) {
    const entry = usage.get(row.hostId);
    if (entry) {
      entry.nodes = row.n;
    }
  }
  return usage;
}

/** The online host with the fewest nodes: where work goes when the caller names none. */
export async function pickLeastLoadedHost(db: Db): Promise<HostRow | undefined> {
  const online = await db
    .select()
    .from(hosts)
    .where(
      and(
        eq(hosts.kind, "lab"),
        gt(hosts.lastHeartbeatAt, sql`now() - make_interval(secs => ${HOST_ONLINE_WINDOW_MS / 1000})`),
      ),
    );
  if (online.length <= 1) {
    return online[0]; // nothing to compare: spare counting every node of the host
  }
  const usage = await hostUsage(
    db,
    online.map((h) => h.id),
  );
  return online.sort(
    (a, b) => (usage.get(a.id)?.nodes ?? 0) - (usage.get(b.id)?.nodes ?? 0) || a.name.localeCompare(b.name),
  )[0];
}

/** What a machine's view shows beyond its record: its uplink on the LAN and how far it is built. */
export interface MachineUplink {
  machineId: string;
  nodeState: string;
  lanId: string;
  lanName: string;
  subnet: string;
  gateway: string;
  /** `eth0`'s address without its prefix. */
  address: string | null;
  /** State of the machine's predefined `bridge` network (undefined before it is recorded). */
  bridgeState: string | null;
}

/** Uplinks of virtual machines `ids` (one statement). */
export async function machineUplinks(db: Db, ids: string[]): Promise<Map<string, MachineUplink>> {
  if (ids.length === 0) {
    return new Map();
  }
  const rows = await db.execute<{
    machine_id: string;
    node_state: string;
    lan_id: string;
    lan_name: string;
    subnet: string;
    gateway: string;
    address: string | null;
    bridge_state: string | null;
  }>(sql`
    SELECT h.id AS machine_id, n.state AS node_state, net.id AS lan_id, net.name AS lan_name,
      c.subnet::text AS subnet, host(c.gateway) AS gateway, host(e.address) AS address,
      (SELECT b.state FROM networks b WHERE b.host_id = h.id AND b.builtin LIMIT 1) AS bridge_state
    FROM hosts h
    JOIN nodes n ON n.id = h.uplink_node_id
    JOIN endpoints e ON e.node_id = n.id
    JOIN networks net ON net.id = e.network_id
    JOIN ipam_configs c ON c.network_id = net.id AND c.position = 0
    WHERE ${anyOf(sql`h.id`, ids)}`);
  return new Map(
    rows.map((r) => [
      r.machine_id,
      {
        machineId: r.machine_id,
        nodeState: r.node_state,
        lanId: r.lan_id,
        lanName: r.lan_name,
        subnet: r.subnet,
        gateway: r.gateway,
        address: r.address,
        bridgeState: r.bridge_state,
      },
    ]),
  );
}

/** Machines, by name: lab hosts and virtual machines, filtered. */
export async function listMachines(
  db: Db,
  filters: { labHostId?: string; kind?: "lab" | "virtual"; labels?: string[]; visible?: SQL | undefined },
): Promise<HostRow[]> {
  const conditions = [
    filters.visible,
    filters.labHostId
      ? or(eq(hosts.id, filters.labHostId), eq(hosts.parentHostId, filters.labHostId))
      : undefined,
    filters.kind ? eq(hosts.kind, filters.kind) : undefined,
    ...(filters.labels ?? []).map((label) => labelFilter(hosts.labels, label)),
  ].filter((c) => c !== undefined);
  return db
    .select()
    .from(hosts)
    .where(and(...conditions))
    .orderBy(hosts.name);
}

function selectKindAndUplinkState(db: Db) {
  return db
    .select({ kind: hosts.kind, uplinkState: nodes.state })
    .from(hosts)
    .leftJoin(nodes, eq(nodes.id, hosts.uplinkNodeId))
    .where(eq(hosts.id, sql.placeholder("hostId")));
}

/**
 * A host's kind and, for a virtual machine, its uplink node's state: what an operation's
 * progress depends on. Every operation view reads it: prepared on the pool, built once.
 */
export async function hostKindAndUplinkState(
  db: Db,
  hostId: string,
): Promise<{ kind: HostRow["kind"]; uplinkState: NodeState | null } | undefined> {
  const prepared = preparedOn(db, "hostKindAndUplinkState", (pool) =>
    selectKindAndUplinkState(pool).prepare("host_kind_and_uplink_state"),
  );
  const [row] = prepared
    ? await prepared.execute({ hostId })
    : await selectKindAndUplinkState(db).execute({ hostId });
  return row;
}
