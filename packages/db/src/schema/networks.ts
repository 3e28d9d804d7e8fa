import { sql } from "drizzle-orm";
import { boolean, check, integer, jsonb, pgTable, text, unique } from "drizzle-orm/pg-core";
import { labels, timestamps } from "./columns";
import { hosts } from "./hosts";

/**
 * Ports one Linux bridge takes (the kernel refuses the 1,024th with "Exchange full"): a
 * bridge network holds at most this many endpoints, which `networks_bridge_ports_chk`
 * enforces on {@link networks}' `endpoint_count`.
 */
export const MAX_BRIDGE_PORTS = 1023;

/** Lifecycle of a resource whose kernel side the executor builds. */
export type ResourceState = "pending" | "ready" | "failed" | "deleting";

/**
 * Networks. `scope` is the host id for local networks (bridge, macvlan), `lan:<LAN network
 * id>` for overlay networks (the machines of that LAN join them; `host_id` is null); names,
 * subnets and VNIs are unique within a scope.
 */
export const networks = pgTable(
  "networks",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    hostId: text("host_id").references(() => hosts.id, { onDelete: "restrict" }),
    scope: text("scope").notNull(),
    driver: text("driver").notNull(),
    internal: boolean("internal").notNull().default(false),
    /** Predefined network (the default `bridge`): cannot be removed by users. */
    builtin: boolean("builtin").notNull().default(false),
    bridgeName: text("bridge_name").notNull(),
    /** Traffic between nodes of this network (Docker's enable_icc). */
    icc: boolean("icc").notNull().default(true),
    /** Drop traffic to and from other bridge networks unless both have isolation off. */
    isolated: boolean("isolated").notNull().default(true),
    /** Nodes may be connected to it after creation (always true for bridge). */
    attachable: boolean("attachable").notNull().default(true),
    mtu: integer("mtu").notNull().default(1500),
    /**
     * Overlay networks: the VXLAN network identifier (Docker's `vxlanid_list`), unique in the
     * scope (the LAN) by `networks_scope_vni_key`; null for other drivers.
     */
    vni: integer("vni"),
    options: jsonb("options").$type<Record<string, string>>().notNull().default({}),
    labels: labels(),
    state: text("state").$type<ResourceState>().notNull().default("pending"),
    /**
     * Endpoints on the network, kept by the deferred trigger `endpoints_count` (migration
     * 0005) when a transaction commits, so the check below sees every concurrent attach
     * and the row is locked only while committing.
     */
    endpointCount: integer("endpoint_count").notNull().default(0),
    /**
     * Raised by the trigger `networks_revision` (migration 0016) on every change of the row,
     * whoever makes it: the network's `ETag`, which `If-Match` compares.
     */
    revision: integer("revision").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    unique("networks_scope_name_key").on(t.scope, t.name),
    unique("networks_scope_vni_key").on(t.scope, t.vni),
    /** A machine's bridges have one name each (chosen ones too; overlays have no host_id). */
    unique("networks_host_bridge_name_key").on(t.hostId, t.bridgeName),
    check(
      "networks_bridge_ports_chk",
      sql`${t.endpointCount} >= 0 AND (${t.driver} <> 'bridge' OR ${t.endpointCount} <= ${sql.raw(String(MAX_BRIDGE_PORTS))})`,
    ),
  ],
);
