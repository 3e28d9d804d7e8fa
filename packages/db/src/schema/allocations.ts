import { inet, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { endpoints } from "./endpoints";
import { ipamConfigs } from "./ipam-configs";
import { networks } from "./networks";

export type AllocationKind = "gateway" | "endpoint" | "aux";

/** The address ledger: one row per address in use; the primary key makes double allocation impossible. */
export const allocations = pgTable(
  "allocations",
  {
    networkId: text("network_id")
      .notNull()
      .references(() => networks.id, { onDelete: "cascade" }),
    address: inet("address").notNull(),
    ipamConfigId: text("ipam_config_id")
      .notNull()
      .references(() => ipamConfigs.id, { onDelete: "cascade" }),
    kind: text("kind").$type<AllocationKind>().notNull(),
    /** Freed with the endpoint. */
    endpointId: text("endpoint_id").references(() => endpoints.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ name: "allocations_pkey", columns: [t.networkId, t.address] })],
);
