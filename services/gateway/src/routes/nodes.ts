import { createNode, deleteNode, resolveHost, resolveNetwork, resolveNode } from "@labnet/commands";
import { getNode, listNodes } from "@labnet/db";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { requireRole } from "../middleware/auth";
import { nodeView, nodeViews } from "../views/node-view";
import type { AppDeps } from "./deps";
import { respondToOperation } from "./respond";

export function registerNodeRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db } = deps;

  registerOperation(app, "createNode", async (c, input) => {
    requireRole(c.get("token"), ["admin"]);
    const { node, operation } = await createNode({ ctx: deps.commands, input: input.body });
    return respondToOperation(c, deps, {
      operation,
      doneStatus: 201,
      location: `/v1/nodes/${node.id}`,
      load: async () => {
        const row = await getNode(db, node.id);
        return row ? nodeView(db, row) : undefined;
      },
    });
  });

  registerOperation(app, "listNodes", async (c, input) => {
    const { name, host, network, label } = input.query ?? {};
    const hostId = host ? (await resolveHost(db, host, "query.host")).id : undefined;
    const networkId = network ? (await resolveNetwork(db, network, hostId, "query.network")).id : undefined;
    const rows = await listNodes(db, {
      ...(name ? { name } : {}),
      ...(hostId ? { hostId } : {}),
      ...(networkId ? { networkId } : {}),
      ...(label ? { labels: Array.isArray(label) ? label : [label] } : {}),
    });
    return c.json({ items: await nodeViews(db, rows) }, 200);
  });

  registerOperation(app, "getNode", async (c, input) => {
    const row = await resolveNode(db, input.params.nodeId);
    return c.json(await nodeView(db, row), 200);
  });

  registerOperation(app, "deleteNode", async (c, input) => {
    requireRole(c.get("token"), ["admin"]);
    const { node, operation } = await deleteNode({ ctx: deps.commands, ref: input.params.nodeId });
    return respondToOperation(c, deps, {
      operation,
      doneStatus: 204,
      load: async () => {
        const row = await getNode(db, node.id);
        return row ? nodeView(db, row) : undefined;
      },
    });
  });
}
