import {
  constraintViolation,
  type HostRow,
  type NetworkRow,
  newId,
  type OperationRow,
  schema,
} from "@labnet/db";
import { DEFAULT_LAN_POOLS } from "@labnet/ipam";
import { machineNetnsPrefix } from "@labnet/netplan";
import { eq, sql } from "drizzle-orm";
import type { CommandContext } from "../context";
import { DomainError, type FieldError, invalidField } from "../errors";
import { createNetwork, ensureDefaultBridge } from "../networks/create-network";
import { deleteNetwork } from "../networks/delete-network";
import { createNode } from "../nodes/create-node";
import { MACHINE_LABEL } from "../nodes/delete-node";
import { resolveHost, resolveNetwork } from "../resolve";

/** Where LANs without a subnet get one (the pools live with the other defaults, in ipam). */
export { DEFAULT_LAN_POOLS };

/** The LAN a machine joins when the request names none. */
export const DEFAULT_LAN = "lan";

/** Uids of machines' accounts: far above real accounts and the usual subordinate-id ranges. */
export const MACHINE_UID_BASE = 2_100_000_000;

/** Label that marks a lab host's network as a LAN (machines' uplinks). */
export const LAN_LABEL = "labnet.lan";

/** A machine name is a DNS label: it is the uplink's node name and the default hostname. */
const MACHINE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface CreateMachineInput {
  name: string;
  /** The lab host to build it on (default: the least loaded online one). */
  host?: string;
  /** The lab host's network its `eth0` plugs into; created (from the LAN pool) when missing. */
  lan?: string;
  /** Its `eth0` address on the LAN (default: allocated). */
  address?: string;
  /** What it calls itself (default: its name). */
  hostname?: string;
  labels?: Record<string, string>;
  /** The account it belongs to (a lab's machines: the lab's owner). */
  ownerId?: string | null;
}

export interface CreatedMachine {
  machine: HostRow;
  /** Done when the machine is built: its namespace and its `bridge` network (which waits for the namespace). */
  operation: OperationRow;
}

/**
 * Records a virtual machine on a lab host (DESIGN §8): its record (own networks, IPAM and
 * port ledger hang off it), its uplink (a node of the lab host on the LAN, whose sandbox is
 * the machine's namespace) and its predefined `bridge` network, 172.17.0.0/16 as on every
 * Docker host. Three transactions: a failure in a later one removes what the earlier wrote.
 */
export async function createMachine({
  ctx,
  input,
}: {
  ctx: CommandContext;
  input: CreateMachineInput;
}): Promise<CreatedMachine> {
  if (!MACHINE_NAME.test(input.name)) {
    throw invalidField("body.name", "a machine name is a DNS label: a-z, 0-9 and -, at most 63");
  }
  if (input.hostname !== undefined && !MACHINE_NAME.test(input.hostname)) {
    throw invalidField("body.hostname", "a hostname is a DNS label: a-z, 0-9 and -, at most 63");
  }
  const labHost = await resolveHost(ctx.db, input.host);
  if (labHost.kind !== "lab") {
    throw invalidField("body.host", `${labHost.name} is a virtual machine: machines are built on lab hosts`);
  }
  const machine = await insertMachineRow(ctx, labHost, input);
  let lan: { network: NetworkRow; created: boolean } | undefined;
  try {
    lan = await ensureLan(ctx, labHost, input.lan ?? DEFAULT_LAN);
    let built: HostRow | undefined;
    await createNode({
      ctx,
      input: {
        name: input.name,
        host: labHost.id,
        networks: [{ network: lan.network.id, ...(input.address ? { ipv4Address: input.address } : {}) }],
        hostname: input.hostname ?? input.name,
        labels: { [MACHINE_LABEL]: machine.id },
      },
      // In the node's transaction: the lab host's converge of the uplink (woken by its commit)
      // finds the machine by its namespace, and makes that namespace the machine's account's.
      // Committed after it, the namespace was made root's, and no node of the machine could
      // ever be made (they enter the machine's user namespace).
      withNode: async (tx, node) => {
        if (!node.netns) {
          throw new Error(`uplink node ${node.id} has no sandbox`);
        }
        [built] = await tx
          .update(schema.hosts)
          .set({ uplinkNodeId: node.id, netnsPath: `/run/netns/${node.netns}` })
          .where(eq(schema.hosts.id, machine.id))
          .returning();
      },
    }).catch((error: unknown) => {
      throw relocate(error);
    });
    if (!built) {
      throw new Error(`machine ${machine.id} vanished while being created`);
    }
    const bridge = await ensureDefaultBridge(ctx, built);
    if (!bridge) {
      throw new Error(`machine ${machine.id} already had a bridge network`);
    }
    return { machine: built, operation: bridge.operation };
  } catch (error) {
    // Nothing was built yet: the uplink node, if any, goes with the record (on delete cascade
    // from the node), so remove the node's row directly when it exists, else the record.
    await undoMachine(ctx, machine.id);
    if (lan?.created) {
      // Made for this machine alone: it goes the way every network goes (its bridge with it).
      await deleteNetwork({ ctx, ref: lan.network.id, force: false }).catch(() => undefined);
    }
    throw error;
  }
}

/** The LAN network `ref` of the lab host, created from the LAN pool when it does not exist. */
async function ensureLan(
  ctx: CommandContext,
  labHost: HostRow,
  ref: string,
): Promise<{ network: NetworkRow; created: boolean }> {
  try {
    return { network: await resolveNetwork(ctx.db, ref, labHost.id, "body.lan"), created: false };
  } catch (error) {
    if (!(error instanceof DomainError && error.code === "NOT_FOUND")) {
      throw error;
    }
  }
  try {
    const created = await createNetwork({
      ctx: { ...ctx, addressPools: ctx.lanPools ?? DEFAULT_LAN_POOLS },
      input: { name: ref, host: labHost.id, labels: { [LAN_LABEL]: "true" } },
    });
    return { network: created.network, created: true };
  } catch (error) {
    // Two machines creating the same LAN at once: the other one made it.
    if (error instanceof DomainError && error.code === "NAME_CONFLICT") {
      return { network: await resolveNetwork(ctx.db, ref, labHost.id, "body.lan"), created: false };
    }
    throw relocate(error, "body.lan");
  }
}

async function insertMachineRow(ctx: CommandContext, labHost: HostRow, input: CreateMachineInput) {
  const id = newId("host");
  try {
    const [row] = await ctx.db
      .insert(schema.hosts)
      .values({
        id,
        name: input.name,
        kind: "virtual",
        parentHostId: labHost.id,
        hostname: input.hostname ?? input.name,
        // The next free account; the unique constraint refuses a concurrent twin (retried below).
        uid: sql`(SELECT coalesce(max(${schema.hosts.uid}) + 1, ${MACHINE_UID_BASE}) FROM ${schema.hosts})`,
        netnsPrefix: machineNetnsPrefix(labHost.netnsPrefix, id),
        underlayAddress: null,
        capabilities: { ...labHost.capabilities, interfaces: ["eth0"] },
        labels: input.labels ?? {},
        ownerId: input.ownerId ?? null,
        portRangeStart: labHost.portRangeStart,
        portRangeEnd: labHost.portRangeEnd,
        lastHeartbeatAt: labHost.lastHeartbeatAt,
      })
      .returning();
    if (!row) {
      throw new Error("inserting a machine returned no row");
    }
    return row;
  } catch (error) {
    const violation = constraintViolation(error);
    if (violation?.constraint === "hosts_name_unique" || violation?.constraint === "hosts_name_key") {
      throw new DomainError("NAME_CONFLICT", `a machine or host named ${input.name} exists`, [
        { location: "body.name", message: "name taken" },
      ]);
    }
    if (violation?.constraint === "hosts_uid_unique") {
      return insertMachineRow(ctx, labHost, input);
    }
    throw error;
  }
}

async function undoMachine(ctx: CommandContext, machineId: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ uplink: schema.hosts.uplinkNodeId })
      .from(schema.hosts)
      .where(eq(schema.hosts.id, machineId));
    await tx.delete(schema.networks).where(eq(schema.networks.hostId, machineId));
    await tx.delete(schema.operations).where(eq(schema.operations.hostId, machineId));
    if (row?.uplink) {
      await tx.delete(schema.operations).where(eq(schema.operations.targetId, row.uplink));
      await tx.delete(schema.nodes).where(eq(schema.nodes.id, row.uplink));
    }
    await tx.delete(schema.hosts).where(eq(schema.hosts.id, machineId));
  });
}

/** The uplink's fields as the machine request names them. */
function relocate(error: unknown, lanLocation = "body.lan"): unknown {
  if (!(error instanceof DomainError)) {
    return error;
  }
  const where = (location: string): string =>
    location
      .replace(/^body\.networks\[0\]\.ipv4Address/, "body.address")
      .replace(/^body\.networks\[0\]\.network/, lanLocation)
      .replace(/^body\.networks\[0\]/, lanLocation);
  const errors: FieldError[] = error.errors.map((e) => ({ ...e, location: where(e.location) }));
  return new DomainError(error.code, error.message, errors);
}
