import { asc, eq, sql } from "drizzle-orm";
import type { AllocationKind } from "../schema";
import { allocations, endpoints, ipamConfigs, networks, nodes } from "../schema";
import type { Db, Tx } from "../tx";
import { anyOf, clientOf } from "./prepared";

export type IpamConfigRow = typeof ipamConfigs.$inferSelect;

/**
 * Locks networks against attaching (in id order, so two callers cannot deadlock): removal,
 * pruning and option changes take it. Attaching holds the row in KEY SHARE mode
 * ({@link recordEndpoint}), which this lock waits for and blocks, so a network being
 * removed cannot gain an endpoint meanwhile, while attaches do not wait for each other.
 */
export async function lockNetworks(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) {
    return;
  }
  await db
    .select({ id: networks.id })
    .from(networks)
    .where(anyOf(networks.id, [...ids].sort()))
    .orderBy(asc(networks.id))
    .for("update");
}

export async function ipamConfigsOf(db: Db, networkIds: string[]): Promise<IpamConfigRow[]> {
  if (networkIds.length === 0) {
    return [];
  }
  return db
    .select()
    .from(ipamConfigs)
    .where(anyOf(ipamConfigs.networkId, networkIds))
    .orderBy(ipamConfigs.networkId, ipamConfigs.position);
}

/**
 * The IPAM configs of one network in order, as {@link ipamConfigsOf} returns them, in a
 * statement prepared per connection: attaching reads them inside its transaction.
 */
export async function ipamConfigsOfNetwork(db: Db, networkId: string): Promise<IpamConfigRow[]> {
  const rows = await clientOf(db)<
    {
      id: string;
      network_id: string;
      scope: string;
      position: number;
      subnet: string;
      gateway: string;
      ip_range: string | null;
      aux_addresses: Record<string, string>;
    }[]
  >`SELECT id, network_id, scope, position, subnet, gateway, ip_range, aux_addresses
    FROM ipam_configs WHERE network_id = ${networkId} ORDER BY position`;
  return rows.map((r) => ({
    id: r.id,
    networkId: r.network_id,
    scope: r.scope,
    position: r.position,
    subnet: r.subnet,
    gateway: r.gateway,
    ipRange: r.ip_range,
    auxAddresses: r.aux_addresses,
  }));
}

/** Networks whose configs {@link knownIpamConfigsOfNetwork} keeps (the oldest seen go first). */
const KNOWN_CONFIGS_MAX = 4_096;
const knownConfigs = new Map<string, readonly IpamConfigRow[]>();

/**
 * {@link ipamConfigsOfNetwork}, kept in this process after the first read: a network's IPAM
 * configs are written with it and never change, and its id is never reused, so a create or a
 * connect does not read them again (each statement costs the accept path a round trip).
 * A network without configs yet (not committed) is not kept.
 */
export async function knownIpamConfigsOfNetwork(db: Db, networkId: string): Promise<IpamConfigRow[]> {
  const known = knownConfigs.get(networkId);
  if (known) {
    return [...known];
  }
  const rows = await ipamConfigsOfNetwork(db, networkId);
  if (rows.length > 0) {
    if (knownConfigs.size >= KNOWN_CONFIGS_MAX) {
      const oldest = knownConfigs.keys().next().value;
      if (oldest !== undefined) {
        knownConfigs.delete(oldest);
      }
    }
    knownConfigs.set(networkId, rows);
  }
  return [...rows];
}

/** Addresses listed per growth of a config's free list. */
const FREE_LIST_CHUNK = 256;

/** An endpoint to record together with its address allocation. */
export interface NewEndpoint {
  endpointId: string;
  nodeId: string;
  networkId: string;
  ipamConfigId: string;
  ifIndex: number;
  hostVeth: string;
  /** Prefix length of the config's subnet: the endpoint's address carries it (`/16`). */
  prefix: number;
  aliases: readonly string[];
}

/** What recording an endpoint came to. */
export type EndpointAllocation =
  /** Recorded, with this address. */
  | { outcome: "recorded"; address: string }
  /** The network is gone or being removed: nothing recorded. */
  | { outcome: "network-removed" }
  /** The address is taken (a static one; or a listed one that a static endpoint took): nothing recorded. */
  | { outcome: "taken"; address: string }
  /** Dynamic only: no listed address is free right now (list more, or the range is full). */
  | { outcome: "none-listed" };

/**
 * Records an endpoint and its address in one statement: the next free address of the
 * config's free list (lowest first), or `staticAddress`. Takes the network's row in KEY
 * SHARE mode, which only removal and option changes (`lockNetworks`) conflict with, so
 * concurrent attaches to one network never wait for each other: each takes another listed
 * address (`SKIP LOCKED`), and the allocation ledger's primary key still refuses any
 * address twice. With `wait`, a listed address that another transaction holds is waited
 * for instead of skipped (the last word before calling the range exhausted). The MAC is
 * Docker's: 02:42 followed by the address's four bytes.
 */
export async function recordEndpoint(
  tx: Tx,
  endpoint: NewEndpoint,
  address: { staticAddress: string } | { wait: boolean },
): Promise<EndpointAllocation> {
  const e = endpoint;
  const pg = clientOf(tx);
  const staticAddress = "staticAddress" in address ? address.staticAddress : null;
  // A static address is taken off the free list too, if listed; never waited for there
  // (the allocation's primary key decides between two takers).
  const lock = "wait" in address && address.wait ? pg`FOR UPDATE` : pg`FOR UPDATE SKIP LOCKED`;
  const candidate =
    staticAddress !== null
      ? pg`SELECT ${staticAddress}::inet AS address FROM net WHERE state <> 'deleting'`
      : pg`SELECT address FROM taken`;
  const [row] = await pg<
    { network_state: string | null; candidate: string | null; recorded: string | null }[]
  >`
    WITH net AS (
      SELECT state FROM networks WHERE id = ${e.networkId} FOR KEY SHARE
    ), picked AS (
      SELECT f.address FROM free_addresses f
      WHERE f.ipam_config_id = ${e.ipamConfigId}
        AND (${staticAddress}::inet IS NULL OR f.address = ${staticAddress}::inet)
        AND EXISTS (SELECT 1 FROM net WHERE state <> 'deleting')
      ORDER BY f.address LIMIT 1 ${lock}
    ), taken AS (
      DELETE FROM free_addresses f USING picked p
      WHERE f.ipam_config_id = ${e.ipamConfigId} AND f.address = p.address
      RETURNING f.address
    ), candidate AS (${candidate}
    ), allocated AS (
      INSERT INTO allocations (network_id, address, ipam_config_id, kind, endpoint_id)
      SELECT ${e.networkId}, c.address, ${e.ipamConfigId}, 'endpoint', ${e.endpointId} FROM candidate c
      ON CONFLICT DO NOTHING
      RETURNING address
    ), endpoint AS (
      INSERT INTO endpoints (id, node_id, network_id, if_index, host_veth, address, mac, aliases, static_address)
      SELECT ${e.endpointId}, ${e.nodeId}, ${e.networkId}, ${e.ifIndex}::int, ${e.hostVeth},
        set_masklen(a.address, ${e.prefix}::int),
        regexp_replace(lpad(to_hex(a.address - '0.0.0.0'::inet), 8, '0'), '(..)(..)(..)(..)', '02:42:\\1:\\2:\\3:\\4')::macaddr,
        ${[...e.aliases]}::text[], ${staticAddress !== null}::boolean
      FROM allocated a
      RETURNING id
    )
    SELECT (SELECT state FROM net) AS network_state,
      (SELECT host(address) FROM candidate) AS candidate,
      (SELECT host(address) FROM allocated WHERE EXISTS (SELECT 1 FROM endpoint)) AS recorded`;
  if (!row?.network_state || row.network_state === "deleting") {
    return { outcome: "network-removed" };
  }
  if (row.recorded) {
    return { outcome: "recorded", address: row.recorded };
  }
  return row.candidate ? { outcome: "taken", address: row.candidate } : { outcome: "none-listed" };
}

/**
 * Lists the next chunk of a config's dynamic range `[first, last]` on its free list (the
 * addresses of it without an allocation). False once the whole range is listed. Rare (once
 * per chunk); concurrent callers queue on the config's `free_address_ranges` row (on each
 * other only, never on attaches) and each lists the chunk after the previous one, which is
 * harmless.
 */
export async function listFreeAddresses(
  tx: Tx,
  config: { networkId: string; ipamConfigId: string; first: string; last: string },
): Promise<boolean> {
  const pg = clientOf(tx);
  // The range row is made once; a second maker waits for the first to commit, then finds it.
  await pg`
    INSERT INTO free_address_ranges (ipam_config_id, listed_from, listed_until)
    VALUES (${config.ipamConfigId}, ${config.first}::inet, ${config.first}::inet)
    ON CONFLICT DO NOTHING`;
  const rows = await pg<{ n: number }[]>`
    WITH mark AS (
      SELECT listed_until AS from_address FROM free_address_ranges
      WHERE ipam_config_id = ${config.ipamConfigId} FOR UPDATE
    ), grown AS (
      UPDATE free_address_ranges r
      SET listed_until = least(m.from_address + ${FREE_LIST_CHUNK}::int, ${config.last}::inet + 1)
      FROM mark m
      WHERE r.ipam_config_id = ${config.ipamConfigId} AND m.from_address <= ${config.last}::inet
      RETURNING m.from_address, r.listed_until
    ), listed AS (
      INSERT INTO free_addresses (ipam_config_id, address)
      SELECT ${config.ipamConfigId}, g.from_address + i
      FROM grown g, generate_series(0, (g.listed_until - g.from_address) - 1) AS i
      WHERE NOT EXISTS (
        SELECT 1 FROM allocations a WHERE a.network_id = ${config.networkId} AND a.address = g.from_address + i
      )
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM grown)::int AS n`;
  return (rows[0]?.n ?? 0) > 0;
}

export interface NewAllocation {
  networkId: string;
  ipamConfigId: string;
  address: string;
  kind: AllocationKind;
  endpointId?: string;
}

/** Records addresses as used; the primary key (network, address) refuses one already taken. */
export async function insertAllocations(db: Db, rows: NewAllocation[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  await db.insert(allocations).values(rows);
}

/** One address of a network's ledger with what holds it. */
export interface AllocationDetail {
  address: string;
  kind: AllocationKind;
  ipamConfigId: string;
  endpointId: string | null;
  nodeId: string | null;
  nodeName: string | null;
}

/** The ledger of a network in address order, with the node holding each endpoint address. */
export async function allocationDetailsOf(db: Db, networkId: string): Promise<AllocationDetail[]> {
  return db
    .select({
      address: sql<string>`host(${allocations.address})`,
      kind: allocations.kind,
      ipamConfigId: allocations.ipamConfigId,
      endpointId: allocations.endpointId,
      nodeId: nodes.id,
      nodeName: nodes.name,
    })
    .from(allocations)
    .leftJoin(endpoints, eq(endpoints.id, allocations.endpointId))
    .leftJoin(nodes, eq(nodes.id, endpoints.nodeId))
    .where(eq(allocations.networkId, networkId))
    .orderBy(allocations.address);
}

/** Every subnet of every scope, with its network: what the address pools view counts. */
export async function listScopeSubnets(
  db: Db,
): Promise<{ scope: string; subnet: string; networkId: string; networkName: string }[]> {
  return db
    .select({
      scope: ipamConfigs.scope,
      subnet: ipamConfigs.subnet,
      networkId: networks.id,
      networkName: networks.name,
    })
    .from(ipamConfigs)
    .innerJoin(networks, eq(networks.id, ipamConfigs.networkId))
    .orderBy(ipamConfigs.scope, ipamConfigs.subnet);
}
