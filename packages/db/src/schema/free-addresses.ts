import { inet, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { ipamConfigs } from "./ipam-configs";

/**
 * Free addresses of an IPAM config's dynamic range, lowest first: what dynamic allocation
 * takes from (`FOR UPDATE SKIP LOCKED`, so concurrent attaches to one network never wait
 * for each other and get consecutive addresses). Listed in chunks as the range is used
 * (see {@link freeAddressRanges}); a released endpoint address comes back through the
 * trigger `allocations_release` (migration 0005). Only a hint: `allocations` (its primary
 * key) stays the ledger, and a listed address that turns out taken is skipped.
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

/**
 * How much of a config's dynamic range is listed in {@link freeAddresses}: `[listedFrom,
 * listedUntil)`. A table of its own, locked only by whoever lists the next chunk: the
 * `ipam_configs` row is held in KEY SHARE mode by every attach's foreign keys, and listers
 * queueing on it could deadlock with them.
 */
export const freeAddressRanges = pgTable("free_address_ranges", {
  ipamConfigId: text("ipam_config_id")
    .primaryKey()
    .references(() => ipamConfigs.id, { onDelete: "cascade" }),
  listedFrom: inet("listed_from").notNull(),
  listedUntil: inet("listed_until").notNull(),
});
