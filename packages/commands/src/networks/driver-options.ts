import type { HostRow } from "@labnet/db";
import {
  DEFAULT_MACVLAN_MODE,
  DEFAULT_MACVLAN_PARENT,
  isMacvlanMode,
  isValidIfName,
  MACVLAN_MODES,
} from "@labnet/netplan";
import { DomainError, type FieldError } from "../errors";

/** Network drivers a client may ask for (`host` and `none` are predefined, not created). */
export type NetworkDriver = "bridge" | "macvlan";

/** Driver options as a client gives them, with Docker's names (`-o parent=eth0 -o macvlan_mode=vepa`). */
export interface DriverOptionsInput {
  parent?: string;
  macvlan_mode?: string;
}

/**
 * Refuses a driver the host did not report (`capabilities.drivers`, detected by its executor
 * from the kernel), naming `body.driver`.
 */
export function assertDriverSupported(host: HostRow, driver: string): void {
  if (!host.capabilities.drivers.includes(driver)) {
    throw new DomainError("UNSUPPORTED_DRIVER", `host ${host.name} does not support the ${driver} driver`, [
      { location: "body.driver", message: `not supported on host ${host.name}` },
    ]);
  }
}

/**
 * The options a network of `driver` records (what inspect shows as its options): for macvlan
 * its parent (default `eth0`) and mode (default `bridge`), both checked; for bridge none, and
 * macvlan's options are refused there. The parent must be one of the host's interfaces when
 * the host reports them (`capabilities.interfaces`); a host that does not (an older executor)
 * takes any valid interface name, and the kernel has the last word.
 *
 * @example resolveDriverOptions(host, "macvlan", { parent: "eth0" }) // { parent: "eth0", macvlan_mode: "bridge" }
 */
export function resolveDriverOptions(
  host: HostRow,
  driver: NetworkDriver,
  input: DriverOptionsInput | undefined,
): Record<string, string> {
  const errors: FieldError[] = [];
  if (driver !== "macvlan") {
    for (const name of ["parent", "macvlan_mode"] as const) {
      if (input?.[name] !== undefined) {
        errors.push({
          location: `body.options.${name}`,
          message: `option ${name} is for macvlan networks, not ${driver} networks`,
        });
      }
    }
    throwFirst(errors);
    return {};
  }

  const parent = input?.parent ?? DEFAULT_MACVLAN_PARENT;
  const known = host.capabilities.interfaces;
  if (!isValidIfName(parent)) {
    errors.push({
      location: "body.options.parent",
      message: `parent ${JSON.stringify(parent)} is not an interface name (1-15 characters of letters, digits, _ . -)`,
    });
  } else if (known !== undefined && !known.includes(parent)) {
    errors.push({
      location: "body.options.parent",
      message: `host ${host.name} has no interface ${parent}${known.length > 0 ? ` (it has ${known.join(", ")})` : ""}`,
    });
  }
  const mode = input?.macvlan_mode ?? DEFAULT_MACVLAN_MODE;
  if (!isMacvlanMode(mode)) {
    errors.push({
      location: "body.options.macvlan_mode",
      message: `macvlan_mode ${JSON.stringify(mode)} is not one of ${MACVLAN_MODES.join(", ")}`,
    });
  }
  throwFirst(errors);
  return { parent, macvlan_mode: mode };
}

function throwFirst(errors: FieldError[]): void {
  const [first] = errors;
  if (first) {
    throw new DomainError("INVALID_FIELD", first.message, errors);
  }
}
