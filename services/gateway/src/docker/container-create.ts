/**
 * `POST /containers/create` as a Labnet node: the Engine API's body (Config at the top, HostConfig,
 * NetworkingConfig) translated to the node creation the commands take. The docker CLI parses
 * every flag itself (`-p 8080:80` arrives as `PortBindings`, `--ip` under the network's
 * `EndpointsConfig`), so this reads structures, not flags. A node has no image and no process:
 * the image name, the command and the attach settings are recorded in labels under
 * `labnet.docker.` (shown by Labnet's API, hidden from docker's `Config.Labels`). Pure.
 */
import type { CreateNodeInput, NodeNetworkInput } from "@labnet/commands";
import type { PortSpecObject } from "@labnet/netplan";
import { z } from "zod";
import { DockerError } from "./errors";

/** Labels the facade keeps on nodes it creates; a client's labels under this prefix are dropped. */
export const DOCKER_LABEL_PREFIX = "labnet.docker.";
export const DOCKER_LABELS = {
  image: `${DOCKER_LABEL_PREFIX}image`,
  /** JSON array: entrypoint then command, as dockerd joins them for `Path` and `Args`. */
  command: `${DOCKER_LABEL_PREFIX}command`,
  /** `--rm`: the node goes when its (absent) process would exit: at the end of an attached run. */
  autoRemove: `${DOCKER_LABEL_PREFIX}auto-remove`,
  /** `-t` / `-i`: how the client wanted its streams (attach answers in the matching framing). */
  tty: `${DOCKER_LABEL_PREFIX}tty`,
  openStdin: `${DOCKER_LABEL_PREFIX}open-stdin`,
} as const;

/** Labels' values are at most this long (the contract's Labels schema). */
const MAX_LABEL_VALUE = 1024;

const strings = z.array(z.string()).nullish();
const EndpointSettings = z.looseObject({
  IPAMConfig: z.looseObject({ IPv4Address: z.string().optional() }).nullish(),
  Aliases: strings,
  Links: strings,
  MacAddress: z.string().optional(),
});

/** The parts of dockerd's ContainerCreateRequest that mean something for a node. */
export const ContainerCreateBody = z.looseObject({
  Hostname: z.string().optional(),
  Image: z.string().optional(),
  Cmd: z.union([z.array(z.string()), z.string()]).nullish(),
  Entrypoint: z.union([z.array(z.string()), z.string()]).nullish(),
  Labels: z.record(z.string(), z.string()).nullish(),
  ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
  Tty: z.boolean().optional(),
  OpenStdin: z.boolean().optional(),
  MacAddress: z.string().optional(),
  HostConfig: z
    .looseObject({
      NetworkMode: z.string().optional(),
      PortBindings: z
        .record(
          z.string(),
          z
            .array(z.looseObject({ HostIp: z.string().optional(), HostPort: z.string().optional() }))
            .nullable(),
        )
        .nullish(),
      PublishAllPorts: z.boolean().optional(),
      Dns: strings,
      DnsSearch: strings,
      DnsOptions: strings,
      ExtraHosts: strings,
      Links: strings,
      AutoRemove: z.boolean().optional(),
      Binds: strings,
    })
    .nullish(),
  NetworkingConfig: z
    .looseObject({ EndpointsConfig: z.record(z.string(), EndpointSettings.nullable()).nullish() })
    .nullish(),
});
export type ContainerCreateBody = z.infer<typeof ContainerCreateBody>;

/** The node to create, and what the client should be told (dockerd's `Warnings`). */
export interface NodeCreation {
  input: CreateNodeInput;
  warnings: string[];
}

const PREDEFINED_MODES = new Set(["host", "none"]);

/**
 * Translates a create request for the machine `host` into a node creation.
 *
 * @throws DockerError 400 for what a node cannot be (a MAC given by hand, `--link`) or a body of the wrong shape.
 * @example nodeCreationOf({ Image: "busybox", HostConfig: { NetworkMode: "my-net" } }, "web", "hst_...")
 * // { input: { name: "web", host: "hst_...", networkMode: "my-net", labels: { "labnet.docker.image": "busybox", ... } }, warnings: [] }
 */
export function nodeCreationOf(raw: unknown, name: string, host: string): NodeCreation {
  const parsed = ContainerCreateBody.safeParse(raw);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new DockerError(
      400,
      `invalid container config: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""}`,
    );
  }
  const body = parsed.data;
  const hostConfig = body.HostConfig ?? {};
  const warnings: string[] = [];
  if ((hostConfig.Links ?? []).length > 0) {
    throw new DockerError(
      400,
      "--link is not supported by Labnet: use a user-defined network, where nodes resolve each other by name",
    );
  }
  if ((hostConfig.Binds ?? []).length > 0) {
    warnings.push("Labnet nodes have no filesystem of their own: volumes are ignored");
  }
  if (body.MacAddress) {
    throw macAddressRefused();
  }

  const command = [...asList(body.Entrypoint), ...asList(body.Cmd)];
  const labels: Record<string, string> = {
    ...Object.fromEntries(
      Object.entries(body.Labels ?? {}).filter(([key]) => !key.startsWith(DOCKER_LABEL_PREFIX)),
    ),
    [DOCKER_LABELS.image]: body.Image ?? "",
    [DOCKER_LABELS.command]: JSON.stringify(command),
    ...(hostConfig.AutoRemove ? { [DOCKER_LABELS.autoRemove]: "true" } : {}),
    ...(body.Tty ? { [DOCKER_LABELS.tty]: "true" } : {}),
    ...(body.OpenStdin ? { [DOCKER_LABELS.openStdin]: "true" } : {}),
  };
  for (const [key, value] of Object.entries(labels)) {
    if (value.length > MAX_LABEL_VALUE) {
      throw new DockerError(
        400,
        `${key === DOCKER_LABELS.command ? "the command" : `label ${key}`} is longer than ${MAX_LABEL_VALUE} characters`,
      );
    }
  }

  const input: CreateNodeInput = {
    name,
    host,
    ...networkingOf(hostConfig.NetworkMode ?? "", body.NetworkingConfig?.EndpointsConfig ?? {}),
    ...(body.Hostname ? { hostname: body.Hostname } : {}),
    labels,
  };
  const dns = {
    ...(hostConfig.Dns?.length ? { servers: hostConfig.Dns } : {}),
    ...(hostConfig.DnsSearch?.length ? { search: hostConfig.DnsSearch } : {}),
    ...(hostConfig.DnsOptions?.length ? { options: hostConfig.DnsOptions } : {}),
  };
  if (Object.keys(dns).length > 0) {
    input.dns = dns;
  }
  if (hostConfig.ExtraHosts?.length) {
    input.extraHosts = hostConfig.ExtraHosts;
  }
  const ports = portsOf(hostConfig.PortBindings ?? {});
  if (ports.length > 0) {
    input.ports = ports;
  }
  const exposed = Object.keys(body.ExposedPorts ?? {});
  if (exposed.length > 0) {
    input.exposedPorts = exposed;
  }
  if (hostConfig.PublishAllPorts) {
    input.publishAll = true;
  }
  return { input, warnings };
}

/** Entrypoint and Cmd come as a list, or as one string from older clients. */
function asList(value: string[] | string | null | undefined): string[] {
  return value === undefined || value === null ? [] : typeof value === "string" ? [value] : value;
}

function macAddressRefused(): DockerError {
  return new DockerError(
    400,
    "--mac-address is not supported by Labnet: a node's MAC comes from its address (02:42 and the address's four bytes)",
  );
}

type Endpoints = Record<string, z.infer<typeof EndpointSettings> | null>;

/**
 * HostConfig.NetworkMode and the endpoints as the node's mode and networks: the mode's network
 * is eth0, the others follow in the order they came (the CLI sends one map; Go writes its keys
 * sorted). `default` is dockerd's `bridge` on Linux.
 */
function networkingOf(
  rawMode: string,
  endpoints: Endpoints,
): Pick<CreateNodeInput, "networkMode" | "networks"> {
  const bridgeOf = (name: string) => (name === "" || name === "default" ? "bridge" : name);
  const mode = bridgeOf(rawMode);
  const entries = Object.entries(endpoints).map(([key, value]) => [bridgeOf(key), value] as const);
  if (PREDEFINED_MODES.has(mode) || mode.startsWith("container:")) {
    const others = entries.filter(([key]) => key !== mode).map(([key]) => key);
    if (others.length > 0) {
      throw new DockerError(
        400,
        `conflicting options: a node in network mode ${mode} cannot be connected to networks (${others.join(", ")})`,
      );
    }
    return { networkMode: mode };
  }
  const first = entries.find(([key]) => key === mode)?.[1];
  const rest = entries.filter(([key]) => key !== mode);
  const networks: NodeNetworkInput[] = [
    attachmentOf(mode, first ?? null),
    ...rest.map(([key, value]) => attachmentOf(key, value)),
  ];
  const plain =
    networks.length === 1 && networks[0]?.ipv4Address === undefined && networks[0]?.aliases === undefined;
  return plain ? { networkMode: mode } : { networks };
}

function attachmentOf(network: string, settings: z.infer<typeof EndpointSettings> | null): NodeNetworkInput {
  if (settings?.MacAddress) {
    throw macAddressRefused();
  }
  if ((settings?.Links ?? []).length > 0) {
    throw new DockerError(
      400,
      "--link is not supported by Labnet: use a user-defined network, where nodes resolve each other by name",
    );
  }
  const address = settings?.IPAMConfig?.IPv4Address;
  const aliases = settings?.Aliases ?? [];
  return {
    network,
    ...(address ? { ipv4Address: address } : {}),
    ...(aliases.length > 0 ? { aliases } : {}),
  };
}

/**
 * PortBindings (`{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`) as the `-p` specs the port
 * parser reads: an empty HostIp is every address, an empty HostPort a random port, a host range
 * stays a range (one free port of it).
 */
function portsOf(
  bindings: Record<string, { HostIp?: string | undefined; HostPort?: string | undefined }[] | null>,
): PortSpecObject[] {
  const specs: PortSpecObject[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const [containerPort = "", protocol = "tcp"] = key.split("/");
    for (const binding of list ?? [{}]) {
      specs.push({
        containerPort,
        protocol: protocol as PortSpecObject["protocol"],
        ...(binding.HostIp ? { hostIp: binding.HostIp } : {}),
        ...(binding.HostPort ? { hostPort: binding.HostPort } : {}),
      });
    }
  }
  return specs;
}

/** The command recorded at create (`[]` for a node not made through docker). */
export function recordedCommand(labels: Readonly<Record<string, string>>): string[] {
  try {
    const value: unknown = JSON.parse(labels[DOCKER_LABELS.command] ?? "[]");
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}

/** A client's labels: the node's, less what the facade keeps for itself. */
export function clientLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([key]) => !key.startsWith(DOCKER_LABEL_PREFIX)));
}
