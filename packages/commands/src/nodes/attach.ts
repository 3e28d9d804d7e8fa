import {
  constraintViolation,
  getNetwork,
  type IpamConfigRow,
  insertAllocations,
  ipamConfigsOf,
  type NetworkRow,
  type NodeRow,
  newId,
  nextFreeAddress,
  schema,
  type Tx,
} from "@labnet/db";
import {
  dynamicRange,
  macFromIpv4,
  resolveIpamConfig,
  validateStaticAddress,
  withPrefix,
} from "@labnet/ipam";
import { hostVethName } from "@labnet/netplan";
import { and, eq } from "drizzle-orm";
import { dnsNameProblem } from "../dns-names";
import { DomainError, type FieldError, invalidField } from "../errors";

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
 * Adds an endpoint of `node` on `network` with a static or the next free address. Call it
 * holding the network's row lock (`lockNetworks`): the address is recorded in the
 * allocation ledger, whose primary key refuses one already in use in any case.
 */
export async function attach(
  tx: Tx,
  node: NodeRow,
  lockedNetwork: NetworkRow,
  request: AttachRequest,
): Promise<void> {
  // Re-read under the lock: the network may have been marked for removal meanwhile.
  const network = await getNetwork(tx, lockedNetwork.id);
  if (!network || network.state === "deleting") {
    throw new DomainError("CONFLICT", `network ${lockedNetwork.name} is being removed`, [
      { location: request.locations.network, message: "network is being removed" },
    ]);
  }
  const configs = await ipamConfigsOf(tx, [network.id]);
  const { address, config } = request.staticAddress
    ? pickStatic(network, configs, request.staticAddress, request.locations.ipv4Address)
    : await pickDynamic(tx, network, configs);
  const resolved = resolveIpamConfig({ subnet: config.subnet, gateway: config.gateway });
  const prefix = resolved.ok ? resolved.config.prefix : 32;
  const endpointId = newId("endpoint");
  await tx.insert(schema.endpoints).values({
    id: endpointId,
    nodeId: node.id,
    networkId: network.id,
    ifIndex: request.ifIndex,
    hostVeth: hostVethName(endpointId),
    address: withPrefix(address, prefix),
    mac: macFromIpv4(address),
    aliases: [...(request.aliases ?? [])],
    staticAddress: request.staticAddress !== undefined,
  });
  try {
    await tx.transaction((sp) =>
      insertAllocations(sp, [
        { networkId: network.id, ipamConfigId: config.id, address, kind: "endpoint", endpointId },
      ]),
    );
  } catch (error) {
    if (constraintViolation(error)?.constraint === "allocations_pkey") {
      throw await addressInUse(tx, network, address, request.locations.ipv4Address);
    }
    throw error;
  }
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
  configs: IpamConfigRow[],
  address: string,
  location: string,
): { address: string; config: IpamConfigRow } {
  const problems: string[] = [];
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
  const outside = problems.every((p) => p.includes("doesn't contain") || p.includes("not in"));
  throw invalidField(
    location,
    outside || problems.length === 0
      ? `address ${address} is not in any subnet of network ${network.name} (${configs.map((c) => c.subnet).join(", ")})`
      : (problems.find((p) => !p.includes("doesn't contain")) ?? `address ${address} cannot be used`),
  );
}

async function pickDynamic(
  tx: Tx,
  network: NetworkRow,
  configs: IpamConfigRow[],
): Promise<{ address: string; config: IpamConfigRow }> {
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
    const address = await nextFreeAddress(tx, network.id, dynamicRange(resolved.config));
    if (address) {
      return { address, config };
    }
  }
  throw new DomainError("POOL_EXHAUSTED", `no free address left in network ${network.name}`);
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
