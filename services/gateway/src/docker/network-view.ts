/**
 * Networks as the Engine API shows them (`docker network ls`, `docker network inspect`): Labnet's
 * networks of one machine (its own and its LAN's overlays), plus dockerd's predefined `host` and
 * `none`, which Labnet has as network modes rather than rows. Containers lists the endpoints of
 * the machine's nodes, keyed by node id, with the address and its prefix as dockerd prints it.
 */
import {
  type Db,
  endpointsOnNetworks,
  findNetworks,
  type HostRow,
  type IpamConfigRow,
  ipamConfigsOf,
  listNetworks,
  listNodes,
  type NetworkRow,
  type NodeRow,
} from "@labnet/db";
import { isLabnetBridge } from "@labnet/netplan";
import { DockerError } from "./errors";

export interface DockerEndpointResource {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

export interface DockerNetwork {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: {
    Driver: string;
    Options: Record<string, string> | null;
    Config: {
      Subnet: string;
      IPRange?: string;
      Gateway: string;
      AuxiliaryAddresses?: Record<string, string>;
    }[];
  };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, DockerEndpointResource>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** dockerd's predefined networks that are network modes in Labnet, and their drivers. */
const MODE_NETWORKS = { host: "host", none: "null" } as const;
type ModeNetwork = keyof typeof MODE_NETWORKS;

/** A network `{id}` names on the machine: a Labnet network, or the `host`/`none` mode. */
export type FoundNetwork = { row: NetworkRow } | { mode: ModeNetwork };

/** The id the facade gives a mode network of a machine (stable, and distinct in 12 characters). */
export function modeNetworkId(mode: ModeNetwork, machine: Pick<HostRow, "id">): string {
  return `${mode}_${machine.id}`;
}

/**
 * The network `ref` names on the machine, as dockerd looks one up: a whole id, a name, then a
 * unique id prefix. 404 `network <ref> not found` otherwise.
 */
export async function findDockerNetwork(db: Db, machine: HostRow, ref: string): Promise<FoundNetwork> {
  for (const mode of Object.keys(MODE_NETWORKS) as ModeNetwork[]) {
    if (ref === mode || ref === modeNetworkId(mode, machine)) {
      return { mode };
    }
  }
  const [exact] = await findNetworks(db, ref, machine.id);
  if (exact) {
    return { row: exact };
  }
  const prefixed =
    ref.length >= 4
      ? (await listNetworks(db, { hostId: machine.id })).filter((n) => n.id.startsWith(ref))
      : [];
  const [only, ...more] = prefixed;
  if (only && more.length === 0) {
    return { row: only };
  }
  throw new DockerError(404, `network ${ref} not found`);
}

/** Every network of the machine as dockerd lists them (predefined first: bridge, host, none). */
export async function dockerNetworksOf(
  db: Db,
  machine: HostRow,
  defaultMtu: number,
): Promise<DockerNetwork[]> {
  const [rows, nodes] = await Promise.all([
    listNetworks(db, { hostId: machine.id }),
    listNodes(db, { hostId: machine.id }),
  ]);
  const ordered = [...rows.filter((r) => r.builtin), ...rows.filter((r) => !r.builtin)];
  const [first, ...rest] = await labnetNetworkViews(db, ordered, nodes, defaultMtu);
  return [
    ...(first ? [first] : []),
    modeNetworkView(machine, "host", nodes),
    modeNetworkView(machine, "none", nodes),
    ...rest,
  ];
}

/** One network as `docker network inspect` prints it. */
export async function dockerNetworkView(
  db: Db,
  machine: HostRow,
  found: FoundNetwork,
  defaultMtu: number,
): Promise<DockerNetwork> {
  const nodes = await listNodes(db, { hostId: machine.id });
  if ("mode" in found) {
    return modeNetworkView(machine, found.mode, nodes);
  }
  const [view] = await labnetNetworkViews(db, [found.row], nodes, defaultMtu);
  if (!view) {
    throw new DockerError(404, `network ${found.row.name} not found`);
  }
  return view;
}

async function labnetNetworkViews(
  db: Db,
  rows: NetworkRow[],
  machineNodes: NodeRow[],
  defaultMtu: number,
): Promise<DockerNetwork[]> {
  const ids = rows.map((r) => r.id);
  const [configs, attached] = await Promise.all([ipamConfigsOf(db, ids), endpointsOnNetworks(db, ids)]);
  // An overlay spans machines: dockerd lists the local endpoints only.
  const local = new Set(machineNodes.map((n) => n.id));
  return rows.map((row) => ({
    Name: row.name,
    Id: row.id,
    Created: row.createdAt.toISOString(),
    Scope: row.driver === "overlay" ? "swarm" : "local",
    Driver: row.driver,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: {
      Driver: "default",
      Options: {},
      Config: configs.filter((c) => c.networkId === row.id).map(ipamConfigView),
    },
    Internal: row.internal,
    // dockerd's flag is about swarm-scoped networks: a local one says false.
    Attachable: row.driver === "overlay" ? row.attachable : false,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: Object.fromEntries(
      attached
        .filter((a) => a.networkId === row.id && local.has(a.nodeId))
        .map((a) => [
          a.nodeId,
          {
            Name: a.nodeName,
            EndpointID: a.endpointId,
            MacAddress: a.mac,
            IPv4Address: a.address,
            IPv6Address: "",
          },
        ]),
    ),
    Options: optionsView(row, defaultMtu),
    Labels: row.labels,
  }));
}

function ipamConfigView(config: IpamConfigRow): DockerNetwork["IPAM"]["Config"][number] {
  return {
    Subnet: config.subnet,
    ...(config.ipRange ? { IPRange: config.ipRange } : {}),
    Gateway: config.gateway,
    ...(Object.keys(config.auxAddresses).length > 0 ? { AuxiliaryAddresses: config.auxAddresses } : {}),
  };
}

/**
 * Options as dockerd shows them: the default bridge's full set (its bridge: a machine's
 * docker0, the lab host's `lnbr-…`), and for other networks the driver options they were
 * created with (a chosen bridge name, icc off and an MTU other than the default as Docker's
 * options).
 */
function optionsView(row: NetworkRow, defaultMtu: number): Record<string, string> {
  if (row.builtin) {
    return {
      "com.docker.network.bridge.default_bridge": "true",
      "com.docker.network.bridge.enable_icc": String(row.icc),
      "com.docker.network.bridge.enable_ip_masquerade": "true",
      "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
      "com.docker.network.bridge.name": row.bridgeName,
      "com.docker.network.driver.mtu": String(row.mtu),
    };
  }
  return {
    ...row.options,
    ...(isLabnetBridge(row.bridgeName) ? {} : { "com.docker.network.bridge.name": row.bridgeName }),
    ...(row.icc ? {} : { "com.docker.network.bridge.enable_icc": "false" }),
    ...(row.driver !== "overlay" && row.mtu !== defaultMtu
      ? { "com.docker.network.driver.mtu": String(row.mtu) }
      : {}),
  };
}

function modeNetworkView(machine: HostRow, mode: ModeNetwork, nodes: NodeRow[]): DockerNetwork {
  return {
    Name: mode,
    Id: modeNetworkId(mode, machine),
    Created: machine.createdAt.toISOString(),
    Scope: "local",
    Driver: MODE_NETWORKS[mode],
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: { Driver: "default", Options: null, Config: [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: Object.fromEntries(
      nodes
        .filter((n) => n.networkMode === mode)
        .map((n) => [
          n.id,
          { Name: n.name, EndpointID: "", MacAddress: "", IPv4Address: "", IPv6Address: "" },
        ]),
    ),
    Options: {},
    Labels: {},
  };
}
