import { inet, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { ipamConfigs } from "./ipam-configs";

/**
 * Free addresses of an IPAM config's dynamic range, lowest first: what dynamic allocation
 * takes from (`FOR UPDATE SKIP LOCKED`, so concurrent attaches to one network never wait
 * for each other and get consecutive addresses). Listed in chunks (`ipam_configs.free_from`
 * to `free_until`); a released endpoint address comes back through the trigger
 * `allocations_release` (migration 0005). Only a hint: `allocations` (its primary key)
 * stays the ledger, and a listed address that turns out taken is skipped.
 */
export const freeAddresses = pgTable(
  "free_addresses",
  {
    ipamConfigId: text("ipam_config_id")
      .notNull()
      .references(() => ipamConfigs.id, { onDelete: "cascade" }),
    address: inet("address").notNull(),
  },
  (t) => [primaryKey({ name: "free_addresses_pkey", columns: [t.ipamConfigId, t.address] })],
);
