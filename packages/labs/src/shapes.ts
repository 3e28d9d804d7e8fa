/**
 * The command inputs of @labnet/commands, restated here so this package stays pure
 * (no database behind the types). Structurally compatible: a value of each shape can be
 * passed as that command's `input` as is (see shapes.test.ts... and the commands' sources:
 * CreateMachineInput, CreateNetworkInput, CreateNodeInput, ConnectNodeInput).
 */

/** `createMachine`'s input. */
export interface CreateMachineInputShape {
  name: string;
  host?: string;
  lan?: string;
  address?: string;
  hostname?: string;
  labels?: Record<string, string>;
}

/** `createNetwork`'s options: Labnet's switches and Docker's string-valued names. */
export interface NetworkOptionsShape {
  mtu?: number;
  icc?: boolean;
  isolated?: boolean;
  parent?: string;
  macvlan_mode?: string;
  "com.docker.network.bridge.enable_icc"?: string;
  "com.docker.network.driver.mtu"?: string;
  "com.docker.network.driver.overlay.vxlanid_list"?: string;
}

/** `createNetwork`'s input. */
export interface CreateNetworkInputShape {
  name: string;
  host?: string;
  driver?: "bridge" | "macvlan" | "overlay";
  internal?: boolean;
  attachable?: boolean;
  ipam?: {
    configs: { subnet: string; gateway?: string; ipRange?: string; auxAddresses?: Record<string, string> }[];
  };
  options?: NetworkOptionsShape;
  labels?: Record<string, string>;
}

/** One attachment of `createNode`'s input. */
export interface NodeNetworkInputShape {
  network: string;
  ipv4Address?: string;
  aliases?: string[];
}

/** `createNode`'s input. */
export interface CreateNodeInputShape {
  name: string;
  host?: string;
  networkMode?: string;
  networks?: NodeNetworkInputShape[];
  hostname?: string;
  dns?: { servers?: string[]; search?: string[]; options?: string[] };
  extraHosts?: string[];
  ports?: string[];
  exposedPorts?: string[];
  publishAll?: boolean;
  labels?: Record<string, string>;
}

/** `connectNode`'s input without the network (given beside it, as the API's path does). */
export interface ConnectNodeRequestShape {
  node: string;
  ipv4Address?: string;
  aliases?: string[];
}
