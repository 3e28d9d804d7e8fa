/**
 * `POST /networks/create` as a Labnet network creation. The docker CLI sends the flags parsed
 * (`--subnet`, `--gateway`, `--ip-range`, `--aux-address` as IPAM configs, `-o` as Options); the
 * options Labnet acts on pass under their Docker names (the commands fold them), the ones it
 * cannot honour are refused by name rather than silently ignored. Pure.
 */
import type { CreateNetworkInput } from "@labnet/commands";
import { z } from "zod";
import { DockerError } from "./errors";
import { parseGoBool } from "./values";

const IpamConfig = z.looseObject({
  Subnet: z.string().optional(),
  IPRange: z.string().optional(),
  Gateway: z.string().optional(),
  AuxiliaryAddresses: z.record(z.string(), z.string()).nullish(),
});

export const NetworkCreateBody = z.looseObject({
  Name: z.string(),
  Driver: z.string().optional(),
  Internal: z.boolean().optional(),
  Attachable: z.boolean().optional(),
  EnableIPv6: z.boolean().nullish(),
  EnableIPv4: z.boolean().nullish(),
  Ingress: z.boolean().optional(),
  ConfigOnly: z.boolean().optional(),
  IPAM: z
    .looseObject({
      Driver: z.string().optional(),
      Config: z.array(IpamConfig).nullish(),
      Options: z.record(z.string(), z.string()).nullish(),
    })
    .nullish(),
  Options: z.record(z.string(), z.string()).nullish(),
  Labels: z.record(z.string(), z.string()).nullish(),
});

/** `-o` options the commands take, by the names `docker network create` uses. */
const PASSED_OPTIONS = new Set([
  "parent",
  "macvlan_mode",
  "com.docker.network.bridge.enable_icc",
  "com.docker.network.bridge.name",
  "com.docker.network.driver.mtu",
  "com.docker.network.driver.overlay.vxlanid_list",
]);

/** Options dockerd's bridge driver reads as booleans (Go's ParseBool), normalized to `true`/`false`. */
const BOOLEAN_OPTIONS = new Set([
  "com.docker.network.bridge.enable_icc",
  "com.docker.network.bridge.enable_ip_masquerade",
]);

/**
 * Options Labnet cannot honour but that change nothing when given with dockerd's default value,
 * with what to use instead.
 */
const DEFAULT_VALUED: Readonly<Record<string, { value: string; instead: string }>> = {
  "com.docker.network.bridge.enable_ip_masquerade": {
    value: "true",
    instead:
      "every Labnet bridge network masquerades its egress; --internal gives a network no egress at all",
  },
  "com.docker.network.bridge.host_binding_ipv4": {
    value: "0.0.0.0",
    instead: "publish on one address with -p <address>:<host port>:<container port>",
  },
};

/**
 * Translates a create request for the machine `host`.
 *
 * @throws DockerError 400 naming what Labnet does not do (IPv6, another IPAM driver, an option it cannot honour).
 * @example createNetworkInputOf({ Name: "macvlan_1", Driver: "macvlan", IPAM: { Config: [{ Subnet: "100.0.0.0/24", Gateway: "100.0.0.254" }] }, Options: { parent: "eth0" } }, "hst_...")
 */
export function createNetworkInputOf(raw: unknown, host: string): CreateNetworkInput {
  const parsed = NetworkCreateBody.safeParse(raw);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new DockerError(
      400,
      `invalid network config: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""}`,
    );
  }
  const body = parsed.data;
  if (body.EnableIPv6) {
    throw new DockerError(400, "IPv6 is not supported by Labnet: networks are IPv4 only");
  }
  if (body.EnableIPv4 === false) {
    throw new DockerError(400, "Labnet networks are IPv4: --ipv4=false is not supported");
  }
  if (body.Ingress || body.ConfigOnly) {
    throw new DockerError(400, `${body.Ingress ? "--ingress" : "--config-only"} is not supported by Labnet`);
  }
  const ipamDriver = body.IPAM?.Driver ?? "";
  if (ipamDriver !== "" && ipamDriver !== "default") {
    throw new DockerError(400, `IPAM driver ${ipamDriver} is not supported by Labnet (only the default one)`);
  }
  if (Object.keys(body.IPAM?.Options ?? {}).length > 0) {
    throw new DockerError(400, "IPAM options (--ipam-opt) are not supported by Labnet");
  }
  const options: Record<string, string> = {};
  for (const [key, given] of Object.entries(body.Options ?? {})) {
    const value = BOOLEAN_OPTIONS.has(key) ? booleanOption(key, given) : given;
    if (PASSED_OPTIONS.has(key)) {
      options[key] = value;
    } else if (DEFAULT_VALUED[key]?.value !== value) {
      throw new DockerError(400, unsupportedOption(key, value));
    }
  }
  const configs = (body.IPAM?.Config ?? []).map((c, i) => {
    if (!c.Subnet) {
      throw new DockerError(
        400,
        `IPAM config ${i + 1} has no subnet: Labnet needs --subnet with --gateway, --ip-range or --aux-address`,
      );
    }
    return {
      subnet: c.Subnet,
      ...(c.Gateway ? { gateway: c.Gateway } : {}),
      ...(c.IPRange ? { ipRange: c.IPRange } : {}),
      ...(c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length > 0
        ? { auxAddresses: c.AuxiliaryAddresses }
        : {}),
    };
  });
  const driver = body.Driver === undefined || body.Driver === "" ? "bridge" : body.Driver;
  return {
    name: body.Name,
    host,
    driver: driver as NonNullable<CreateNetworkInput["driver"]>,
    ...(body.Internal ? { internal: true } : {}),
    ...(configs.length > 0 ? { ipam: { configs } } : {}),
    ...(Object.keys(options).length > 0
      ? { options: options as NonNullable<CreateNetworkInput["options"]> }
      : {}),
    ...(body.Labels && Object.keys(body.Labels).length > 0 ? { labels: body.Labels } : {}),
  };
}

/** A boolean option as dockerd's bridge driver parses it, and its error for anything else. */
function booleanOption(key: string, value: string): string {
  const parsed = parseGoBool(value);
  if (parsed === undefined) {
    throw new DockerError(
      400,
      `failed to parse ${key} value: ${value} (strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax)`,
    );
  }
  return String(parsed);
}

function unsupportedOption(key: string, value: string): string {
  const known = DEFAULT_VALUED[key];
  if (known) {
    return `option ${key}=${value} is not supported by Labnet (only ${known.value}): ${known.instead}`;
  }
  return `option ${key} is not supported by Labnet (it takes parent, macvlan_mode, com.docker.network.bridge.enable_icc, com.docker.network.bridge.name, com.docker.network.driver.mtu and com.docker.network.driver.overlay.vxlanid_list)`;
}
