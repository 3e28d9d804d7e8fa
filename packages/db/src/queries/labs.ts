import { and, asc, count, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import {
  endpoints,
  hosts,
  labCheckRuns,
  labInstances,
  labs,
  labTemplates,
  networks,
  nodes,
  operations,
  portMappings,
} from "../schema";
import type { Db } from "../tx";
import type { HostRow } from "./hosts";
import type { NetworkRow } from "./networks";
import type { NodeRow } from "./nodes";
import { anyOf } from "./prepared";

export type LabTemplateRow = typeof labTemplates.$inferSelect;
export type LabRow = typeof labs.$inferSelect;
export type LabInstanceRow = typeof labInstances.$inferSelect;
export type LabCheckRunRow = typeof labCheckRuns.$inferSelect;

/** Label of a lab instance's machines (and its LAN): the instance id. */
export const LAB_INSTANCE_LABEL = "labnet.lab-instance";
/** Label of a lab's machines: the lab id. */
export const LAB_LABEL = "labnet.lab";

/** The latest version of each stored template, by name (those `where` allows: visibleTemplate). */
export async function listLabTemplates(db: Db, where?: SQL): Promise<LabTemplateRow[]> {
  return db
    .selectDistinctOn([labTemplates.name])
    .from(labTemplates)
    .where(where)
    .orderBy(asc(labTemplates.name), desc(labTemplates.version));
}

/** Template `name` at `version`, or its latest version. */
export async function findLabTemplate(
  db: Db,
  name: string,
  version?: number,
): Promise<LabTemplateRow | undefined> {
  const [row] = await db
    .select()
    .from(labTemplates)
    .where(
      version === undefined
        ? eq(labTemplates.name, name)
        : and(eq(labTemplates.name, name), eq(labTemplates.version, version)),
    )
    .orderBy(desc(labTemplates.version))
    .limit(1);
  return row;
}

/** Every version of template `name`, oldest first. */
export async function labTemplateVersions(db: Db, name: string): Promise<LabTemplateRow[]> {
  return db.select().from(labTemplates).where(eq(labTemplates.name, name)).orderBy(asc(labTemplates.version));
}

/** The lab with id (`lab_...`) or name `ref`. */
export async function findLab(db: Db, ref: string): Promise<LabRow | undefined> {
  const [row] = await db
    .select()
    .from(labs)
    .where(ref.startsWith("lab_") ? eq(labs.id, ref) : eq(labs.name, ref));
  return row;
}

/** The labs `where` allows (visibleLab), by name. */
export async function listLabs(db: Db, where?: SQL): Promise<LabRow[]> {
  return db.select().from(labs).where(where).orderBy(asc(labs.name));
}

export async function instancesOfLab(db: Db, labId: string): Promise<LabInstanceRow[]> {
  return db
    .select()
    .from(labInstances)
    .where(eq(labInstances.labId, labId))
    .orderBy(asc(labInstances.student));
}

/** One node's attachment, as a lab's views and checks need it. */
export interface LabEndpoint {
  nodeId: string;
  networkId: string;
  networkName: string;
  ifIndex: number;
  /** Without its prefix. */
  address: string;
}

/** A published port of a lab node, with the lab host port that forwards to it. */
export interface LabPort {
  nodeId: string;
  protocol: "tcp" | "udp";
  hostPort: number;
  containerPort: number;
  externalPort: number | null;
}

/** Everything of some instances: their machines, the machines' networks, nodes, endpoints and ports. */
export interface LabResources {
  machines: HostRow[];
  networks: NetworkRow[];
  nodes: NodeRow[];
  endpoints: LabEndpoint[];
  ports: LabPort[];
  /** Machine id → its operations still open (kernel work under way: a solve, a connect). */
  openOperations: Map<string, number>;
}

/** The resources of instances `instanceIds` (their machines carry LAB_INSTANCE_LABEL). */
export async function labResources(db: Db, instanceIds: readonly string[]): Promise<LabResources> {
  if (instanceIds.length === 0) {
    return { machines: [], networks: [], nodes: [], endpoints: [], ports: [], openOperations: new Map() };
  }
  const machines = await db
    .select()
    .from(hosts)
    .where(inArray(sql<string>`${hosts.labels} ->> ${LAB_INSTANCE_LABEL}`, [...instanceIds]))
    .orderBy(asc(hosts.name));
  const machineIds = machines.map((m) => m.id);
  if (machineIds.length === 0) {
    return { machines, networks: [], nodes: [], endpoints: [], ports: [], openOperations: new Map() };
  }
  const forward = alias(portMappings, "forward");
  const [networkRows, nodeRows, endpointRows, portRows, open] = await Promise.all([
    db.select().from(networks).where(anyOf(networks.hostId, machineIds)).orderBy(asc(networks.createdAt)),
    db.select().from(nodes).where(anyOf(nodes.hostId, machineIds)).orderBy(asc(nodes.createdAt)),
    db
      .select({
        nodeId: endpoints.nodeId,
        networkId: endpoints.networkId,
        networkName: networks.name,
        ifIndex: endpoints.ifIndex,
        address: sql<string>`host(${endpoints.address})`,
      })
      .from(endpoints)
      .innerJoin(nodes, eq(nodes.id, endpoints.nodeId))
      .innerJoin(networks, eq(networks.id, endpoints.networkId))
      .where(anyOf(nodes.hostId, machineIds))
      .orderBy(asc(endpoints.nodeId), asc(endpoints.ifIndex)),
    db
      .select({
        nodeId: portMappings.nodeId,
        protocol: portMappings.protocol,
        hostPort: portMappings.hostPort,
        containerPort: portMappings.containerPort,
        externalPort: forward.hostPort,
      })
      .from(portMappings)
      .leftJoin(forward, eq(forward.forwardsId, portMappings.id))
      .where(anyOf(portMappings.hostId, machineIds)),
    db
      .select({ hostId: operations.hostId, n: count() })
      .from(operations)
      .where(and(anyOf(operations.hostId, machineIds), inArray(operations.state, ["queued", "running"])))
      .groupBy(operations.hostId),
  ]);
  return {
    machines,
    networks: networkRows,
    nodes: nodeRows,
    endpoints: endpointRows,
    ports: portRows,
    openOperations: new Map(open.map((o) => [o.hostId, o.n])),
  };
}

/** The latest check run of each of the lab's instances (the newest run that covered it). */
export async function latestCheckRuns(db: Db, labId: string, limit = 20): Promise<LabCheckRunRow[]> {
  return db
    .select()
    .from(labCheckRuns)
    .where(eq(labCheckRuns.labId, labId))
    .orderBy(desc(labCheckRuns.startedAt))
    .limit(limit);
}
