/**
 * Nodes as the Engine API shows containers (`docker ps`, `docker inspect`, `docker port`), from the
 * details one statement reads (`listNodeDetails`). A node is "created" until started (`docker
 * create` records it without building it), "running" once its sandbox is built. It has no process,
 * so `State.Pid` is 0 (see containerInspectOf) and the image and command are the ones recorded at
 * create.
 */
import { defaultHostname } from "@labnet/commands";
import { hostIpOfBind, type NodeDetailEndpoint, type NodeDetails } from "@labnet/db";
import { clientLabels, DOCKER_LABELS, recordedCommand } from "./container-create";
import { humanDuration } from "./human-duration";
import { modeNetworkId } from "./network-view";

/** dockerd's container states, from a node's. */
const STATES = {
  created: { status: "created", words: () => "Created" },
  // Started, its sandbox being built: dockerd's container is "created" until its process runs.
  pending: { status: "created", words: () => "Created" },
  ready: {
    status: "running",
    words: (since: Date, now: number) => `Up ${humanDuration(now - since.getTime())}`,
  },
  failed: { status: "dead", words: () => "Dead" },
  deleting: { status: "removing", words: () => "Removal In Progress" },
} as const;

/** A zero time as Go writes it (`FinishedAt` of a container that never stopped). */
const ZERO_TIME = "0001-01-01T00:00:00Z";

/**
 * When a running node started: its last state change before it was built (the start of `docker
 * start`/`run`, or its creation through /v1), which is when `pending` was recorded; becoming
 * `ready` and renames leave the time alone.
 */
function startedAtOf(node: NodeDetails["node"]): Date {
  return node.updatedAt;
}

export function dockerStateOf(details: NodeDetails): string {
  return STATES[details.node.state].status;
}

function endpointSettings(node: NodeDetails["node"], e: NodeDetailEndpoint) {
  const [address = "", prefix = "0"] = e.address.split("/");
  // The default bridge has no name resolution: dockerd gives its endpoints no DNS names.
  const builtin = e.networkName === "bridge";
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: e.aliases.length > 0 ? e.aliases : null,
    MacAddress: e.mac,
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: e.networkId,
    EndpointID: e.id,
    Gateway: e.internal ? "" : (e.gateway ?? ""),
    IPAddress: address,
    IPPrefixLen: Number(prefix),
    IPv6Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    DNSNames: builtin ? null : [node.name, ...e.aliases],
  };
}

/**
 * `Networks` of a node: dockerd's per-network endpoint settings, by network name. A node in mode
 * `host` or `none` is on that predefined network (no address), one in mode `container:` on none of
 * its own, as dockerd shows them.
 */
function networksOf(details: NodeDetails) {
  const { node } = details;
  if (node.networkMode.startsWith("container:")) {
    return {};
  }
  if (node.networkMode === "host" || node.networkMode === "none") {
    const mode = node.networkMode;
    return {
      [mode]: {
        ...endpointSettings(node, {
          id: "",
          networkId: modeNetworkId(mode, { id: node.hostId }),
          networkName: mode,
          ifIndex: 0,
          address: "",
          mac: "",
          aliases: [],
          internal: false,
          gateway: null,
        }),
        IPPrefixLen: 0,
        DNSNames: null,
      },
    };
  }
  return Object.fromEntries(details.endpoints.map((e) => [e.networkName, endpointSettings(node, e)]));
}

/** `NetworkSettings.Ports` / `HostConfig.PortBindings`: each exposed port with its bindings (null: exposed only). */
export function portMapOf(
  details: NodeDetails,
): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const ports = new Map<string, { HostIp: string; HostPort: string }[] | null>(
    details.node.exposedPorts.map((key) => [key, null]),
  );
  for (const m of details.portMappings) {
    const key = `${m.containerPort}/${m.protocol}`;
    ports.set(key, [
      ...(ports.get(key) ?? []),
      { HostIp: hostIpOfBind(m.bind), HostPort: String(m.hostPort) },
    ]);
  }
  return Object.fromEntries(ports);
}

/** One entry of `docker ps` (GET /containers/json). */
export function containerSummaryOf(details: NodeDetails, now = Date.now()) {
  const { node } = details;
  const state = STATES[node.state];
  const published = new Set(details.portMappings.map((m) => `${m.containerPort}/${m.protocol}`));
  return {
    Id: node.id,
    Names: [`/${node.name}`],
    Image: node.labels[DOCKER_LABELS.image] ?? "",
    ImageID: "",
    Command: recordedCommand(node.labels).join(" "),
    Created: Math.floor(node.createdAt.getTime() / 1000),
    Ports: [
      ...details.portMappings.map((m) => ({
        IP: hostIpOfBind(m.bind),
        PrivatePort: m.containerPort,
        PublicPort: m.hostPort,
        Type: m.protocol,
      })),
      ...node.exposedPorts
        .filter((key) => !published.has(key))
        .map((key) => {
          const [port = "0", type = "tcp"] = key.split("/");
          return { PrivatePort: Number(port), Type: type };
        }),
    ],
    Labels: clientLabels(node.labels),
    State: state.status,
    Status: state.words(startedAtOf(node), now),
    HostConfig: { NetworkMode: node.networkMode },
    NetworkSettings: { Networks: networksOf(details) },
    Mounts: [],
  };
}

/** `docker inspect <container>` (GET /containers/{id}/json). */
export function containerInspectOf(details: NodeDetails) {
  const { node, sandboxKey } = details;
  const state = dockerStateOf(details);
  const command = recordedCommand(node.labels);
  const ports = portMapOf(details);
  const netns = sandboxKey.startsWith("/run/netns/") ? sandboxKey.slice("/run/netns/".length) : undefined;
  // The default bridge's endpoint fills the top-level (deprecated) settings, as dockerd does.
  const bridge = details.endpoints.find((e) => e.networkName === "bridge");
  const main = bridge ? endpointSettings(node, bridge) : undefined;
  const tty = node.labels[DOCKER_LABELS.tty] === "true";
  const openStdin = node.labels[DOCKER_LABELS.openStdin] === "true";
  return {
    Id: node.id,
    Created: node.createdAt.toISOString(),
    Path: command[0] ?? "",
    Args: command.slice(1),
    State: {
      Status: state,
      Running: state === "running",
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: state === "dead",
      // No process holds a node's namespace (a bind mount at SandboxKey pins it, on the lab host,
      // in a pid namespace the client does not share): dockerd's 0 for "no process", never a guess.
      Pid: 0,
      ExitCode: 0,
      Error: "",
      StartedAt: state === "running" ? startedAtOf(node).toISOString() : ZERO_TIME,
      FinishedAt: ZERO_TIME,
    },
    Image: "",
    ResolvConfPath: netns ? `/etc/netns/${netns}/resolv.conf` : "",
    HostnamePath: "",
    HostsPath: netns ? `/etc/netns/${netns}/hosts` : "",
    LogPath: "",
    Name: `/${node.name}`,
    RestartCount: 0,
    Driver: "labnet",
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: null,
    HostConfig: {
      NetworkMode: node.networkMode,
      PortBindings: Object.fromEntries(Object.entries(ports).filter(([, b]) => b !== null)),
      RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
      AutoRemove: node.labels[DOCKER_LABELS.autoRemove] === "true",
      PublishAllPorts: node.publishAll,
      Dns: node.dns.servers,
      DnsOptions: node.dns.options,
      DnsSearch: node.dns.search,
      ExtraHosts: Object.entries(node.extraHosts).map(([name, address]) => `${name}:${address}`),
      Links: null,
      Binds: null,
    },
    GraphDriver: { Data: null, Name: "labnet" },
    Mounts: [],
    Config: {
      Hostname: node.hostname ?? defaultHostname(node),
      Domainname: "",
      User: "",
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ExposedPorts:
        node.exposedPorts.length > 0 ? Object.fromEntries(node.exposedPorts.map((k) => [k, {}])) : undefined,
      Tty: tty,
      OpenStdin: openStdin,
      StdinOnce: false,
      Env: [],
      Cmd: command.length > 0 ? command : null,
      Image: node.labels[DOCKER_LABELS.image] ?? "",
      Volumes: null,
      WorkingDir: "",
      Entrypoint: null,
      OnBuild: null,
      Labels: clientLabels(node.labels),
    },
    NetworkSettings: {
      Bridge: "",
      SandboxID: node.netnsOwnerId ?? node.id,
      SandboxKey: sandboxKey,
      Ports: ports,
      HairpinMode: false,
      LinkLocalIPv6Address: "",
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: main?.EndpointID ?? "",
      Gateway: main?.Gateway ?? "",
      GlobalIPv6Address: "",
      GlobalIPv6PrefixLen: 0,
      IPAddress: main?.IPAddress ?? "",
      IPPrefixLen: main?.IPPrefixLen ?? 0,
      IPv6Gateway: "",
      MacAddress: main?.MacAddress ?? "",
      Networks: networksOf(details),
    },
  };
}
