import { inet, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { labels, timestamps } from "./columns";

export interface HostCapabilities {
  linkTypes: string[];
  drivers: string[];
  iptables: boolean;
}

/** Lab hosts, registered by their executor at start and kept alive by heartbeats. */
export const hosts = pgTable("hosts", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  underlayAddress: inet("underlay_address"),
  /** Prefix of the sandbox netns names this host's executor owns (`ln-`). */
  netnsPrefix: text("netns_prefix").notNull(),
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
