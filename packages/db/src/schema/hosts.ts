import { inet, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { labels, timestamps } from "./columns";

export interface HostCapabilities {
  linkTypes: string[];
  drivers: string[];
  iptables: boolean;
  /**
   * Bridged traffic passes iptables (br_netfilter, `bridge-nf-call-iptables` = 1), which
   * inter-node isolation within a network (icc off) needs. Absent in records of older executors.
   */
  bridgeNetfilter?: boolean;
}

/** Lab hosts, registered by their executor at start and kept alive by heartbeats. */
export const hosts = pgTable("hosts", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
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
});
