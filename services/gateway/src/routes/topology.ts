import { notFound, resolveLab } from "@labnet/commands";
import {
  type Db,
  findHost,
  getNetwork,
  type HostRow,
  instancesOfLab,
  ipamConfigsOf,
  LAB_INSTANCE_LABEL,
  type LabInstanceRow,
  labResources,
  listHostPortMappings,
  listNetworks,
  listNodeDetails,
  machineUplinks,
  type NetworkRow,
} from "@labnet/db";
import {
  renderTopology,
  type TopologyFormat,
  type TopologyInput,
  type TopologyMachine,
  type TopologyNetwork,
  type TopologyNode,
} from "@labnet/topology";
import type { Context } from "hono";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import type { AppDeps } from "./deps";

const CONTENT_TYPES: Readonly<Record<TopologyFormat, string>> = {
  svg: "image/svg+xml; charset=utf-8",
  mermaid: "text/plain; charset=utf-8",
};

/**
 * `GET /v1/machines/{machineId}/topology`, `GET /v1/labs/{labId}/topology` and
 * `GET /v1/labs/{labId}/instances/{instanceId}/topology`: pictures of what Labnet records
 * (machines, LANs, networks, nodes, published ports), drawn by `@labnet/topology` as SVG or
 * as Mermaid text.
 */
export function registerTopologyRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db } = deps;

  registerOperation(app, "getMachineTopology", async (c, input) => {
    const machine = await findHost(db, input.params.machineId);
    if (!machine) {
      throw notFound("machine", input.params.machineId, "path.machineId");
    }
    return answer(c, input.query.format, await machineTopology(db, machine));
  });

  registerOperation(app, "getLabTopology", async (c, input) => {
    const lab = await resolveLab(deps.commands, input.params.labId);
    const instances = await instancesOfLab(db, lab.id);
    const records = await instanceRecords(db, instances);
    return answer(c, input.query.format, {
      title: `Lab ${lab.name}`,
      subtitle: [
        `template ${lab.templateName} v${lab.templateVersion}, ${instances.length} instance${instances.length === 1 ? "" : "s"}`,
      ],
      groups: instances.map((i) => ({ id: i.id, label: `instance ${i.student}` })),
      ...records,
    });
  });

  registerOperation(app, "getLabInstanceTopology", async (c, input) => {
    const lab = await resolveLab(deps.commands, input.params.labId);
    const ref = input.params.instanceId;
    const instance = (await instancesOfLab(db, lab.id)).find((i) => i.id === ref || i.student === ref);
    if (!instance) {
      throw notFound("lab instance", input.params.instanceId, "path.instanceId");
    }
    return answer(c, input.query.format, {
      title: `Lab ${lab.name}, instance ${instance.student}`,
      subtitle: [`template ${lab.templateName} v${lab.templateVersion}`],
      ...(await instanceRecords(db, [instance])),
    });
  });
}

/** The query's format, else what `Accept` asks for (`text/plain` without SVG: Mermaid), else SVG. */
function chooseFormat(c: Context, format: TopologyFormat | undefined): TopologyFormat {
  if (format) {
    return format;
  }
  const accept = (c.req.header("accept") ?? "").toLowerCase();
  return accept.includes("text/plain") && !accept.includes("image/svg+xml") ? "mermaid" : "svg";
}

async function answer(
  c: Context,
  format: TopologyFormat | undefined,
  input: TopologyInput,
): Promise<Response> {
  const chosen = chooseFormat(c, format);
  const body = await renderTopology(input, chosen);
  return c.body(body, 200, {
    "content-type": CONTENT_TYPES[chosen],
    "x-content-type-options": "nosniff",
    // An SVG opened on its own is a document: it may style itself, nothing else.
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    vary: "Accept",
  });
}

/** `172.18.0.2/16` → `172.18.0.2`. */
function withoutPrefix(address: string): string {
  return address.split("/")[0] ?? address;
}

async function subnetsOf(db: Db, networkIds: string[]): Promise<Map<string, string[]>> {
  const subnets = new Map<string, string[]>();
  for (const config of await ipamConfigsOf(db, networkIds)) {
    subnets.set(config.networkId, [...(subnets.get(config.networkId) ?? []), config.subnet]);
  }
  return subnets;
}

function networkRecord(row: NetworkRow, subnets: Map<string, string[]>): TopologyNetwork {
  return {
    id: row.id,
    name: row.name,
    driver: row.driver,
    subnets: subnets.get(row.id) ?? [],
    machineId: row.hostId,
    vni: row.vni,
    parent: row.driver === "macvlan" ? (row.options.parent ?? "eth0") : null,
    internal: row.internal,
  };
}

async function machineRecords(
  db: Db,
  rows: HostRow[],
  group?: (m: HostRow) => string,
): Promise<TopologyMachine[]> {
  const uplinks = await machineUplinks(
    db,
    rows.filter((r) => r.kind === "virtual").map((r) => r.id),
  );
  return rows.map((row) => {
    const uplink = uplinks.get(row.id);
    return {
      id: row.id,
      name: row.name,
      hostname: row.hostname ?? row.name,
      kind: row.kind,
      lan: uplink
        ? { id: uplink.lanId, name: uplink.lanName, subnet: uplink.subnet, address: uplink.address }
        : null,
      group: group?.(row),
    };
  });
}

/** One machine: its networks (its LAN's overlays too), nodes with their endpoints, its port ledger. */
async function machineTopology(db: Db, machine: HostRow): Promise<TopologyInput> {
  const [machines, networkRows, details, ports] = await Promise.all([
    machineRecords(db, [machine]),
    listNetworks(db, { hostId: machine.id }),
    listNodeDetails(db, { hostId: machine.id }),
    listHostPortMappings(db, machine.id),
  ]);
  const subnets = await subnetsOf(
    db,
    networkRows.map((n) => n.id),
  );
  const nodes: TopologyNode[] = details.map(({ node, endpoints }) => ({
    id: node.id,
    name: node.name,
    machineId: machine.id,
    interfaces: endpoints.map((e) => ({
      name: `eth${e.ifIndex}`,
      networkId: e.networkId,
      networkName: e.networkName,
      address: withoutPrefix(e.address),
    })),
    ports: ports
      .filter((p) => p.nodeId === node.id)
      .map((p) => ({
        protocol: p.protocol,
        containerPort: p.containerPort,
        hostPort: p.hostPort,
        externalPort: p.external?.hostPort ?? null,
      })),
  }));
  const parent = machine.parentHostId ? await findHost(db, machine.parentHostId) : undefined;
  return {
    title: `Machine ${machine.hostname ?? machine.name} (${machine.name})`,
    subtitle: [machine.kind === "lab" ? "a lab host" : `on lab host ${parent?.name ?? machine.parentHostId}`],
    machines,
    networks: networkRows.map((n) => networkRecord(n, subnets)),
    nodes,
  };
}

/** The machines of `instances` (not those of earlier generations being removed) and all on them. */
async function instanceRecords(
  db: Db,
  instances: LabInstanceRow[],
): Promise<Pick<TopologyInput, "machines" | "networks" | "nodes">> {
  const resources = await labResources(
    db,
    instances.map((i) => i.id),
  );
  const hosts = resources.machines.filter((m) => m.state !== "deleting");
  const machineIds = new Set(hosts.map((m) => m.id));
  const nodeRows = resources.nodes.filter((n) => machineIds.has(n.hostId));
  const nodeIds = new Set(nodeRows.map((n) => n.id));
  const endpoints = resources.endpoints.filter((e) => nodeIds.has(e.nodeId));
  // Overlay networks belong to a LAN, not a machine: read those the endpoints name.
  const known = new Set(resources.networks.map((n) => n.id));
  const overlayIds = [...new Set(endpoints.map((e) => e.networkId))].filter((id) => !known.has(id));
  const overlays = (await Promise.all(overlayIds.map((id) => getNetwork(db, id)))).filter(
    (n): n is NetworkRow => n !== undefined,
  );
  const networkRows = [
    ...resources.networks.filter((n) => n.hostId !== null && machineIds.has(n.hostId)),
    ...overlays,
  ];
  const subnets = await subnetsOf(
    db,
    networkRows.map((n) => n.id),
  );
  return {
    machines: await machineRecords(db, hosts, (m) => m.labels[LAB_INSTANCE_LABEL] ?? ""),
    networks: networkRows.map((n) => networkRecord(n, subnets)),
    nodes: nodeRows.map((node) => ({
      id: node.id,
      name: node.name,
      machineId: node.hostId,
      interfaces: endpoints
        .filter((e) => e.nodeId === node.id)
        .map((e) => ({
          name: `eth${e.ifIndex}`,
          networkId: e.networkId,
          networkName: e.networkName,
          address: withoutPrefix(e.address),
        })),
      ports: resources.ports
        .filter((p) => p.nodeId === node.id)
        .map((p) => ({
          protocol: p.protocol,
          containerPort: p.containerPort,
          hostPort: p.hostPort,
          externalPort: p.externalPort,
        })),
    })),
  };
}
