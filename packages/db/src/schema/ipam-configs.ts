import { cidr, index, inet, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { networks } from "./networks";

/**
 * One IPAM config (subnet, gateway, range) of a network. The exclusion constraint
 * `ipam_configs_no_overlap` (custom migration) forbids overlapping subnets in a scope.
 */
export const ipamConfigs = pgTable(
  "ipam_configs",
  {
    id: text("id").primaryKey(),
    networkId: text("network_id")
      .notNull()
      .references(() => networks.id, { onDelete: "cascade" }),
    /** Copied from the network so the exclusion constraint can see it. */
    scope: text("scope").notNull(),
    position: integer("position").notNull(),
    subnet: cidr("subnet").notNull(),
    gateway: inet("gateway").notNull(),
    ipRange: cidr("ip_range"),
    auxAddresses: jsonb("aux_addresses").$type<Record<string, string>>().notNull().default({}),
  },
  // A network's configs in order (attaching and node views read them by network).
  (t) => [index("ipam_configs_network_idx").on(t.networkId, t.position)],
);
