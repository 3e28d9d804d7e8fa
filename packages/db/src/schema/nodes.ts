import { pgTable, text, unique } from "drizzle-orm/pg-core";
import { labels, timestamps } from "./columns";
import { hosts } from "./hosts";
import type { ResourceState } from "./networks";

/** Nodes ("containers"): a sandbox network namespace on a host. */
export const nodes = pgTable(
  "nodes",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "restrict" }),
    /** `bridge`, `none`, or the name of the network it was created on. */
    networkMode: text("network_mode").notNull(),
    /** Network namespace name under /run/netns (Docker's SandboxKey basename). */
    netns: text("netns").notNull().unique(),
    labels: labels(),
    state: text("state").$type<ResourceState>().notNull().default("pending"),
    ...timestamps,
  },
  (t) => [unique("nodes_host_name_key").on(t.hostId, t.name)],
);
