import { inet, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
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
  lastHeartbeatAt: timestamp("last_heartbeat_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  ...timestamps,
});
