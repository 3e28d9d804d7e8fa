import type { Database } from "@labnet/db";
import type { AddressPool } from "@labnet/ipam";

/** What commands need; built once by the process that runs them and passed in. */
export interface CommandContext {
  db: Database;
  /** Where networks without a subnet get one (Docker's default-address-pools). */
  addressPools: readonly AddressPool[];
  /** Where LANs without a subnet get one (default DEFAULT_LAN_POOLS: 10.0.0.0/24 first). */
  lanPools?: readonly AddressPool[];
  /**
   * Subnets a pool pick must not overlap besides the scope's own (a lab's LAN avoids the
   * subnets its machines' networks will use).
   */
  avoidSubnets?: readonly string[];
  /** MTU of networks that do not set one. */
  defaultMtu: number;
  /** Called after a transaction that wrote operations commits, to dispatch them at once. */
  onOperationsWritten?: () => void;
}
