import {
  constraintViolation,
  findNetworks,
  type HostRow,
  type IpamConfigRow,
  insertNode,
  knownIpamConfigsOfNetwork,
  lockNode,
  type NetworkRow,
  type NodeDetailEndpoint,
  type NodeDetails,
  type NodeRow,
  newId,
  type OperationRow,
  pipelined,
  type Tx,
  takeNextIfIndex,
} from "@labnet/db";
import { sandboxNetnsName } from "@labnet/netplan";
import type { CommandContext } from "../context";
import { DomainError, invalidField } from "../errors";
import { forwardMachinePorts } from "../machines/forward-ports";
import { bridgeFullProblem } from "../networks/bridge-ports";
import { ensureGatewayBridge, isOverlay, notifyOverlayPeers } from "../networks/overlay-attach";
import { recordNodeOperation } from "../operations/record-operation";
import { allocatePorts } from "../ports/allocate-ports";
import { assertCanPublish, type PortInputs, preparePortRequests } from "../ports/port-requests";
import { resolveHost, resolveNetworkWithHost, resolveNodeOnHost } from "../resolve";
import { assertResourceName } from "../resource-names";
import { attach, checkAliases } from "./attach";
import { detailsOfCreatedNode } from "./created-details";
import { checkNodeNaming, type NodeNamingInput } from "./node-naming";

export interface NodeNetworkInput {
  network: string;
  ipv4Address?: string;
  /** Extra names the node answers to on this network (Docker's `--network-alias`). */
  aliases?: string[];
}

/** Network mode `container:<node>`: the node lives in another node's namespace. */
const CONTAINER_MODE_PREFIX = "container:";

/** `hostname`, `dns` and `extraHosts` come from {@link NodeNamingInput}. */
/** Ports (`-p`, `--expose`, `-P`) come from {@link PortInputs}. */
export interface CreateNodeInput extends NodeNamingInput, PortInputs {
  name: string;
  host?: string;
  /**
   * `bridge` (default), `none`, `host` (the lab host's own namespace), `container:<node>`
   * (another node's namespace), or a network name or id.
   */
  networkMode?: string;
  /** Networks to attach, in order (eth0, eth1, ...), each with an optional static address. */
  networks?: NodeNetworkInput[];
  labels?: Record<string, string>;
}

export interface CreatedNode {
  node: NodeRow;
  operation: OperationRow;
  /**
   * The node's view data as recorded (see {@link detailsOfCreatedNode}); undefined for a node
   * in mode `container:`, whose view shows the namespace owner's endpoints.
   */
  details: NodeDetails | undefined;
}

/**
 * Records a node, an endpoint per network with an address from the network's IPAM, its
 * published ports and the operation that builds its sandbox, in one short transaction that
 * waits for no other node creation: addresses come off the networks' free lists and ports
 * are drawn at random (see {@link attach}, `allocatePorts`); the allocation ledger's
 * primary key, the port ledger's exclusion constraint and the bridge port check refuse
 * anything concurrent requests would otherwise share.
 */
/** `start: false` (docker create): recorded as `created`, with no operation until `startNode`. */
export async function createNode(args: {
  ctx: CommandContext;
  input: CreateNodeInput;
  start: false;
}): Promise<Omit<CreatedNode, "operation">>;
export async function createNode(args: {
  ctx: CommandContext;
  input: CreateNodeInput;
  /** Writes that must commit with the node (a machine's record naming its uplink). */
  withNode?: (tx: Tx, node: NodeRow) => Promise<void>;
}): Promise<CreatedNode>;
export async function createNode({
  ctx,
  input,
  start = true,
  withNode,
}: {
  ctx: CommandContext;
  input: CreateNodeInput;
  start?: boolean;
  withNode?: (tx: Tx, node: NodeRow) => Promise<void>;
}): Promise<Omit<CreatedNode, "operation"> & { operation?: OperationRow }> {
  assertResourceName(input.name, "body.name", "node");
  const { mode, attachments } = attachmentsOf(input);
  const aliases = attachments.map((a, i) =>
    checkAliases(a.aliases, input.networks ? `body.networks[${i}].aliases` : "body.aliases"),
  );
  const naming = checkNodeNaming(input, "body");
  const ports = preparePortRequests(input);
  if (ports.requests.length > 0) {
    assertCanPublish(mode, input.ports?.length ? "body.ports" : "body.publishAll");
  }
  const hostRef = input.host ? await resolveHost(ctx.db, input.host) : undefined;
  const sharing = mode.startsWith(CONTAINER_MODE_PREFIX)
    ? await resolveNetnsOwner(ctx, mode.slice(CONTAINER_MODE_PREFIX.length), hostRef)
    : undefined;
  const networks: NetworkRow[] = [];
  // The first network's host, read with it: the node's host unless the request names one.
  let firstHost: HostRow | null = null;
  for (const [i, attachment] of attachments.entries()) {
    const location = input.networks ? `body.networks[${i}].network` : "body.networkMode";
    let network: NetworkRow;
    if (attachment.network === "bridge") {
      network = await defaultBridgeOf(ctx, hostRef?.id ?? networks[0]?.hostId ?? undefined, location);
    } else {
      const found = await resolveNetworkWithHost(ctx.db, attachment.network, hostRef?.id, location);
      network = found.network;
      firstHost = i === 0 ? found.host : firstHost;
    }
    if (networks.some((n) => n.id === network.id)) {
      throw invalidField(location, `network ${network.name} is listed twice`);
    }
    if (isOverlay(network) && !hostRef) {
      throw invalidField(
        location,
        `overlay network ${network.name} spans the machines of a LAN: name the machine (body.host)`,
      );
    }
    const firstLocal = networks.find((n) => !isOverlay(n));
    if (!isOverlay(network) && firstLocal && firstLocal.hostId !== network.hostId) {
      throw invalidField(location, `network ${network.name} is on another host than ${firstLocal.name}`);
    }
    networks.push(network);
  }
  // A network's IPAM configs never change: read before the transaction, which stays short.
  const [host, configs] = await Promise.all([
    hostRef ??
      (sharing
        ? resolveHost(ctx.db, sharing.named.hostId)
        : (firstHost ?? resolveHost(ctx.db, networks[0]?.hostId ?? undefined))),
    Promise.all(networks.map((n) => knownIpamConfigsOfNetwork(ctx.db, n.id))),
  ]);

  const located = networks.map((network, i) => ({
    network,
    configs: configs[i] ?? [],
    index: i,
    location: input.networks ? `body.networks[${i}].network` : "body.networkMode",
  }));
  try {
    const created = await ctx.db.transaction(async (tx) => {
      if (sharing) {
        await lockNetnsOwner(tx, sharing, start);
      }
      const id = newId("node");
      // Sent without waiting, its endpoints after it (one round trip less); should it fail
      // (a name taken), its error is the one answered.
      const [node, endpoints] = await pipelined(
        insertNode(tx, {
          id,
          name: input.name,
          hostId: host.id,
          networkMode: storedNetworkMode(mode, sharing?.named, networks[0]),
          // Modes host and container: have no sandbox of their own.
          netns: mode === "host" || sharing ? null : sandboxNetnsName(host.netnsPrefix, id),
          netnsOwnerId: sharing?.ownerId ?? null,
          nextIfIndex: networks.length,
          hostname: naming.hostname,
          dns: naming.dns,
          extraHosts: naming.extraHosts,
          labels: input.labels ?? {},
          exposedPorts: ports.exposedPorts,
          publishAll: input.publishAll ?? false,
          ...(start ? {} : { state: "created" as const }),
        }),
        () => attachEndpoints(tx, id, located, input, attachments, aliases),
      );
      const overlays = networks.filter(isOverlay);
      if (overlays.length > 0) {
        // Docker's overlay egress: the node's next interface is on the machine's docker_gwbridge.
        const gateway = await ensureGatewayBridge(tx, ctx, host);
        if (!networks.some((n) => n.id === gateway.network.id)) {
          const ifIndex = await takeNextIfIndex(
            tx,
            node,
            endpoints.map((e) => e.ifIndex),
          );
          endpoints.push(
            await attach(
              tx,
              node,
              gateway.network,
              { ifIndex, locations: { network: "body.networks", ipv4Address: "body.networks" } },
              gateway.configs,
            ),
          );
        }
        await notifyOverlayPeers(
          tx,
          overlays.map((n) => n.id),
          host.id,
        );
      }
      // In the same transaction: a node never exists without the ports it asked for. Only
      // after its endpoints: sent with them, an address taken off a refilled free list and a
      // port insert waiting on another creation's draw deadlock two creations (seen with 12
      // creations in a small port range). With one port at most there is no savepoint to roll
      // back, so the operation's insert is sent with the port's (one round trip less); several
      // ports take a savepoint of their own.
      const record = () => (start ? recordNodeOperation(tx, { id, hostId: host.id }) : undefined);
      const allocating = allocatePorts(tx, { host, node }, ports.requests);
      const [portMappings, operation] =
        ports.requests.length <= 1
          ? await Promise.all([allocating, record()])
          : [await allocating, await record()];
      await forwardMachinePorts(tx, host, portMappings);
      await withNode?.(tx, node);
      const details = sharing
        ? undefined
        : detailsOfCreatedNode({ node, host, endpoints, portMappings, operation });
      return { node, operation, details };
    });
    if (start) {
      ctx.onOperationsWritten?.();
    }
    return created;
  } catch (error) {
    const violation = constraintViolation(error);
    if (violation?.constraint === "nodes_host_name_key") {
      throw new DomainError(
        "NAME_CONFLICT",
        `a node named ${input.name} already exists on host ${host.name}`,
        [{ location: "body.name", message: "name already in use" }],
      );
    }
    throw (await bridgeFullProblem(ctx.db, error, located)) ?? error;
  }
}

/**
 * The node's endpoints, in network id order: the endpoint counts are updated at commit in
 * this order, so two nodes joining the same networks cannot deadlock there. ethN still
 * follows the request.
 */
async function attachEndpoints(
  tx: Tx,
  nodeId: string,
  located: readonly LocatedNetwork[],
  input: CreateNodeInput,
  attachments: readonly NodeNetworkInput[],
  aliases: readonly (readonly string[])[],
): Promise<NodeDetailEndpoint[]> {
  const endpoints: NodeDetailEndpoint[] = [];
  for (const { network, configs, index: i, location } of [...located].sort((a, b) =>
    a.network.id < b.network.id ? -1 : 1,
  )) {
    endpoints.push(
      await attach(
        tx,
        { id: nodeId },
        network,
        {
          ifIndex: i,
          staticAddress: attachments[i]?.ipv4Address,
          aliases: aliases[i],
          locations: {
            network: location,
            ipv4Address: input.networks ? `body.networks[${i}].ipv4Address` : "body.ipv4Address",
          },
        },
        configs,
      ),
    );
  }
  return endpoints;
}

/** A network the request names, with its IPAM configs and where the request named it. */
interface LocatedNetwork {
  network: NetworkRow;
  configs: readonly IpamConfigRow[];
  index: number;
  location: string;
}

function attachmentsOf(input: CreateNodeInput): { mode: string; attachments: NodeNetworkInput[] } {
  const mode = input.networkMode ?? input.networks?.[0]?.network ?? "bridge";
  if (mode === "host" || mode === "none" || mode.startsWith(CONTAINER_MODE_PREFIX)) {
    if (input.networks && input.networks.length > 0) {
      const why =
        mode === "none"
          ? "has only lo"
          : mode === "host"
            ? "shares the host's network namespace"
            : "shares another node's network namespace";
      throw invalidField(
        "body.networks",
        `a node in network mode ${mode} ${why} and cannot be attached to networks`,
      );
    }
    if (mode === CONTAINER_MODE_PREFIX) {
      throw invalidField("body.networkMode", "network mode container: needs a node: container:<node>");
    }
    return { mode, attachments: [] };
  }
  if (!input.networks || input.networks.length === 0) {
    return { mode, attachments: [{ network: mode }] };
  }
  const first = input.networks[0]?.network;
  if (input.networkMode !== undefined && first !== input.networkMode) {
    throw invalidField(
      "body.networkMode",
      `network mode ${input.networkMode} differs from the first network ${first}`,
    );
  }
  return { mode, attachments: input.networks };
}

async function defaultBridgeOf(
  ctx: CommandContext,
  hostId: string | undefined,
  location: string,
): Promise<NetworkRow> {
  const host = await resolveHost(ctx.db, hostId);
  // Users cannot name a network `bridge`: on a host, that name is the predefined one.
  const network = (await findNetworks(ctx.db, "bridge", host.id)).find((n) => n.builtin);
  if (!network) {
    throw new DomainError("NOT_FOUND", `host ${host.name} has no default bridge network yet`, [
      { location, message: "default bridge missing" },
    ]);
  }
  return network;
}

/** The node whose namespace a `container:<node>` node shares, and the one it names. */
interface NetnsSharing {
  /** The node the request named. */
  named: NodeRow;
  /** The node that owns the namespace: the named one, or the one it shares itself. */
  ownerId: string;
}

/**
 * Resolves `container:<ref>`. A node that shares another's namespace passes that one on,
 * so owners never chain. The named node must be on the node's host.
 */
async function resolveNetnsOwner(
  ctx: CommandContext,
  ref: string,
  host: HostRow | undefined,
): Promise<NetnsSharing> {
  const named = await resolveNodeOnHost(ctx.db, ref, host, "body.networkMode");
  return { named, ownerId: named.netnsOwnerId ?? named.id };
}

/** Locks the namespace owner, so it cannot be removed while a node joins it. */
async function lockNetnsOwner(tx: Tx, sharing: NetnsSharing, start: boolean): Promise<void> {
  const owner = await lockNode(tx, sharing.ownerId);
  if (!owner || owner.state === "deleting") {
    throw new DomainError("CONFLICT", `node ${sharing.named.name} is being removed`, [
      { location: "body.networkMode", message: "node is being removed" },
    ]);
  }
  if (start && owner.state === "created") {
    throw notStartedOwner(sharing.named.name, "body.networkMode");
  }
}

/** A node cannot be built in a namespace that is not there yet: its owner was never started. */
export function notStartedOwner(name: string, location: string): DomainError {
  return new DomainError(
    "CONFLICT",
    `cannot join the network namespace of node ${name}: it is created but not started (start it first)`,
    [{ location, message: "namespace owner not started" }],
  );
}

/** What a node records as its network mode (Docker's HostConfig.NetworkMode). */
function storedNetworkMode(mode: string, named: NodeRow | undefined, first: NetworkRow | undefined): string {
  if (named) {
    return `${CONTAINER_MODE_PREFIX}${named.name}`;
  }
  if (mode === "bridge" || mode === "none" || mode === "host") {
    return mode;
  }
  return first?.name ?? mode;
}
