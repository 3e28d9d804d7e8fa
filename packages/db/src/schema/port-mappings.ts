import {
  type AnyPgColumn,
  boolean,
  cidr,
  index,
  integer,
  pgTable,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { hosts } from "./hosts";
import { nodes } from "./nodes";

export type PortProtocol = "tcp" | "udp";

/**
 * The host port ledger: one row per published host port. The exclusion constraint
 * `port_mappings_no_collision` (custom migration) refuses two rows on one host with the
 * same protocol and port whose bind addresses overlap; `0.0.0.0` is stored as
 * `0.0.0.0/0`, so it collides with every address, and a specific address as a /32.
 */
export const portMappings = pgTable(
  "port_mappings",
  {
    id: text("id").primaryKey(),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "restrict" }),
    /** Released with the node. */
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    protocol: text("protocol").$type<PortProtocol>().notNull(),
    /** `0.0.0.0/0` for every address of the host, else the one address as a /32. */
    bind: cidr("bind").notNull(),
    hostPort: integer("host_port").notNull(),
    containerPort: integer("container_port").notNull(),
    /** The host port was drawn at random (`-P`, `-p 0:80`, `-p 80`). */
    random: boolean("random").notNull().default(false),
    /**
     * On a lab host: the virtual machine's published port this one makes reachable from
     * outside the lab host (to the machine's address and port). Goes with it.
     */
    forwardsId: text("forwards_id").references((): AnyPgColumn => portMappings.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("port_mappings_node_idx").on(t.nodeId), index("port_mappings_forwards_idx").on(t.forwardsId)],
);
