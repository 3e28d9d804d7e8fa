import type { components, operations } from "@labnet/api";
import { invalidField, publishPorts, resolveHost, resolveNode, unpublishPorts } from "@labnet/commands";
import {
  type Db,
  getNode,
  getOperation,
  listHostPortMappings,
  listNodePortMappings,
  type NodeRow,
} from "@labnet/db";
import { isIpv4 } from "@labnet/netplan";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { numberKey, paginate } from "../http/paginate";
import { operationRef } from "../views/operation-view";
import { portMappingView } from "../views/port-view";
import type { AppDeps } from "./deps";
import { respondToOperation } from "./respond";

type NodePorts = components["schemas"]["NodePorts"];

/** Published ports of nodes (`docker port`, `-p` later) and each host's port ledger. */
export function registerPortRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db } = deps;

  registerOperation(app, "listNodePorts", async (c, input) => {
    const node = await resolveNode(db, input.params.nodeId);
    const { containerPort, protocol } = input.query ?? {};
    return c.json(
      await nodePortsView(db, node, {
        ...(containerPort !== undefined ? { containerPort } : {}),
        ...(protocol !== undefined ? { protocol } : {}),
      }),
      200,
    );
  });

  registerOperation(app, "publishNodePorts", async (c, input) => {
    const { node, operation } = await publishPorts({
      ctx: deps.commands,
      ref: input.params.nodeId,
      input: input.body,
    });
    return respondToOperation(c, deps, {
      operation,
      doneStatus: 201,
      load: () => loadNodePorts(db, node.id, operation.id),
    });
  });

  registerOperation(app, "unpublishNodePorts", async (c, input) => {
    const { id, containerPort, protocol, hostPort, hostIp } = input.query ?? {};
    const { node, operation } = await unpublishPorts({
      ctx: deps.commands,
      ref: input.params.nodeId,
      filters: {
        ...(id !== undefined ? { ids: Array.isArray(id) ? id : [id] } : {}),
        ...(containerPort !== undefined ? { containerPort } : {}),
        ...(protocol !== undefined ? { protocol } : {}),
        ...(hostPort !== undefined ? { hostPort } : {}),
        ...(hostIp !== undefined ? { hostIp: checkHostIp(hostIp) } : {}),
      },
    });
    return respondToOperation(c, deps, {
      operation,
      doneStatus: 204,
      load: () => loadNodePorts(db, node.id, operation.id),
    });
  });

  /** A machine's ledger: `/v1/hosts/{id}/ports` for a lab host, `/v1/machines/{id}/ports` for any. */
  const ledgerView = async (ref: string, location: string, query: HostPortsQuery | undefined) => {
    const host = await resolveHost(db, ref, location);
    const { node, protocol, hostPort, containerPort, hostIp, limit, cursor } = query ?? {};
    const nodeId = node ? (await resolveNode(db, node, host.id, "query.node")).id : undefined;
    const items = await listHostPortMappings(db, host.id, {
      ...(nodeId !== undefined ? { nodeId } : {}),
      ...(protocol !== undefined ? { protocol } : {}),
      ...(hostPort !== undefined ? { hostPort } : {}),
      ...(containerPort !== undefined ? { containerPort } : {}),
      ...(hostIp !== undefined ? { hostIp: checkHostIp(hostIp) } : {}),
    });
    return {
      hostId: host.id,
      hostName: host.name,
      portRange: { start: host.portRangeStart, end: host.portRangeEnd },
      // The ledger's order: protocol, host port, address.
      ...paginate(items.map(portMappingView), { limit, cursor }, (p) => [
        p.protocol,
        numberKey(p.hostPort),
        p.hostIp,
        p.id,
      ]),
    };
  };
  registerOperation(app, "listHostPorts", async (c, input) =>
    c.json(await ledgerView(input.params.hostId, "path.hostId", input.query), 200),
  );
  registerOperation(app, "listMachinePorts", async (c, input) =>
    c.json(await ledgerView(input.params.machineId, "path.machineId", input.query), 200),
  );
}

type HostPortsQuery = operations["listHostPorts"]["parameters"]["query"];

async function nodePortsView(
  db: Db,
  node: NodeRow,
  filters: Parameters<typeof listNodePortMappings>[2] = {},
): Promise<NodePorts> {
  const items = await listNodePortMappings(db, node.id, filters);
  return { nodeId: node.id, nodeName: node.name, items: items.map(portMappingView) };
}

/** The node's ports after a change, with the operation applying it (undefined once the node is gone). */
async function loadNodePorts(db: Db, nodeId: string, operationId: string): Promise<NodePorts | undefined> {
  const node = await getNode(db, nodeId);
  if (!node) {
    return undefined;
  }
  const operation = await getOperation(db, operationId);
  return { ...(await nodePortsView(db, node)), ...(operation ? { operation: operationRef(operation) } : {}) };
}

/** The schema only allows digits and dots; the value must also be an address. */
function checkHostIp(hostIp: string): string {
  if (!isIpv4(hostIp)) {
    throw invalidField("query.hostIp", `invalid IP address: ${hostIp}`);
  }
  return hostIp;
}
