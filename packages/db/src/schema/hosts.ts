import { sql } from "drizzle-orm";
import { type AnyPgColumn, check, inet, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { labels, timestamps } from "./columns";
import { nodes } from "./nodes";

export interface HostCapabilities {
  linkTypes: string[];
  drivers: string[];
  iptables: boolean;
  /**
   * Bridged traffic passes iptables (br_netfilter, `bridge-nf-call-iptables` = 1), which
   * inter-node isolation within a network (icc off) needs. Absent in records of older executors.
   */
  bridgeNetfilter?: boolean;
  /**
   * Interfaces that can parent a macvlan or carry a vxlan (the host's own links, not Labnet's);
   * a virtual machine has `eth0`. Absent in records of older executors.
   */
  interfaces?: string[];
  /**
   * The IPv4 addresses (`a.b.c.d/p`) of those interfaces: the host's uplink and whatever else
   * it is plugged into, which no bridge network of the host may overlap. Absent in records of
   * older executors.
   */
  addresses?: { interface: string; address: string }[];
}

/**
 * `lab`: a lab host, registered by its executor (the machine that is the host's own network
 * namespace). `virtual`: a machine Labnet builds on a lab host, a network namespace that
 * plays a complete Docker host of its own (DESIGN §8), converged by its lab host's executor.
 */
export type MachineKind = "lab" | "virtual";

export interface MachineDrift {
  checkedAt: string;
  /** The kernel changes that would restore what Labnet built, as batch lines and rule chains. */
  changes: string[];
}

/** Lifecycle of a virtual machine's record; lab hosts are always `ready`. */
export type MachineState = "ready" | "deleting";

/**
 * Machines: lab hosts, registered by their executor at start and kept alive by heartbeats,
 * and the virtual machines built on them. Networks, nodes, IPAM and the port ledger are
 * scoped to a row of this table, so every machine has its own `bridge`, `my-net` and ports.
 */
export const hosts = pgTable(
  "hosts",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull().unique(),
    kind: text("kind").$type<MachineKind>().notNull().default("lab"),
    /** The lab host a virtual machine is built on (its executor converges it). */
    parentHostId: text("parent_host_id").references((): AnyPgColumn => hosts.id, { onDelete: "restrict" }),
    /**
     * A virtual machine's namespace is the sandbox of this node of its lab host, on a LAN (a
     * network of the lab host): its `eth0`, address, default route and external ports. The
     * machine's record goes with it.
     */
    uplinkNodeId: text("uplink_node_id")
      .unique()
      .references((): AnyPgColumn => nodes.id, { onDelete: "cascade" }),
    /** What the machine calls itself (`hostname` inside it); the seeds' bdc01. */
    hostname: text("hostname"),
    /**
     * A virtual machine's unprivileged account: its namespaces belong to a user namespace whose
     * root is this uid outside, so root inside administers that machine and nothing else.
     */
    uid: integer("uid").unique(),
    state: text("state").$type<MachineState>().notNull().default("ready"),
    /** The account a virtual machine belongs to (its instructor's, for a lab's machines); null for lab hosts and an admin's. */
    ownerId: text("owner_id").references((): AnyPgColumn => accounts.id, { onDelete: "restrict" }),
    /**
     * A lab machine's drift: what its kernel differs in from what Labnet built (the changes a
     * converge would make), as of `checkedAt`. A student's changes are their work: a lab
     * machine's reconcile reports them here instead of undoing them (a reset restores).
     */
    drift: jsonb("drift").$type<MachineDrift>(),
    underlayAddress: inet("underlay_address"),
    /** Prefix of the sandbox netns names this host's executor owns (`ln-`). */
    netnsPrefix: text("netns_prefix").notNull(),
    /**
     * The host's own network namespace as a path (what nodes in network mode `host` show as
     * their sandbox key): `/run/netns/<name>` for a simulated host, `/proc/1/ns/net` for a
     * machine's root namespace; null when the executor could not tell.
     */
    netnsPath: text("netns_path"),
    capabilities: jsonb("capabilities").$type<HostCapabilities>().notNull(),
    labels: labels(),
    /** Host ports handed out at random (`-P`, `-p 0:80`): Docker's 32768-60999 unless configured. */
    portRangeStart: integer("port_range_start").notNull().default(32768),
    portRangeEnd: integer("port_range_end").notNull().default(60999),
    lastHeartbeatAt: timestamp("last_heartbeat_at", { withTimezone: true, mode: "date" })
      .notNull()
      .defaultNow(),
    ...timestamps,
  },
  (t) => [
    check(
      "hosts_virtual_chk",
      sql`(${t.kind} = 'lab' AND ${t.parentHostId} IS NULL AND ${t.uplinkNodeId} IS NULL) OR (${t.kind} = 'virtual' AND ${t.parentHostId} IS NOT NULL)`,
    ),
  ],
);
