import { DomainError, type FieldError } from "../errors";
import type { BridgeNameInput } from "./bridge-name";
import type { DriverOptionsInput } from "./driver-options";

/** Docker's option names for the same switches (`docker network create -o ...`), accepted as aliases. */
export const DOCKER_ICC_OPTION = "com.docker.network.bridge.enable_icc";
export const DOCKER_MTU_OPTION = "com.docker.network.driver.mtu";

/** The MTUs the contract accepts for `options.mtu` (the Docker name is checked here). */
const MTU_MIN = 576;
const MTU_MAX = 9000;

/**
 * Options as a client may give them: the bridge's by Labnet's names or Docker's string-valued
 * ones, the drivers' own (`parent`, `macvlan_mode`: see driver-options.ts) and the bridge's
 * chosen name (bridge-name.ts).
 */
export interface NetworkOptionsInput extends DriverOptionsInput, BridgeNameInput {
  mtu?: number;
  icc?: boolean;
  isolated?: boolean;
  [DOCKER_ICC_OPTION]?: string;
  [DOCKER_MTU_OPTION]?: string;
}

/** Options with Docker's names folded into Labnet's and defaults applied (mtu stays optional). */
export interface NetworkOptions {
  mtu?: number;
  icc: boolean;
  isolated: boolean;
}

/**
 * Folds Docker's option names into Labnet's (`com.docker.network.bridge.enable_icc: "false"`
 * is `icc: false`); both given with different values is a 422 naming the Docker one.
 */
export function resolveNetworkOptions(input: NetworkOptionsInput | undefined): NetworkOptions {
  const errors: FieldError[] = [];
  const dockerIcc = input?.[DOCKER_ICC_OPTION];
  const dockerMtu = input?.[DOCKER_MTU_OPTION];
  const icc = pick(
    input?.icc,
    dockerIcc === undefined ? undefined : dockerIcc === "true",
    DOCKER_ICC_OPTION,
    errors,
  );
  const mtu = pick(
    input?.mtu,
    dockerMtu === undefined ? undefined : Number(dockerMtu),
    DOCKER_MTU_OPTION,
    errors,
  );
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < MTU_MIN || mtu > MTU_MAX)) {
    errors.push({
      location: `body.options.${DOCKER_MTU_OPTION}`,
      message: `mtu ${dockerMtu} must be between ${MTU_MIN} and ${MTU_MAX}`,
    });
  }
  const [first] = errors;
  if (first) {
    throw new DomainError("INVALID_FIELD", first.message, errors);
  }
  return { ...(mtu !== undefined ? { mtu } : {}), icc: icc ?? true, isolated: input?.isolated ?? true };
}

function pick<T>(
  own: T | undefined,
  docker: T | undefined,
  dockerName: string,
  errors: FieldError[],
): T | undefined {
  if (own !== undefined && docker !== undefined && own !== docker) {
    errors.push({
      location: `body.options.${dockerName}`,
      message: `${dockerName} contradicts the same option given by its Labnet name`,
    });
  }
  return own ?? docker;
}
