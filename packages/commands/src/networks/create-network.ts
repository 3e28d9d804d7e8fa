import {
  constraintViolation,
  DatabaseLock,
  type HostRow,
  insertAllocations,
  listFreeAddresses,
  machineUplinks,
  type NetworkRow,
  newId,
  type OperationRow,
  schema,
  type Tx,
} from "@labnet/db";
import {
  cidrsOverlap,
  dynamicRange,
  findFreeSubnet,
  formatCidr,
  type IpamConfig,
  requireCidr,
  resolveIpamConfig,
} from "@labnet/ipam";
import { bridgeName, MAX_VNI, OVERLAY_MTU } from "@labnet/netplan";
import { and, eq, sql } from "drizzle-orm";
import type { CommandContext } from "../context";
import { DomainError, type FieldError, invalidField } from "../errors";
import { recordNetworkOperation } from "../operations/record-operation";
import { resolveHost } from "../resolve";
import { assertResourceName } from "../resource-names";
import { bridgeNameTaken, chosenBridgeName, MACHINE_DEFAULT_BRIDGE } from "./bridge-name";
import {
  assertDriverSupported,
  DOCKER_VXLANID_OPTION,
  FIRST_VNI,
  type NetworkDriver,
  requestedVni,
  resolveDriverOptions,
} from "./driver-options";
import { type NetworkOptionsInput, resolveNetworkOptions } from "./network-options";
import { type OwnSubnet, ownSubnetConflicts, ownSubnetsOf } from "./own-subnets";
import { assertIccSwitchable } from "./update-network";

/** Names Docker predefines; users cannot create networks with them. */
export const RESERVED_NETWORK_NAMES = ["bridge", "host", "none"] as const;

export interface CreateNetworkInput {
  name: string;
  host?: string;
  driver?: NetworkDriver;
  internal?: boolean;
  /** Nodes may be connected after creation (default true). */
  attachable?: boolean;
  ipam?: {
    configs: { subnet: string; gateway?: string; ipRange?: string; auxAddresses?: Record<string, string> }[];
  };
  options?: NetworkOptionsInput;
  labels?: Record<string, string>;
}

export interface CreatedNetwork {
  network: NetworkRow;
  operation: OperationRow;
}

/**
 * A network to write: the input with its driver's options resolved (see driver-options.ts) and
 * its bridge's chosen name, if any (bridge-name.ts; else `lnbr-<id8>`).
 */
type NetworkToInsert = CreateNetworkInput & { driverOptions?: Record<string, string>; bridge?: string };

/**
 * Where a network is recorded: a machine's own (scope and host = the machine), or an overlay
 * of a LAN (scope `lan:<LAN id>`, no host; its VNI given or allocated in the scope), whose
 * operations the named machine carries out.
 */
interface Placement {
  scope: string;
  hostId: string | null;
  /** Said in problems: `host bdc01`, `LAN ov-lan`. */
  label: string;
  overlay?: { vni: number | undefined };
}

/** How often a pool pick is retried when a concurrent request took the same subnet first. */
const POOL_PICK_TRIES = 8;

/**
 * Records a network and its IPAM configs (gateway and aux addresses allocated) and the
 * operation that builds it. Overlap with another subnet of the host, a taken name and a
 * taken address are refused by database constraints, never by a prior read.
 */
export async function createNetwork({
  ctx,
  input,
}: {
  ctx: CommandContext;
  input: CreateNetworkInput;
}): Promise<CreatedNetwork> {
  assertResourceName(input.name, "body.name", "network");
  if ((RESERVED_NETWORK_NAMES as readonly string[]).includes(input.name)) {
    throw new DomainError(
      "NAME_CONFLICT",
      `network name ${input.name} is reserved for a predefined network`,
      [{ location: "body.name", message: "reserved name" }],
    );
  }
  const host = await resolveHost(ctx.db, input.host);
  const driver = input.driver ?? "bridge";
  assertDriverSupported(host, driver);
  const driverOptions = resolveDriverOptions(host, driver, input.options);
  const bridge = chosenBridgeName(host, driver, input.options);
  const vni = requestedVni(driver, input.options);
  const options = resolveNetworkOptions(input.options);
  // icc is a bridge switch (a macvlan's traffic never passes the host's iptables).
  if (!options.icc && (driver === "bridge" || driver === "overlay")) {
    assertIccSwitchable(host, "body.options.icc");
  }
  const placement = driver === "overlay" ? await overlayPlacement(ctx, host, vni) : undefined;
  // A macvlan rides on its parent's segment: sharing the parent's subnet is what it is for.
  const own = driver === "macvlan" ? [] : await ownSubnetsOf(ctx.db, host);
  return insertNetwork(
    ctx,
    host,
    { ...input, options, driverOptions, ...(bridge === undefined ? {} : { bridge }) },
    false,
    placement,
    own,
  );
}

/**
 * An overlay network spans the machines of one LAN: it is recorded in the LAN's scope
 * (`lan:<LAN network id>`), so its name, subnets and VNI are unique among everything the
 * machines of that LAN share, and every machine on it lists it. A machine on no LAN (a lab
 * host's own) has no underlay to carry it.
 */
async function overlayPlacement(
  ctx: CommandContext,
  host: HostRow,
  vni: number | undefined,
): Promise<Placement> {
  const uplink = host.kind === "virtual" ? (await machineUplinks(ctx.db, [host.id])).get(host.id) : undefined;
  if (!uplink) {
    throw new DomainError(
      "INVALID_FIELD",
      `machine ${host.name} is on no LAN: an overlay network spans the virtual machines of one LAN, so name one of them`,
      [{ location: "body.host", message: `${host.name} is on no LAN (a lab host's own machine)` }],
    );
  }
  return { scope: `lan:${uplink.lanId}`, hostId: null, label: `LAN ${uplink.lanName}`, overlay: { vni } };
}

/**
 * The predefined `bridge` network of a host (Docker's docker0), created once. Returns it when
 * this call created it.
 */
export async function ensureDefaultBridge(
  ctx: CommandContext,
  host: HostRow,
): Promise<CreatedNetwork | undefined> {
  const [builtinNetwork] = await ctx.db
    .select({ id: schema.networks.id })
    .from(schema.networks)
    .where(and(eq(schema.networks.scope, host.id), eq(schema.networks.builtin, true)));
  if (builtinNetwork) {
    return undefined;
  }
  try {
    return await insertNetwork(
      ctx,
      host,
      {
        name: "bridge",
        ipam: { configs: [{ subnet: "172.17.0.0/16", gateway: "172.17.0.1" }] },
        // A virtual machine is a Docker host of its own: its docker0 is named so. A lab host's
        // namespace may hold a real dockerd's docker0, so its predefined network keeps lnbr-.
        ...(host.kind === "virtual" ? { bridge: MACHINE_DEFAULT_BRIDGE } : {}),
      },
      true,
    );
  } catch (error) {
    // Two executors of one host registering at once: the other one created it.
    if (!(error instanceof DomainError && error.code === "NAME_CONFLICT")) {
      throw error;
    }
    return undefined;
  }
}

async function insertNetwork(
  ctx: CommandContext,
  host: HostRow,
  input: NetworkToInsert,
  builtin: boolean,
  placement: Placement = { scope: host.id, hostId: host.id, label: `host ${host.name}` },
  own: readonly OwnSubnet[] = [],
): Promise<CreatedNetwork> {
  const driver = input.driver ?? "bridge";
  assertDriverSupported(host, driver);
  const requested = input.ipam?.configs;
  const fixed = requested ? resolveConfigs(requested) : undefined;
  if (fixed) {
    const conflicts = ownSubnetConflicts(
      fixed.map((c) => c.subnet),
      own,
      (i) => `body.ipam.configs[${i}].subnet`,
      `${host.kind === "virtual" ? "machine" : "lab host"} ${host.name}`,
    );
    const [first] = conflicts;
    if (first) {
      throw new DomainError("INVALID_FIELD", first.message, conflicts);
    }
  }
  const avoid = own.map((o) => formatCidr(o.cidr));
  const givenVni = placement.overlay?.vni;

  for (let attempt = 1; ; attempt++) {
    let configs = fixed ?? [];
    try {
      const created = await ctx.db.transaction(async (tx) => {
        configs = fixed ?? [await pickPoolSubnet(tx, ctx, placement.scope, avoid)];
        const vni = placement.overlay ? (givenVni ?? (await pickVni(tx, placement.scope))) : undefined;
        return writeNetwork(tx, ctx, host, input, driver, configs, builtin, placement, vni);
      });
      ctx.onOperationsWritten?.();
      return created;
    } catch (error) {
      const violation = constraintViolation(error);
      if (violation?.constraint === "networks_scope_name_key") {
        throw new DomainError(
          "NAME_CONFLICT",
          `a network named ${input.name} already exists on ${placement.label}`,
          [{ location: "body.name", message: "name already in use" }],
        );
      }
      if (violation?.constraint === "networks_host_bridge_name_key" && input.bridge !== undefined) {
        throw bridgeNameTaken(host, input.bridge);
      }
      if (violation?.constraint === "networks_scope_vni_key") {
        if (givenVni === undefined && attempt < POOL_PICK_TRIES) {
          continue; // a concurrent request took the VNI we picked; pick again
        }
        throw new DomainError(
          "CONFLICT",
          `VNI ${givenVni} is taken by another overlay network of ${placement.label}`,
          [{ location: `body.options.${DOCKER_VXLANID_OPTION}`, message: "VNI already in use" }],
        );
      }
      if (violation?.constraint === "ipam_configs_no_overlap") {
        if (!fixed && attempt < POOL_PICK_TRIES) {
          continue; // a concurrent request took the subnet we picked; pick again
        }
        throw await overlapError(ctx, placement.scope, configs);
      }
      if (violation?.constraint === "allocations_pkey") {
        throw invalidField(
          "body.ipam.configs",
          "an aux address coincides with a gateway or another aux address",
        );
      }
      throw error;
    }
  }
}

function resolveConfigs(requested: NonNullable<CreateNetworkInput["ipam"]>["configs"]): IpamConfig[] {
  const errors: FieldError[] = [];
  const configs: IpamConfig[] = [];
  requested.forEach((config, i) => {
    const result = resolveIpamConfig(config);
    if (result.ok) {
      configs.push(result.config);
    } else {
      for (const e of result.errors) {
        errors.push({ location: `body.ipam.configs[${i}].${e.field}`, message: e.message });
      }
    }
  });
  const [first] = errors;
  if (first) {
    throw new DomainError("INVALID_FIELD", first.message, errors);
  }
  return configs;
}

/**
 * The first free subnet of the pools. Concurrent picks in one scope queue on an advisory
 * lock, so twenty networks created at once get twenty subnets instead of all retrying on
 * the same one; the exclusion constraint still has the last word.
 */
async function pickPoolSubnet(
  tx: Tx,
  ctx: CommandContext,
  scope: string,
  avoid: readonly string[],
): Promise<IpamConfig> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${DatabaseLock.SubnetPool}, hashtext(${scope}))`);
  const taken = await tx
    .select({ subnet: schema.ipamConfigs.subnet })
    .from(schema.ipamConfigs)
    .where(eq(schema.ipamConfigs.scope, scope));
  const subnet = findFreeSubnet(ctx.addressPools, [
    ...taken.map((t) => t.subnet),
    ...(ctx.avoidSubnets ?? []),
    ...avoid,
  ]);
  if (!subnet) {
    throw new DomainError(
      "POOL_EXHAUSTED",
      "all predefined address pools have been fully subnetted: give a subnet or configure more pools",
    );
  }
  const result = resolveIpamConfig({ subnet });
  if (!result.ok) {
    throw new Error(`pool subnet ${subnet} is invalid: ${result.errors[0]?.message}`);
  }
  return result.config;
}

/**
 * Records a network of `host`'s own (subnet from the pools) inside the caller's transaction,
 * with its operation: for networks Labnet makes on the way (a machine's `docker_gwbridge`).
 * The caller serializes makers (the pool lock) and maps constraint violations.
 */
export async function insertHostNetworkIn(
  tx: Tx,
  ctx: CommandContext,
  host: HostRow,
  input: NetworkToInsert,
): Promise<CreatedNetwork> {
  const own = await ownSubnetsOf(tx, host);
  const configs = [
    await pickPoolSubnet(
      tx,
      ctx,
      host.id,
      own.map((o) => formatCidr(o.cidr)),
    ),
  ];
  const placement = { scope: host.id, hostId: host.id, label: `host ${host.name}` };
  return writeNetwork(tx, ctx, host, input, input.driver ?? "bridge", configs, false, placement, undefined);
}

/**
 * The lowest VNI from {@link FIRST_VNI} no overlay of the scope has. Concurrent picks queue on
 * the scope's pool lock (taken by the subnet pick too); the unique constraint has the last word.
 */
async function pickVni(tx: Tx, scope: string): Promise<number> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${DatabaseLock.SubnetPool}, hashtext(${scope}))`);
  const [row] = await tx.execute<{ vni: number | null }>(sql`
    SELECT CASE
      WHEN NOT EXISTS (SELECT 1 FROM networks WHERE scope = ${scope} AND vni = ${FIRST_VNI}) THEN ${FIRST_VNI}::int
      ELSE (SELECT min(n.vni + 1) FROM networks n
            WHERE n.scope = ${scope} AND n.vni >= ${FIRST_VNI}
              AND NOT EXISTS (SELECT 1 FROM networks m WHERE m.scope = ${scope} AND m.vni = n.vni + 1))
    END AS vni`);
  const vni = row?.vni ?? null;
  if (vni === null || vni > MAX_VNI) {
    throw new DomainError("POOL_EXHAUSTED", "every VNI of the LAN is taken");
  }
  return Number(vni);
}

async function overlapError(ctx: CommandContext, scope: string, configs: IpamConfig[]): Promise<DomainError> {
  const others = await ctx.db
    .select({ subnet: schema.ipamConfigs.subnet, name: schema.networks.name })
    .from(schema.ipamConfigs)
    .innerJoin(schema.networks, eq(schema.networks.id, schema.ipamConfigs.networkId))
    .where(eq(schema.ipamConfigs.scope, scope));
  const errors: FieldError[] = [];
  configs.forEach((config, i) => {
    const clash = others.find((o) => cidrsOverlap(requireCidr(o.subnet), requireCidr(config.subnet)));
    if (clash) {
      errors.push({
        location: `body.ipam.configs[${i}].subnet`,
        message: `subnet ${config.subnet} overlaps ${clash.subnet} of network ${clash.name}`,
      });
    }
  });
  if (errors.length === 0) {
    errors.push({ location: "body.ipam.configs", message: "the network's own subnets overlap each other" });
  }
  return new DomainError("SUBNET_OVERLAP", errors.map((e) => e.message).join("; "), errors);
}

async function writeNetwork(
  tx: Tx,
  ctx: CommandContext,
  host: HostRow,
  input: NetworkToInsert,
  driver: string,
  configs: IpamConfig[],
  builtin: boolean,
  placement: Placement,
  vni: number | undefined,
): Promise<CreatedNetwork> {
  const id = newId("network");
  const [network] = await tx
    .insert(schema.networks)
    .values({
      id,
      name: input.name,
      hostId: placement.hostId,
      scope: placement.scope,
      driver,
      internal: input.internal ?? false,
      builtin,
      bridgeName: input.bridge ?? bridgeName(id),
      // Docker's overlay MTU leaves room for the VXLAN headers within the LAN's 1500.
      mtu: input.options?.mtu ?? (driver === "overlay" ? OVERLAY_MTU : ctx.defaultMtu),
      vni: vni ?? null,
      icc: input.options?.icc ?? true,
      isolated: input.options?.isolated ?? true,
      attachable: input.attachable ?? true,
      options: vni === undefined ? (input.driverOptions ?? {}) : { [DOCKER_VXLANID_OPTION]: String(vni) },
      labels: input.labels ?? {},
    })
    .returning();
  if (!network) {
    throw new Error("inserting a network returned no row");
  }
  const configRows = configs.map((config, position) => ({
    id: newId("ipamConfig"),
    networkId: id,
    scope: placement.scope,
    position,
    subnet: config.subnet,
    gateway: config.gateway,
    ipRange: config.ipRange ?? null,
    auxAddresses: config.auxAddresses,
  }));
  await tx.insert(schema.ipamConfigs).values(configRows);
  await insertAllocations(
    tx,
    configRows.flatMap((row, i) => [
      { networkId: id, ipamConfigId: row.id, address: configs[i]?.gateway ?? "", kind: "gateway" as const },
      ...Object.values(row.auxAddresses).map((address) => ({
        networkId: id,
        ipamConfigId: row.id,
        address,
        kind: "aux" as const,
      })),
    ]),
  );
  // The first chunk of each range's free list, listed now: otherwise a burst's first attaches
  // all find the list empty and queue behind one another's listing, each holding the range's
  // row until its own creation commits (24 ms waits seen at the start of a 300-node burst).
  await Promise.all(
    configRows.map((row, i) => {
      const config = configs[i];
      return config
        ? listFreeAddresses(tx, { networkId: id, ipamConfigId: row.id, ...dynamicRange(config) })
        : undefined;
    }),
  );
  // An overlay's is carried out by the machine that named it (it has no host of its own).
  const operation = await recordNetworkOperation(tx, { id: id, hostId: host.id }, "network.ensure");
  return { network, operation };
}
