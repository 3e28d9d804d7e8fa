/**
 * The Linux bridge a bridge network gets: `lnbr-<8 id characters>` unless a name is chosen
 * (`options.bridgeName`, Docker's `-o com.docker.network.bridge.name=br-web`), and `docker0`
 * for a virtual machine's predefined network, as on the course's Docker hosts. The executor
 * marks a bridge it builds under a chosen name as Labnet's (netplan's LABNET_LINK_ALIAS) and
 * never takes over a link of that name that is someone else's.
 */
import type { HostRow } from "@labnet/db";
import { CHOSEN_BRIDGE_NAME_RULE, isChosenBridgeName } from "@labnet/netplan";
import { DomainError, type DomainErrorCode, type FieldError } from "../errors";
import type { NetworkDriver } from "./driver-options";

/** Docker's option naming a bridge network's Linux bridge. */
export const DOCKER_BRIDGE_NAME_OPTION = "com.docker.network.bridge.name";

/** The bridge of a virtual machine's predefined `bridge` network, as dockerd names it. */
export const MACHINE_DEFAULT_BRIDGE = "docker0";

/** Interfaces every virtual machine has besides Labnet's bridges: its loopback and its LAN uplink. */
const MACHINE_OWN_INTERFACES = ["lo", "eth0"];

export interface BridgeNameInput {
  bridgeName?: string;
  [DOCKER_BRIDGE_NAME_OPTION]?: string;
}

/**
 * The chosen bridge name of a network about to be created on `host`, or undefined for Labnet's
 * own `lnbr-<id8>`. Refused (422 naming the field): a name on another driver, a name that is
 * not a chosen bridge name, both option names with different values; (409) a name one of the
 * machine's own interfaces has. Two networks of one machine with one name are refused by the
 * database (`networks_host_bridge_name_key`, see {@link bridgeNameTaken}).
 */
export function chosenBridgeName(
  host: HostRow,
  driver: NetworkDriver,
  input: BridgeNameInput | undefined,
): string | undefined {
  const own = input?.bridgeName;
  const docker = input?.[DOCKER_BRIDGE_NAME_OPTION];
  const location = `body.options.${own === undefined ? DOCKER_BRIDGE_NAME_OPTION : "bridgeName"}`;
  const name = own ?? docker;
  if (name === undefined) {
    return undefined;
  }
  const refuse = (message: string, code: DomainErrorCode = "INVALID_FIELD"): never => {
    const errors: FieldError[] = [{ location, message }];
    throw new DomainError(code, message, errors);
  };
  if (own !== undefined && docker !== undefined && own !== docker) {
    refuse(`${DOCKER_BRIDGE_NAME_OPTION} contradicts the same option given by its Labnet name`);
  }
  if (driver !== "bridge") {
    refuse(`a bridge name is for bridge networks, not ${driver} networks`);
  }
  if (!isChosenBridgeName(name)) {
    refuse(`bridge name ${JSON.stringify(name)} is not allowed: ${CHOSEN_BRIDGE_NAME_RULE}`);
  }
  const interfaces = host.kind === "virtual" ? MACHINE_OWN_INTERFACES : (host.capabilities.interfaces ?? []);
  if (interfaces.includes(name)) {
    refuse(
      `${host.kind === "virtual" ? "machine" : "lab host"} ${host.name} already has an interface ${name}, which is not Labnet's`,
      "CONFLICT",
    );
  }
  return name;
}

/** The problem of a chosen bridge name another network of the machine has (the constraint's). */
export function bridgeNameTaken(host: HostRow, name: string): DomainError {
  return new DomainError(
    "CONFLICT",
    `another network of ${host.kind === "virtual" ? "machine" : "lab host"} ${host.name} has the bridge ${name}`,
    [{ location: "body.options.bridgeName", message: `bridge ${name} is taken` }],
  );
}
