import {
  type IpamConfigRow,
  knownIpamConfigsOfNetwork,
  listFreeAddresses,
  type NetworkRow,
  type NewEndpoint,
  type NodeDetailEndpoint,
  type NodeRow,
  newId,
  recordEndpoint,
  schema,
  type Tx,
} from "@labnet/db";
import {
  dynamicRange,
  macFromIpv4,
  resolveIpamConfig,
  type StaticAddressProblem,
  validateStaticAddress,
} from "@labnet/ipam";
import { hostVethName } from "@labnet/netplan";
import { and, eq } from "drizzle-orm";
import { dnsNameProblem } from "../dns-names";
import { DomainError, type FieldError, invalidField } from "../errors";
import { assertBridgeHasRoom } from "../networks/bridge-ports";

/** One endpoint to add: where, with which address and names. */
export interface AttachRequest {
  /** `eth<ifIndex>` inside the node. */
  ifIndex: number;
  /** A static address (Docker's `--ip`); else the next free one. */
  staticAddress?: string | undefined;
  /** Extra names on this network (Docker's `--network-alias`), already checked by {@link checkAliases}. */
  aliases?: readonly string[] | undefined;
  /** Where the request named the network and the address, for problems. */
  locations: { network: string; ipv4Address: string };
}

/**
 * Adds an endpoint of `node` on `network` with a static or the next free address, in the
 * caller's transaction, without waiting for other attaches to the same network: the
 * network's row is only share-locked (see `recordEndpoint`), addresses come off the
 * config's free list, and the allocation ledger's primary key refuses an address in use
 * in any case. A bridge with 1,023 endpoints (`MAX_BRIDGE_PORTS`) is refused here already
 * when its count says so, and by the database's check at commit when concurrent attaches
 * fill it meanwhile (NETWORK_FULL either way, see `bridge-ports.ts`).
 */
export async function attach(
  tx: Tx,
  /** Only its id is read: the node's insert may still be on its way (sent before, in order). */
  node: Pick<NodeRow, "id">,
  network: NetworkRow,
  request: AttachRequest,
  /** The network's IPAM configs, when the caller has read them already (they never change). */
  knownConfigs?: readonly IpamConfigRow[],
): Promise<NodeDetailEndpoint> {
  assertBridgeHasRoom(network, request.locations.network);
  const configs = knownConfigs ?? (await knownIpamConfigsOfNetwork(tx, network.id));
  const endpointId = newId("endpoint");
  const prefixOf = (config: IpamConfigRow): number => {
    const resolved = resolveIpamConfig({ subnet: config.subnet, gateway: config.gateway });
    return resolved.ok ? resolved.config.prefix : 32;
  };
  const endpoint = (config: IpamConfigRow): NewEndpoint => ({
    endpointId,
    nodeId: node.id,
    networkId: network.id,
    ipamConfigId: config.id,
    ifIndex: request.ifIndex,
    hostVeth: hostVethName(endpointId),
    prefix: prefixOf(config),
    aliases: request.aliases ?? [],
  });
  // What views show of it, as `nodeDetailsByIds` would read it back.
  const recorded = (config: IpamConfigRow, address: string): NodeDetailEndpoint => ({
    id: endpointId,
    networkId: network.id,
    networkName: network.name,
    ifIndex: request.ifIndex,
    address: `${address}/${prefixOf(config)}`,
    mac: macFromIpv4(address),
    aliases: [...(request.aliases ?? [])],
    internal: network.internal,
    gateway: config.gateway,
  });
  const removed = () =>
    new DomainError("CONFLICT", `network ${network.name} is being removed`, [
      { location: request.locations.network, message: "network is being removed" },
    ]);

  if (request.staticAddress) {
    const { config } = pickStatic(network, configs, request.staticAddress, request.locations.ipv4Address);
    const result = await recordEndpoint(tx, endpoint(config), { staticAddress: request.staticAddress });
    if (result.outcome === "recorded") {
      return recorded(config, result.address);
    }
    if (result.outcome === "network-removed") {
      throw removed();
    }
    throw await addressInUse(tx, network, request.staticAddress, request.locations.ipv4Address);
  }

  // Configs in order, each from its range's lowest free address (Docker's default IPAM).
  for (const config of configs) {
    const resolved = resolveIpamConfig({
      subnet: config.subnet,
      gateway: config.gateway,
      ...(config.ipRange ? { ipRange: config.ipRange } : {}),
    });
    if (!resolved.ok) {
      continue;
    }
    const range = dynamicRange(resolved.config);
    let wait = false;
    for (;;) {
      const result = await recordEndpoint(tx, endpoint(config), { wait });
      if (result.outcome === "recorded") {
        return recorded(config, result.address);
      }
      if (result.outcome === "network-removed") {
        throw removed();
      }
      if (result.outcome === "taken") {
        continue; // a static endpoint took that listed address; it is off the list now
      }
      if (wait) {
        break; // nothing listed is free, not even after in-flight takers finished
      }
      const grew = await listFreeAddresses(tx, {
        networkId: network.id,
        ipamConfigId: config.id,
        first: range.first,
        last: range.last,
      });
      // All listed: what is left may be held by transactions that can still roll back.
      wait = !grew;
    }
  }
  throw new DomainError("POOL_EXHAUSTED", `no free address left in network ${network.name}`);
}

/**
 * Refuses aliases that are not DNS names (RFC 1123) or that repeat, naming the field
 * (`body.aliases[1]`). Returns them as given.
 */
export function checkAliases(aliases: readonly string[] | undefined, location: string): string[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  for (const [i, alias] of (aliases ?? []).entries()) {
    const problem = dnsNameProblem(alias);
    if (problem) {
      errors.push({ location: `${location}[${i}]`, message: `invalid alias ${alias}: ${problem}` });
    } else if (seen.has(alias.toLowerCase())) {
      errors.push({ location: `${location}[${i}]`, message: `alias ${alias} is given twice` });
    }
    seen.add(alias.toLowerCase());
  }
  const [first] = errors;
  if (first) {
    throw new DomainError("INVALID_FIELD", first.message, errors);
  }
  return [...(aliases ?? [])];
}

function pickStatic(
  network: NetworkRow,
  configs: readonly IpamConfigRow[],
  address: string,
  location: string,
): { address: string; config: IpamConfigRow } {
  const problems: StaticAddressProblem[] = [];
  for (const config of configs) {
    const resolved = resolveIpamConfig({
      subnet: config.subnet,
      gateway: config.gateway,
      auxAddresses: config.auxAddresses,
    });
    if (!resolved.ok) {
      continue;
    }
    const problem = validateStaticAddress(resolved.config, address);
    if (!problem) {
      return { address, config };
    }
    problems.push(problem);
  }
  // Outside one subnet says nothing while another may hold it: what counts is why the others refused.
  const refusal = problems.find((p) => p.reason !== "outside");
  throw invalidField(
    location,
    refusal?.message ??
      `address ${address} is not in any subnet of network ${network.name} (${configs.map((c) => c.subnet).join(", ")})`,
  );
}

async function addressInUse(
  tx: Tx,
  network: NetworkRow,
  address: string,
  location: string,
): Promise<DomainError> {
  const [holder] = await tx
    .select({ node: schema.nodes.name, kind: schema.allocations.kind })
    .from(schema.allocations)
    .leftJoin(schema.endpoints, eq(schema.endpoints.id, schema.allocations.endpointId))
    .leftJoin(schema.nodes, eq(schema.nodes.id, schema.endpoints.nodeId))
    .where(and(eq(schema.allocations.networkId, network.id), eq(schema.allocations.address, address)));
  const who = holder?.node
    ? `node ${holder.node}`
    : holder
      ? `the network's ${holder.kind} address`
      : "another endpoint";
  const errors: FieldError[] = [{ location, message: `in use by ${who}` }];
  return new DomainError(
    "ADDRESS_IN_USE",
    `address ${address} of network ${network.name} is in use by ${who}`,
    errors,
  );
}
