import type { OperationId } from "@labnet/api";
import type { ResourceKind, Role } from "@labnet/db";
import type { StudentAction } from "@labnet/labs";

/** A field of the request that names a resource: `path.nodeId`, `body.host`, `body.networks[].network`. */
export interface ResourceRef {
  at: string;
  kind: ResourceKind;
  /**
   * A machine the scope must name: a token that reaches some machines only (not an admin) gets
   * its one machine filled in when it names none, else is asked to name one.
   */
  machineOfScope?: boolean;
}

/** Who may call an operation, and which of its fields name resources the token must reach. */
export interface AccessRule {
  /** Roles that may call it. Another role gets 404 when it names a resource (it does not exist for them), else 403. */
  roles: readonly Role[];
  /** Fields naming resources, checked in order (a lab before its instance); one out of reach answers 404. */
  refs?: readonly ResourceRef[];
  /** A student also needs the lab template's permission for this. */
  student?: StudentAction;
  /** No token needed (probes). */
  public?: true;
}

const ALL: readonly Role[] = ["admin", "instructor", "student"];
const STAFF: readonly Role[] = ["admin", "instructor"];
const ADMIN: readonly Role[] = ["admin"];

const network = { at: "path.networkId", kind: "network" } as const;
const node = { at: "path.nodeId", kind: "node" } as const;
const machine = { at: "path.machineId", kind: "machine" } as const;
const lab = { at: "path.labId", kind: "lab" } as const;
const instance = { at: "path.instanceId", kind: "instance" } as const;
const machineInBody = { at: "body.host", kind: "machine", machineOfScope: true } as const;

/**
 * Every operation of the contract and who may call it. Typed as a full record: an operation
 * added to the document does not compile until it has a rule here, and the gate (gate.ts)
 * applies these rules to every request before its handler runs; lists filter by the same
 * scope (@labnet/db access.ts).
 */
export const ACCESS_RULES: Readonly<Record<OperationId, AccessRule>> = {
  getHealth: { roles: ALL, public: true },
  getReadiness: { roles: ALL, public: true },

  whoami: { roles: ALL },
  createToken: { roles: STAFF },
  listTokens: { roles: ALL },
  getToken: { roles: ALL, refs: [{ at: "path.tokenId", kind: "token" }] },
  revokeToken: { roles: ALL, refs: [{ at: "path.tokenId", kind: "token" }] },
  getAccount: { roles: STAFF, refs: [{ at: "path.accountId", kind: "account" }] },
  updateAccount: { roles: ADMIN, refs: [{ at: "path.accountId", kind: "account" }] },
  listAuditEntries: { roles: STAFF },

  listHosts: { roles: ADMIN },
  getHost: { roles: ADMIN, refs: [{ at: "path.hostId", kind: "host" }] },
  listHostPorts: { roles: ADMIN, refs: [{ at: "path.hostId", kind: "host" }] },
  listAddressPools: { roles: ADMIN },

  listLabTemplates: { roles: STAFF },
  createLabTemplate: { roles: STAFF },
  getLabTemplate: { roles: STAFF, refs: [{ at: "path.templateName", kind: "template" }] },
  deleteLabTemplate: { roles: STAFF, refs: [{ at: "path.templateName", kind: "ownTemplate" }] },

  listLabs: { roles: ALL },
  createLab: {
    roles: STAFF,
    refs: [
      { at: "body.template", kind: "template" },
      { at: "body.host", kind: "host" },
    ],
  },
  getLab: { roles: ALL, refs: [lab] },
  deleteLab: { roles: STAFF, refs: [lab] },
  getLabTopology: { roles: STAFF, refs: [lab] },
  runLabChecks: { roles: ALL, refs: [lab] },
  getLabCheckRun: { roles: ALL, refs: [lab, { at: "path.runId", kind: "checkRun" }] },
  solveLab: { roles: STAFF, refs: [lab] },
  resetLabInstance: { roles: ALL, refs: [lab, instance] },
  retryLabInstance: { roles: ALL, refs: [lab, instance] },
  getLabInstanceTopology: { roles: ALL, refs: [lab, instance] },
  getLabInstanceTimeline: { roles: ALL, refs: [lab, instance] },

  listMachines: { roles: ALL, refs: [{ at: "query.host", kind: "host" }] },
  createMachine: { roles: ADMIN },
  getMachine: { roles: ALL, refs: [machine] },
  deleteMachine: { roles: STAFF, refs: [machine] },
  listMachinePorts: { roles: ALL, refs: [machine] },
  getMachineKernel: { roles: ALL, refs: [machine] },
  getMachineTopology: { roles: ALL, refs: [machine] },
  execInMachine: { roles: ALL, refs: [machine] },

  listNetworks: { roles: ALL, refs: [{ at: "query.host", kind: "machine" }] },
  createNetwork: { roles: ALL, refs: [machineInBody], student: "networks" },
  pruneNetworks: {
    roles: ALL,
    refs: [{ at: "query.host", kind: "machine", machineOfScope: true }],
    student: "networks",
  },
  getNetwork: { roles: ALL, refs: [network] },
  updateNetwork: { roles: ALL, refs: [network], student: "networks" },
  deleteNetwork: { roles: ALL, refs: [network], student: "networks" },
  connectNetwork: { roles: ALL, refs: [network, { at: "body.node", kind: "node" }], student: "connect" },
  disconnectNetwork: {
    roles: ALL,
    refs: [network, { at: "body.node", kind: "node" }],
    student: "disconnect",
  },
  listNetworkAllocations: { roles: ALL, refs: [network] },

  listNodes: {
    roles: ALL,
    refs: [
      { at: "query.host", kind: "machine" },
      { at: "query.network", kind: "network" },
    ],
  },
  createNode: {
    roles: ALL,
    refs: [machineInBody, { at: "body.networks[].network", kind: "network" }],
    student: "nodes",
  },
  getNode: { roles: ALL, refs: [node] },
  deleteNode: { roles: ALL, refs: [node], student: "nodes" },
  startNode: { roles: ALL, refs: [node], student: "nodes" },
  listNodePorts: { roles: ALL, refs: [node] },
  publishNodePorts: { roles: ALL, refs: [node], student: "ports" },
  unpublishNodePorts: { roles: ALL, refs: [node], student: "ports" },
  execInNode: { roles: ALL, refs: [node] },
  getNodeKernel: { roles: ALL, refs: [node] },

  getOperation: { roles: ALL, refs: [{ at: "path.operationId", kind: "operation" }] },
  listEvents: {
    roles: ALL,
    refs: [
      { at: "query.lab", kind: "lab" },
      { at: "query.instance", kind: "instance" },
      { at: "query.machine", kind: "machine" },
    ],
  },
};
