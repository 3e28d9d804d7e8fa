import {
  constraintViolation,
  getNetwork,
  type IpamConfigRow,
  insertAllocations,
  insertOperation,
  ipamConfigsOf,
  lockNetworks,
  type NetworkRow,
  type NodeRow,
  newId,
  nextFreeAddress,
  type OperationRow,
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
import { hostVethName, sandboxNetnsName } from "@labnet/netplan";
import { and, eq } from "drizzle-orm";
import type { CommandContext } from "../context";
import { DomainError, type FieldError, invalidField } from "../errors";
import { resolveHost, resolveNetwork } from "../resolve";

export interface NodeNetworkInput {
  network: string;
  ipv4Address?: string;
}

export interface CreateNodeInput {
  name: string;
  host?: string;
  /** `bridge` (default), `none`, or a network name or id. */
  networkMode?: string;
  /** Networks to attach, in order (eth0, eth1, ...), each with an optional static address. */
  networks?: NodeNetworkInput[];
  labels?: Record<string, string>;
}

export interface CreatedNode {
  node: NodeRow;
  operation: OperationRow;
}

/**
 * Records a node, an endpoint per network with an address from the network's IPAM, and
 * the operation that builds its sandbox. Addresses are taken under the networks' row
 * locks and recorded in the allocation ledger, whose primary key refuses any address
 * already in use, so concurrent requests cannot get the same one.
 */
export async function createNode({
  ctx,
  input,
}: {
  ctx: CommandContext;
  input: CreateNodeInput;
}): Promise<CreatedNode> {
  const { mode, attachments } = attachmentsOf(input);
  const hostRef = input.host ? await resolveHost(ctx.db, input.host) : undefined;
  const networks: NetworkRow[] = [];
  for (const [i, attachment] of attachments.entries()) {
    const location = input.networks ? `body.networks[${i}].network` : "body.networkMode";
    const network =
      attachment.network === "bridge"
        ? await defaultBridgeOf(ctx, hostRef?.id ?? networks[0]?.hostId ?? undefined, location)
        : await resolveNetwork(ctx.db, attachment.network, hostRef?.id, location);
    if (networks.some((n) => n.id === network.id)) {
      throw invalidField(location, `network ${network.name} is listed twice`);
    }
    if (networks[0] && networks[0].hostId !== network.hostId) {
      throw invalidField(location, `network ${network.name} is on another host than ${networks[0].name}`);
    }
    networks.push(network);
  }
  const host =
    hostRef ??
    (networks[0]?.hostId
      ? await resolveHost(ctx.db, networks[0].hostId)
      : await resolveHost(ctx.db, undefined));

  try {
    const created = await ctx.db.transaction(async (tx) => {
      await lockNetworks(
        tx,
        networks.map((n) => n.id),
      );
      const id = newId("node");
      const [node] = await tx
        .insert(schema.nodes)
        .values({
          id,
          name: input.name,
          hostId: host.id,
          networkMode: mode === "bridge" || mode === "none" ? mode : (networks[0]?.name ?? mode),
          netns: sandboxNetnsName(host.netnsPrefix, id),
          labels: input.labels ?? {},
        })
        .returning();
      if (!node) {
        throw new Error("inserting a node returned no row");
      }
      for (const [i, network] of networks.entries()) {
        await attach(
          tx,
          node,
          network,
          i,
          attachments[i]?.ipv4Address,
          input.networks ? `body.networks[${i}]` : "body",
        );
      }
      const operation = await insertOperation(tx, {
        kind: "node.ensure",
        hostId: host.id,
        targetType: "node",
        targetId: id,
      });
      return { node, operation };
    });
    ctx.onOperationsWritten?.();
    return created;
  } catch (error) {
    const violation = constraintViolation(error);
    if (violation?.constraint === "nodes_host_name_key") {
      throw new DomainError(
        "NAME_CONFLICT",
        `a node named ${input.name} already exists on host ${host.name}`,
        [{ location: "body.name", message: "name already in use" }],
      );
    }
    throw error;
  }
}

function attachmentsOf(input: CreateNodeInput): { mode: string; attachments: NodeNetworkInput[] } {
  const mode = input.networkMode ?? input.networks?.[0]?.network ?? "bridge";
  if (mode === "host" || mode.startsWith("container:")) {
    throw invalidField("body.networkMode", `network mode ${mode} is not supported yet`);
  }
  if (mode === "none") {
    if (input.networks && input.networks.length > 0) {
      throw invalidField("body.networks", "a node in network mode none cannot be attached to networks");
    }
    return { mode, attachments: [] };
  }
  if (!input.networks || input.networks.length === 0) {
    return { mode, attachments: [{ network: mode }] };
  }
  const first = input.networks[0]?.network;
  if (input.networkMode !== undefined && first !== input.networkMode) {
    throw invalidField(
      "body.networkMode",
      `network mode ${input.networkMode} differs from the first network ${first}`,
    );
  }
  return { mode, attachments: input.networks };
}

async function defaultBridgeOf(
  ctx: CommandContext,
  hostId: string | undefined,
  location: string,
): Promise<NetworkRow> {
  const host = await resolveHost(ctx.db, hostId);
  const [network] = await ctx.db
    .select()
    .from(schema.networks)
    .where(and(eq(schema.networks.scope, host.id), eq(schema.networks.builtin, true)));
  if (!network) {
    throw new DomainError("NOT_FOUND", `host ${host.name} has no default bridge network yet`, [
      { location, message: "default bridge missing" },
    ]);
  }
  return network;
}

/** Adds endpoint `ifIndex` of `node` on `network`, with a static or the next free address. */
export async function attach(
  tx: Tx,
  node: NodeRow,
  lockedNetwork: NetworkRow,
  ifIndex: number,
  staticAddress: string | undefined,
  location: string,
): Promise<void> {
  // Re-read under the lock: the network may have been marked for removal meanwhile.
  const network = await getNetwork(tx, lockedNetwork.id);
  if (!network || network.state === "deleting") {
    throw new DomainError("CONFLICT", `network ${lockedNetwork.name} is being removed`, [
      { location: `${location}.network`, message: "network is being removed" },
    ]);
  }
  const configs = await ipamConfigsOf(tx, [network.id]);
  const { address, config } = staticAddress
    ? pickStatic(network, configs, staticAddress, `${location}.ipv4Address`)
    : await pickDynamic(tx, network, configs);
  const resolved = resolveIpamConfig({ subnet: config.subnet, gateway: config.gateway });
  const prefix = resolved.ok ? resolved.config.prefix : 32;
  const endpointId = newId("endpoint");
  await tx.insert(schema.endpoints).values({
    id: endpointId,
    nodeId: node.id,
    networkId: network.id,
    ifIndex,
    hostVeth: hostVethName(endpointId),
    address: withPrefix(address, prefix),
    mac: macFromIpv4(address),
  });
  try {
    await tx.transaction((sp) =>
      insertAllocations(sp, [
        { networkId: network.id, ipamConfigId: config.id, address, kind: "endpoint", endpointId },
      ]),
    );
  } catch (error) {
    if (constraintViolation(error)?.constraint === "allocations_pkey") {
      throw await addressInUse(tx, network, address, `${location}.ipv4Address`);
    }
    throw error;
  }
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
      : (problems[0] ?? `address ${address} cannot be used`),
  );
}

async function pickDynamic(
  tx: Tx,
  network: NetworkRow,
  configs: IpamConfigRow[],
): Promise<{ address: string; config: IpamConfigRow }> {
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
