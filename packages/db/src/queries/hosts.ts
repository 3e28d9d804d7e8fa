import { and, count, eq, gt, inArray, ne, sql } from "drizzle-orm";
import type { HostCapabilities } from "../schema";
import { hosts, networks, nodes } from "../schema";
import type { Db } from "../tx";
import { preparedOn } from "./prepared";

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

/** Inserts the host or refreshes its record (same name = same host across executor restarts). */
export async function registerHost(db: Db, input: RegisterHostInput): Promise<HostRow> {
  const [row] = await db
    .insert(hosts)
    .values(input)
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
        lastHeartbeatAt: sql`now()`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  if (!row) {
    throw new Error(`registering host ${input.name} returned no row`);
  }
  return row;
}

/** Records a heartbeat. */
export async function touchHost(db: Db, hostId: string): Promise<void> {
  await db.update(hosts).set({ lastHeartbeatAt: sql`now()` }).where(eq(hosts.id, hostId));
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

export async function listHosts(db: Db): Promise<HostRow[]> {
  return db.select().from(hosts).orderBy(hosts.name);
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
    .where(and(inArray(networks.hostId, hostIds), ne(networks.state, "deleting")))
    .groupBy(networks.hostId);
  const nodeCounts = await db
    .select({ hostId: nodes.hostId, n: count() })
    .from(nodes)
    .where(and(inArray(nodes.hostId, hostIds), ne(nodes.state, "deleting")))
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
    .where(gt(hosts.lastHeartbeatAt, sql`now() - make_interval(secs => ${HOST_ONLINE_WINDOW_MS / 1000})`));
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
