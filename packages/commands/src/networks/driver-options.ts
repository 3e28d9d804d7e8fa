import type { HostRow } from "@labnet/db";
import {
  DEFAULT_MACVLAN_MODE,
  DEFAULT_MACVLAN_PARENT,
  isMacvlanMode,
  isValidIfName,
  MACVLAN_MODES,
  MAX_VNI,
} from "@labnet/netplan";
import { DomainError, type FieldError } from "../errors";

/** Network drivers a client may ask for (`host` and `none` are predefined, not created). */
export type NetworkDriver = "bridge" | "macvlan" | "overlay";

/** Docker's option naming an overlay's VXLAN network identifier (`docker network inspect` shows it). */
export const DOCKER_VXLANID_OPTION = "com.docker.network.driver.overlay.vxlanid_list";

/** Overlay VNIs Labnet hands out start here, as Docker's do (seed 001 shows 257). */
export const FIRST_VNI = 256;

/** Driver options as a client gives them, with Docker's names (`-o parent=eth0 -o macvlan_mode=vepa`). */
export interface DriverOptionsInput {
  parent?: string;
  macvlan_mode?: string;
  [DOCKER_VXLANID_OPTION]?: string;
}

/**
 * The VNI an overlay network asks for (`-o com.docker.network.driver.overlay.vxlanid_list=257`),
 * or undefined to have one allocated; refused on other drivers and when not one VNI of 1-16777215.
 */
export function requestedVni(
  driver: NetworkDriver,
  input: DriverOptionsInput | undefined,
): number | undefined {
  const given = input?.[DOCKER_VXLANID_OPTION];
  if (given === undefined) {
    return undefined;
  }
  const location = `body.options.${DOCKER_VXLANID_OPTION}`;
  if (driver !== "overlay") {
    throw new DomainError("INVALID_FIELD", `option ${DOCKER_VXLANID_OPTION} is for overlay networks`, [
      { location, message: `not an option of ${driver} networks` },
    ]);
  }
  const vni = /^[1-9][0-9]{0,7}$/.test(given) ? Number(given) : Number.NaN;
  if (!(vni >= 1 && vni <= MAX_VNI)) {
    throw new DomainError(
      "INVALID_FIELD",
      `${DOCKER_VXLANID_OPTION} ${JSON.stringify(given)} is not a VNI (1-${MAX_VNI})`,
      [{ location, message: "one VNI, 1-16777215" }],
    );
  }
  return vni;
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
