import {
  boolean,
  index,
  inet,
  integer,
  macaddr,
  pgTable,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";
import { networks } from "./networks";
import { nodes } from "./nodes";

/** A node's attachment to a network: one veth pair, `eth<ifIndex>` inside the node. */
export const endpoints = pgTable(
  "endpoints",
  {
    id: text("id").primaryKey(),
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    networkId: text("network_id")
      .notNull()
      .references(() => networks.id, { onDelete: "restrict" }),
    ifIndex: integer("if_index").notNull(),
    hostVeth: text("host_veth").notNull(),
    /** Address with the subnet's prefix (`172.18.0.2/16`). */
    address: inet("address").notNull(),
    mac: macaddr("mac").notNull(),
    /** Extra names the node answers to on this network (besides its own name). */
    aliases: text("aliases").array().notNull().default([]),
    /** Address asked for by the client (kept across reconnects), rather than allocated. */
    staticAddress: boolean("static_address").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    unique("endpoints_node_if_key").on(t.nodeId, t.ifIndex),
    unique("endpoints_node_network_key").on(t.nodeId, t.networkId),
    // Who is on a network (inspect's Containers, `?network=` filters, removal checks).
    index("endpoints_network_idx").on(t.networkId),
  ],
);
