import {
  createNode,
  deleteNode,
  notFound,
  resolveHost,
  resolveNetwork,
  resolveNode,
  startNode,
} from "@labnet/commands";
import { type Db, listNodeDetails, nodeDetailsByIds, nodeDetailsByRef } from "@labnet/db";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { paginate } from "../http/paginate";
import { nodeView } from "../views/node-view";
import type { AppDeps } from "./deps";
import { loadOperation, respondToOperation } from "./respond";

/** The node's view as it stands now, undefined once it is gone. */
export async function loadNodeView(db: Db, id: string) {
  const [details] = await nodeDetailsByIds(db, [id]);
  return details ? nodeView(details) : undefined;
}

export function registerNodeRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db } = deps;

  registerOperation(app, "createNode", async (c, input) => {
    const { start, ...body } = input.body;
    if (start === false) {
      // docker create: recorded, nothing to wait for until POST /v1/nodes/{id}/start.
      const { node, details } = await createNode({ ctx: deps.commands, input: body, start: false });
      const view = details ? nodeView(details) : await loadNodeView(db, node.id);
      return c.json(view, 201, { Location: `/v1/nodes/${node.id}` });
    }
    const { node, operation, details } = await createNode({ ctx: deps.commands, input: body });
    return respondToOperation(c, deps, {
      operation,
      doneStatus: 201,
      location: `/v1/nodes/${node.id}`,
      load: () => loadNodeView(db, node.id),
      current: details ? nodeView(details) : undefined,
    });
  });

  registerOperation(app, "listNodes", async (c, input) => {
    const { name, host, network, label, limit, cursor } = input.query ?? {};
    const hostId = host ? (await resolveHost(db, host, "query.host")).id : undefined;
    // A network id is used as it is, and resolved (404 if unknown) only when no node matches:
    // the common read (a network's nodes) is one statement.
    const byId = network?.startsWith("net_") === true;
    const networkId =
      network && !byId ? (await resolveNetwork(db, network, hostId, "query.network")).id : network;
    const hostIds = await c.get("access").hostIds();
    const details = await listNodeDetails(db, {
      ...(hostIds ? { hostIds } : {}),
      ...(name ? { nameContains: name } : {}),
      ...(hostId ? { hostId } : {}),
      ...(networkId ? { networkId } : {}),
      ...(label ? { labels: Array.isArray(label) ? label : [label] } : {}),
    });
    if (byId && network && details.length === 0) {
      await resolveNetwork(db, network, hostId, "query.network");
    }
    const page = paginate(details.map(nodeView), { limit, cursor }, (n) => [n.createdAt, n.id]);
    return c.json(page, 200);
  });

  registerOperation(app, "getNode", async (c, input) => {
    const ref = input.params.nodeId;
    const [only, ...more] = await nodeDetailsByRef(db, ref);
    if (only && more.length === 0) {
      return c.json(nodeView(only), 200);
    }
    // None or several: the usual lookup says which (404, or 409 for a name on several hosts).
    const row = await resolveNode(db, ref);
    const view = await loadNodeView(db, row.id);
    if (!view) {
      throw notFound("node", ref, "path.nodeId");
    }
    return c.json(view, 200);
  });

  registerOperation(app, "startNode", async (c, input) => {
    const { node, operation, started } = await startNode({ ctx: deps.commands, ref: input.params.nodeId });
    const load = () => loadNodeView(db, node.id);
    if (!started || !operation) {
      // Nothing to start: the node was started already (or is on its way out).
      const view = await load();
      if (!view) {
        throw notFound("node", input.params.nodeId, "path.nodeId");
      }
      return c.json(view, 200);
    }
    return respondToOperation(c, deps, { operation, doneStatus: 200, load });
  });

  registerOperation(app, "deleteNode", async (c, input) => {
    const { operation } = await deleteNode({ ctx: deps.commands, ref: input.params.nodeId });
    return respondToOperation(c, deps, { operation, doneStatus: 204, load: loadOperation(db, operation) });
  });
}
