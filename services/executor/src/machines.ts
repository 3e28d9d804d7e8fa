import { existsSync } from "node:fs";
import { basename } from "node:path";
import { finishMachineRemoval } from "@labnet/commands";
import { type Database, type HostRow, LAB_LABEL, machineOfHost, schema, virtualMachinesOf } from "@labnet/db";
import type { Logger } from "@labnet/log";
import { and, eq } from "drizzle-orm";
import { type ConvergeDeps, type ConvergeNames, type ConvergeScope, detectDrift } from "./converge";
import { createHostConverger, type HostConverger } from "./host-converger";
import { enableMachineIpForward, type NetnsOwner, type Runner, withNetns } from "./kernel";
import type { ExecutorMetrics } from "./metrics";

/** What a machine's name service needs from the executor (one per machine: its own gateways). */
export interface MachineNames {
  names: ConvergeNames;
  close(): Promise<void>;
}

export interface FleetOptions {
  db: Database;
  runner: Runner;
  /** The lab host this executor manages, and its converger (the host's own machine). */
  host: HostRow;
  hostConverger: HostConverger;
  log: Logger;
  /** The name service of a virtual machine, bound inside its namespace. */
  namesOf(machine: HostRow): MachineNames;
  /** Measures the virtual machines' converges too (under the lab host's label). */
  metrics?: Pick<ExecutorMetrics, "observeConverge">;
}

/**
 * Every machine this executor converges: its lab host's own (the namespace it runs in) and
 * the virtual machines built on it, each with a converger of its own whose commands run
 * inside the machine's namespace (`nsenter --net=`), so one machine's converge never plans
 * another's. A virtual machine's namespace is its uplink node's sandbox on the lab host: until
 * the lab host has built it, the machine's operations wait (they are not started).
 */
export interface MachineFleet {
  /** The converger of `hostId` if this executor serves it (looked up in Postgres once). */
  converger(hostId: string): Promise<HostConverger | undefined>;
  /** The converger of `hostId` if this executor serves it and has met it already (no lookup). */
  knownConverger(hostId: string): HostConverger | undefined;
  /** A runner whose commands run in machine `hostId`'s namespace, if this executor serves it. */
  runnerOf(hostId: string): Promise<Runner | undefined>;
  /** Requests a converge of every machine (the reconcile loop), the lab host's first. */
  requestAll(scope: ConvergeScope): Promise<void>;
  /**
   * After the lab host settled operations of uplink nodes `nodeIds`: those machines' namespaces
   * may have just been built, so their waiting operations can go.
   */
  kickMachines(nodeIds: readonly string[]): void;
  close(): Promise<void>;
}

interface Member {
  machine: HostRow;
  converger: HostConverger;
  /** What the converger converges with (for drift detection, which plans without applying). */
  deps: ConvergeDeps;
  runner: Runner;
  names: MachineNames;
}

export function createMachineFleet(options: FleetOptions): MachineFleet {
  const { db, runner, host, log } = options;
  const members = new Map<string, Member>();
  let closed = false;

  const add = (machine: HostRow): Member => {
    const existing = members.get(machine.id);
    if (existing) {
      return existing;
    }
    const netnsPath = machine.netnsPath;
    if (netnsPath === null || !machine.netnsPrefix) {
      throw new Error(`virtual machine ${machine.name} has no namespace recorded`);
    }
    const machineRunner = withNetns(runner, netnsPath);
    const machineNetns = basename(netnsPath);
    const names = options.namesOf(machine);
    let forwarding = false;
    let built = false;
    const machineLog = withFields(log, { machine: machine.name });
    const deps: ConvergeDeps = {
      db,
      runner: machineRunner,
      hostId: machine.id,
      netnsPrefix: machine.netnsPrefix,
      log: machineLog,
      // Built by the lab host's converge of the uplink node; wait for it rather than fail.
      ready: async () => {
        if (!existsSync(netnsPath)) {
          return false;
        }
        // The namespace exists once the lab host applied its plan; its uplink is settled a
        // moment later, and the machine is not built before that.
        built ||= await uplinkIsReady(db, machine);
        if (!built) {
          return false;
        }
        if (!forwarding) {
          await enableMachineIpForward(machineRunner);
          forwarding = true;
        }
        return true;
      },
      names: names.names,
      // Its nodes' namespaces belong to the machine's user namespace (kernel/userns.ts).
      netnsOwners: async (netns) =>
        new Map(netns.map((name) => [name, { kind: "machine", machineNetns } satisfies NetnsOwner])),
    };
    const converger = createHostConverger({
      ...deps,
      // No known links: the machine's namespace is its lab host's uplink sandbox, which the lab
      // host's converges may rebuild under it, so what a listing saw there may not last.
      known: {},
      ...(options.metrics ? { metrics: options.metrics } : {}),
      afterSettle: async () => {
        // Emptied by a machine removal: its uplink node (and with it the record) goes next.
        if (await finishMachineRemoval(db, machine.id)) {
          machineLog.info("machine emptied, removing its namespace");
          options.hostConverger.request("changed").catch(() => undefined);
        }
      },
    });
    const member = { machine, converger, deps, runner: machineRunner, names };
    members.set(machine.id, member);
    return member;
  };

  const drop = async (id: string) => {
    const member = members.get(id);
    if (member) {
      members.delete(id);
      await member.converger.close();
      await member.names.close();
    }
  };

  /** Machines of the lab host now in Postgres: new ones join, removed ones leave. */
  const refresh = async (): Promise<Member[]> => {
    const machines = await virtualMachinesOf(db, host.id);
    const ids = new Set(machines.map((m) => m.id));
    for (const id of members.keys()) {
      if (!ids.has(id)) {
        await drop(id);
      }
    }
    // A machine being recorded has no namespace yet: it joins on its first job.
    return machines.filter((m) => m.netnsPath !== null && m.uplinkNodeId !== null).map(add);
  };

  /**
   * A lab machine's kernel is the student's to change: its reconcile serves what is open, then
   * records how far the kernel drifted instead of undoing it (a reset restores). Any other
   * machine is repaired as the lab host is.
   */
  const reconcileMember = async (member: Member, scope: ConvergeScope) => {
    if (scope !== "all" || member.machine.labels[LAB_LABEL] === undefined) {
      await member.converger.request(scope);
      return;
    }
    await member.converger.request("changed");
    const changes = await detectDrift(member.deps);
    if (changes?.some((line) => line.startsWith("netns add "))) {
      // Namespaces are gone (the lab host restarted): no student did that, build them again.
      await member.converger.request("all");
      return;
    }
    if (changes !== undefined) {
      if (changes.length > 0) {
        log.info("lab machine drifted", { machine: member.machine.name, changes: changes.length });
      }
      await db
        .update(schema.hosts)
        .set({ drift: { checkedAt: new Date().toISOString(), changes } })
        .where(eq(schema.hosts.id, member.machine.id));
    }
  };

  const memberOf = async (hostId: string): Promise<Member | undefined> => {
    const known = members.get(hostId);
    if (known || closed) {
      return known;
    }
    const machine = await machineOfHost(db, hostId, host.id);
    return machine ? add(machine) : undefined;
  };

  return {
    async runnerOf(hostId) {
      return hostId === host.id ? runner : (await memberOf(hostId))?.runner;
    },
    async converger(hostId) {
      if (hostId === host.id) {
        return options.hostConverger;
      }
      return (await memberOf(hostId))?.converger;
    },
    knownConverger(hostId) {
      return hostId === host.id ? options.hostConverger : members.get(hostId)?.converger;
    },
    async requestAll(scope) {
      await options.hostConverger.request(scope);
      const current = await refresh();
      await Promise.all(
        current.map((m) =>
          reconcileMember(m, scope).catch((error) =>
            log.error("machine reconcile failed", { machine: m.machine.name, error: String(error) }),
          ),
        ),
      );
    },
    kickMachines(nodeIds) {
      const settled = new Set(nodeIds);
      for (const member of members.values()) {
        if (member.machine.uplinkNodeId !== null && settled.has(member.machine.uplinkNodeId)) {
          member.converger.request("changed").catch(() => undefined);
        }
      }
    },
    async close() {
      closed = true;
      await Promise.all([...members.keys()].map(drop));
    },
  };
}

/** `log` with `fields` on every line (which machine a converge was of). */
function withFields(log: Logger, fields: Record<string, unknown>): Logger {
  return log.child(fields);
}

/**
 * Owners of the lab host's new namespaces that are virtual machines' (uplink sandboxes): each
 * a user namespace of its own, root = the machine's account outside.
 */
export async function machineNetnsOwners(
  db: Database,
  labHostId: string,
  netns: readonly string[],
): Promise<Map<string, NetnsOwner>> {
  const wanted = new Set(netns);
  const owners = new Map<string, NetnsOwner>();
  for (const machine of await virtualMachinesOf(db, labHostId)) {
    const name = machine.netnsPath ? basename(machine.netnsPath) : undefined;
    if (name && wanted.has(name) && machine.uid !== null) {
      owners.set(name, { kind: "account", uid: machine.uid });
    }
  }
  return owners;
}

async function uplinkIsReady(db: Database, machine: HostRow): Promise<boolean> {
  if (!machine.uplinkNodeId) {
    return false;
  }
  const [row] = await db
    .select({ id: schema.nodes.id })
    .from(schema.nodes)
    .where(and(eq(schema.nodes.id, machine.uplinkNodeId), eq(schema.nodes.state, "ready")));
  return row !== undefined;
}
