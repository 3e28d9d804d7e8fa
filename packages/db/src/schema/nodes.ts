import { type AnyPgColumn, boolean, integer, jsonb, pgTable, text, unique } from "drizzle-orm/pg-core";
import { labels, timestamps } from "./columns";
import { hosts } from "./hosts";
import type { ResourceState } from "./networks";

export interface NodeDns {
  servers: string[];
  search: string[];
  options: string[];
}

/**
 * A node's lifecycle: a network's, plus `created` for a node recorded without its kernel side
 * (`docker create`): it holds its name, addresses and ports, the executor leaves it out of the
 * desired state, and starting it (`startNode`) makes it `pending` with the operation that builds it.
 */
export type NodeState = ResourceState | "created";

/** Nodes ("containers"): a sandbox network namespace on a host. */
export const nodes = pgTable(
  "nodes",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "restrict" }),
    /** `bridge`, `none`, `host`, `container:<node>`, or the name of the network it was created on. */
    networkMode: text("network_mode").notNull(),
    /**
     * Network namespace name under /run/netns (Docker's SandboxKey basename). Null for
     * nodes without a sandbox of their own: mode `host` (the host's namespace) and mode
     * `container:` (the sandbox of `netnsOwnerId`).
     */
    netns: text("netns").unique(),
    /** Mode `container:<node>`: the node whose namespace this one shares. */
    netnsOwnerId: text("netns_owner_id").references((): AnyPgColumn => nodes.id, { onDelete: "restrict" }),
    /**
     * Index of the next `ethN` a connect gets. Like Docker's per-sandbox counter it only
     * grows: after eth1 is disconnected the next connect gets eth2, not eth1 again.
     */
    nextIfIndex: integer("next_if_index").notNull().default(0),
    hostname: text("hostname"),
    /** Resolver settings for the node (`--dns`, `--dns-search`, `--dns-option`). */
    dns: jsonb("dns").$type<NodeDns>().notNull().default({ servers: [], search: [], options: [] }),
    /** `--add-host` entries: name → address. */
    extraHosts: jsonb("extra_hosts").$type<Record<string, string>>().notNull().default({}),
    /** Container ports the node exposes (`EXPOSE`), as `80/tcp`; published by `publishAll`. */
    exposedPorts: text("exposed_ports").array().notNull().default([]),
    /** Publish every exposed port on a random host port (`-P`). */
    publishAll: boolean("publish_all").notNull().default(false),
    labels: labels(),
    state: text("state").$type<NodeState>().notNull().default("pending"),
    ...timestamps,
  },
  (t) => [unique("nodes_host_name_key").on(t.hostId, t.name)],
);
