/**
 * The records a topology picture is drawn from (what Postgres knows of machines, LANs,
 * networks, nodes and published ports), and the graph built from them: vertices nested in
 * groups and machines, and the links between them. Ids of the graph are generated (`v0`,
 * `v1`, ...): no name a user chose ever becomes an id, an attribute name or markup.
 */

/** A machine: a lab host, or a virtual machine on a LAN of one. */
export interface TopologyMachine {
  id: string;
  name: string;
  /** What it calls itself (the seeds' bdc01). */
  hostname: string;
  kind: "lab" | "virtual";
  /** A virtual machine's LAN and its `eth0` address there. */
  lan: { id: string; name: string; subnet: string | null; address: string | null } | null;
  /** The group (a lab instance) the machine belongs to, by {@link TopologyGroup.id}. */
  group?: string | undefined;
}

/** A network: local to one machine (bridge, macvlan), or scoped to a LAN (overlay). */
export interface TopologyNetwork {
  id: string;
  name: string;
  driver: string;
  subnets: string[];
  /** The machine it belongs to; null for an overlay network (scope `lan`). */
  machineId: string | null;
  /** An overlay's VXLAN id. */
  vni?: number | null | undefined;
  /** A macvlan network's parent interface (`eth0`). */
  parent?: string | null | undefined;
  internal?: boolean | undefined;
}

/** One interface of a node: `eth<ifIndex>` on a network, with its address. */
export interface TopologyInterface {
  name: string;
  networkId: string;
  networkName: string;
  address: string;
}

/** A published port: the machine's port, and for a virtual machine the lab host's port to it. */
export interface TopologyPort {
  protocol: string;
  containerPort: number;
  hostPort: number;
  externalPort: number | null;
}

export interface TopologyNode {
  id: string;
  name: string;
  machineId: string;
  interfaces: TopologyInterface[];
  ports: TopologyPort[];
}

/** A group of machines drawn as one box: a lab instance (a student's). */
export interface TopologyGroup {
  id: string;
  label: string;
}

export interface TopologyInput {
  title: string;
  /** Lines under the title (the lab's template, how many instances). */
  subtitle?: string[];
  groups?: TopologyGroup[];
  machines: TopologyMachine[];
  networks: TopologyNetwork[];
  nodes: TopologyNode[];
}

/** How much one picture draws; past these it draws a summary box and says so. */
export interface TopologyLimits {
  /** Groups (lab instances) drawn; the others are summarised in one box. */
  maxGroups: number;
  /** Nodes drawn per machine. */
  maxNodesPerMachine: number;
  /** Networks drawn per machine. */
  maxNetworksPerMachine: number;
  /** Characters of one line of text in a box (the full text is in its tooltip). */
  maxLineChars: number;
}

export const DEFAULT_LIMITS: TopologyLimits = {
  maxGroups: 40,
  maxNodesPerMachine: 60,
  maxNetworksPerMachine: 40,
  maxLineChars: 56,
};

export type VertexKind = "group" | "machine" | "lan" | "network" | "node" | "note";

export interface Vertex {
  id: string;
  kind: VertexKind;
  /** The first line, bold: a name. */
  title: string;
  /** The other lines: addresses, drivers, ports. */
  lines: string[];
  /** The group or machine it is drawn in; null at the top. */
  parent: string | null;
  /** The network's driver, for its colour. */
  driver?: string;
}

export type EdgeKind = "attach" | "uplink" | "overlay" | "macvlan";

export interface Edge {
  id: string;
  source: string;
  target: string;
  kind: EdgeKind;
  label?: string;
}

export interface TopologyGraph {
  title: string;
  subtitle: string[];
  vertices: Vertex[];
  edges: Edge[];
  /** Whether the top level holds groups (a whole lab): then they are packed, not layered. */
  grouped: boolean;
}

/** `tcp 8080→80 (external 32768)`: the machine's port, the node's, the lab host's. */
export function portLine(port: TopologyPort): string {
  const external = port.externalPort === null ? "" : ` (external ${port.externalPort})`;
  return `${port.protocol} ${port.hostPort}→${port.containerPort}${external}`;
}

/**
 * Builds the graph of a topology: groups hold machines and their LANs; machines hold their
 * networks and nodes; an overlay network is one vertex in the smallest box holding all its
 * machines, linked to its nodes on each. Past `limits` it leaves things out and adds a note
 * vertex saying what.
 */
export function buildGraph(input: TopologyInput, limits: TopologyLimits = DEFAULT_LIMITS): TopologyGraph {
  let next = 0;
  const newId = () => `v${next++}`;
  const vertices: Vertex[] = [];
  const edges: Edge[] = [];
  const subtitle = [...(input.subtitle ?? [])];
  const addEdge = (source: string, target: string, kind: EdgeKind, label?: string) => {
    edges.push({ id: `e${edges.length}`, source, target, kind, ...(label ? { label } : {}) });
  };

  // Groups, the first maxGroups of them drawn.
  const groups = input.groups ?? [];
  const drawnGroups = groups.slice(0, limits.maxGroups);
  const hiddenGroups = groups.slice(limits.maxGroups);
  const groupVertex = new Map<string, string>();
  for (const group of drawnGroups) {
    const id = newId();
    groupVertex.set(group.id, id);
    vertices.push({ id, kind: "group", title: group.label, lines: [], parent: null });
  }
  if (hiddenGroups.length > 0) {
    const names = hiddenGroups.map((g) => g.label);
    const shown = names.slice(0, 8).join(", ");
    vertices.push({
      id: newId(),
      kind: "note",
      title: `${hiddenGroups.length} more instances not drawn`,
      lines: [names.length > 8 ? `${shown}, …` : shown, `(a picture draws at most ${limits.maxGroups})`],
      parent: null,
    });
    subtitle.push(
      `${hiddenGroups.length} of ${groups.length} instances are not drawn (see their own pictures)`,
    );
  }
  const hiddenGroupIds = new Set(hiddenGroups.map((g) => g.id));

  // Machines, each in its group's box (or at the top).
  const machines = input.machines.filter((m) => m.group === undefined || !hiddenGroupIds.has(m.group));
  const machineVertex = new Map<string, string>();
  const machineParent = new Map<string, string | null>();
  for (const machine of machines) {
    const id = newId();
    const parent = machine.group !== undefined ? (groupVertex.get(machine.group) ?? null) : null;
    machineVertex.set(machine.id, id);
    machineParent.set(machine.id, parent);
    const lines =
      machine.kind === "lab"
        ? [`lab host ${machine.name}`]
        : [
            `machine ${machine.name}`,
            ...(machine.lan
              ? [`eth0 ${machine.lan.address ?? "(no address yet)"} on ${machine.lan.name}`]
              : []),
          ];
    vertices.push({ id, kind: "machine", title: machine.hostname, lines, parent });
  }

  // LANs: one vertex each, in the box that holds all of its machines.
  const lans = new Map<string, { vertex: string; machines: TopologyMachine[] }>();
  for (const machine of machines) {
    if (!machine.lan) {
      continue;
    }
    const entry = lans.get(machine.lan.id) ?? { vertex: newId(), machines: [] };
    entry.machines.push(machine);
    lans.set(machine.lan.id, entry);
  }
  for (const { vertex, machines: onLan } of lans.values()) {
    const lan = onLan[0]?.lan;
    if (!lan) {
      continue;
    }
    vertices.push({
      id: vertex,
      kind: "lan",
      title: `LAN ${lan.name}`,
      lines: [lan.subnet ?? ""].filter((l) => l !== ""),
      parent: commonParent(onLan.map((m) => machineParent.get(m.id) ?? null)),
    });
    for (const machine of onLan) {
      const target = machineVertex.get(machine.id);
      if (target) {
        addEdge(vertex, target, "uplink", machine.lan?.address ? `eth0 ${machine.lan.address}` : "eth0");
      }
    }
  }

  // Networks: local ones in their machine, overlays once where their machines meet.
  const nodes = input.nodes.filter((n) => machineVertex.has(n.machineId));
  const networkVertex = new Map<string, string>();
  const networksById = new Map(input.networks.map((n) => [n.id, n]));
  const machineOfNetworkNodes = new Map<string, Set<string>>();
  for (const node of nodes) {
    for (const iface of node.interfaces) {
      const set = machineOfNetworkNodes.get(iface.networkId) ?? new Set<string>();
      set.add(node.machineId);
      machineOfNetworkNodes.set(iface.networkId, set);
    }
  }
  const hiddenNetworks = new Map<string, number>();
  const networksPerMachine = new Map<string, number>();
  for (const network of input.networks) {
    if (network.machineId !== null) {
      const parent = machineVertex.get(network.machineId);
      if (!parent) {
        continue;
      }
      const count = (networksPerMachine.get(network.machineId) ?? 0) + 1;
      networksPerMachine.set(network.machineId, count);
      if (count > limits.maxNetworksPerMachine) {
        hiddenNetworks.set(network.machineId, (hiddenNetworks.get(network.machineId) ?? 0) + 1);
        continue;
      }
      const id = newId();
      networkVertex.set(network.id, id);
      vertices.push(networkVertexOf(id, network, parent));
      const lanVertex = lanVertexOfMachine(network.machineId);
      if (network.driver === "macvlan" && lanVertex) {
        addEdge(lanVertex, id, "macvlan", `parent ${network.parent ?? "eth0"}`);
      }
      continue;
    }
    const onMachines = [...(machineOfNetworkNodes.get(network.id) ?? [])];
    const attachedAnywhere = input.nodes.some((n) => n.interfaces.some((i) => i.networkId === network.id));
    if (onMachines.length === 0 && attachedAnywhere) {
      continue; // an overlay of instances not drawn
    }
    const id = newId();
    networkVertex.set(network.id, id);
    vertices.push(
      networkVertexOf(id, network, commonParent(onMachines.map((m) => machineParent.get(m) ?? null))),
    );
  }

  function lanVertexOfMachine(machineId: string): string | undefined {
    const machine = machines.find((m) => m.id === machineId);
    return machine?.lan ? lans.get(machine.lan.id)?.vertex : undefined;
  }

  // Nodes in their machines, linked to each of their networks.
  const nodesPerMachine = new Map<string, number>();
  const hiddenNodes = new Map<string, number>();
  for (const node of nodes) {
    const parent = machineVertex.get(node.machineId);
    if (!parent) {
      continue;
    }
    const count = (nodesPerMachine.get(node.machineId) ?? 0) + 1;
    nodesPerMachine.set(node.machineId, count);
    if (count > limits.maxNodesPerMachine) {
      hiddenNodes.set(node.machineId, (hiddenNodes.get(node.machineId) ?? 0) + 1);
      continue;
    }
    const id = newId();
    vertices.push({
      id,
      kind: "node",
      title: node.name,
      lines: [
        ...node.interfaces.map((i) => `${i.name} ${i.address} (${i.networkName})`),
        ...node.ports.map(portLine),
      ],
      parent,
    });
    for (const iface of node.interfaces) {
      const network = networkVertex.get(iface.networkId);
      if (network) {
        const driver = networksById.get(iface.networkId)?.driver;
        const kind: EdgeKind = driver === "overlay" ? "overlay" : driver === "macvlan" ? "macvlan" : "attach";
        addEdge(network, id, kind, iface.name);
      }
    }
  }

  for (const machine of machines) {
    const parent = machineVertex.get(machine.id);
    const lostNodes = hiddenNodes.get(machine.id) ?? 0;
    const lostNetworks = hiddenNetworks.get(machine.id) ?? 0;
    if (parent && (lostNodes > 0 || lostNetworks > 0)) {
      const what = [
        lostNodes > 0 ? `${lostNodes} more nodes` : "",
        lostNetworks > 0 ? `${lostNetworks} more networks` : "",
      ].filter((s) => s !== "");
      vertices.push({
        id: newId(),
        kind: "note",
        title: `${what.join(" and ")} not drawn`,
        lines: [
          `(a machine draws at most ${limits.maxNodesPerMachine} nodes, ${limits.maxNetworksPerMachine} networks)`,
        ],
        parent,
      });
      subtitle.push(`${machine.hostname}: ${what.join(" and ")} not drawn`);
    }
  }

  return { title: input.title, subtitle, vertices, edges, grouped: drawnGroups.length > 0 };
}

function networkVertexOf(id: string, network: TopologyNetwork, parent: string | null): Vertex {
  const facts = [
    network.driver,
    network.vni != null ? `vni ${network.vni}` : "",
    network.internal ? "internal" : "",
    network.machineId === null ? "scope lan" : "",
  ].filter((s) => s !== "");
  return {
    id,
    kind: "network",
    title: network.name,
    lines: [facts.join(", "), ...network.subnets],
    parent,
    driver: network.driver,
  };
}

/** The box holding all of these (their shared parent), or the top level when they differ. */
function commonParent(parents: (string | null)[]): string | null {
  const first = parents[0];
  return first !== undefined && parents.every((p) => p === first) ? first : null;
}
