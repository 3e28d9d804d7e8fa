import {
  connectNode,
  createNetwork,
  deleteNetwork,
  disconnectNode,
  pruneNetworks,
  resolveHost,
  resolveNetwork,
  updateNetwork,
} from "@labnet/commands";
import { getNetwork, getOperation, listNetworks, type OperationRow, visibleNetwork } from "@labnet/db";
import { parseIpv4 } from "@labnet/ipam";
import type { GatewayApp } from "../app";
import { etagOf, ifMatchRevisions } from "../http/etag";
import { registerOperation } from "../http/openapi-router";
import { numberKey, paginate } from "../http/paginate";
import { parsePreferWait, preferenceApplied } from "../http/prefer";
import { networkAllocationsView } from "../views/allocations-view";
import { networkView, networkViews } from "../views/network-view";
import { operationRef } from "../views/operation-view";
import type { AppDeps } from "./deps";
import { loadNodeView } from "./nodes";
import { loadOperation, respondToOperation } from "./respond";

export function registerNetworkRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db, waiter } = deps;
  const loadNetwork = (id: string) => async () => {
    const row = await getNetwork(db, id);
    return row ? networkView(db, row) : undefined;
  };
  /** The node, linking the operation of this call (not whichever is newest for the node). */
  const loadNode = (id: string, operation: OperationRow) => async () => {
    const [view, op] = await Promise.all([loadNodeView(db, id), getOperation(db, operation.id)]);
    return view ? { ...view, operation: operationRef(op ?? operation) } : undefined;
  };

  registerOperation(app, "createNetwork", async (c, input) => {
    const { network, operation } = await createNetwork({ ctx: deps.commands, input: input.body });
    return respondToOperation(c, deps, {
      operation,
      doneStatus: 201,
      location: `/v1/networks/${network.id}`,
      load: loadNetwork(network.id),
    });
  });

  registerOperation(app, "listNetworks", async (c, input) => {
    const { name, host, driver, label, limit, cursor } = input.query ?? {};
    const hostId = host ? (await resolveHost(db, host, "query.host")).id : undefined;
    const rows = await listNetworks(db, {
      visible: visibleNetwork(c.get("access").scope),
      ...(name ? { nameContains: name } : {}),
      ...(hostId ? { hostId } : {}),
      ...(driver ? { driver } : {}),
      ...(label ? { labels: Array.isArray(label) ? label : [label] } : {}),
    });
    const page = paginate(rows, { limit, cursor }, (n) => [n.createdAt.toISOString(), n.id]);
    return c.json({ items: await networkViews(db, page.items), next: page.next }, 200);
  });

  registerOperation(app, "getNetwork", async (c, input) => {
    const row = await resolveNetwork(db, input.params.networkId);
    c.header("ETag", etagOf(row.revision));
    return c.json(await networkView(db, row), 200);
  });

  registerOperation(app, "updateNetwork", async (c, input) => {
    const { network, operation } = await updateNetwork({
      ctx: deps.commands,
      ref: input.params.networkId,
      input: input.body,
      ifRevisions: ifMatchRevisions(input.headers["If-Match"]),
    });
    if (!operation) {
      c.header("ETag", etagOf(network.revision));
      return c.json(await networkView(db, network), 200);
    }
    // The ETag of the network as answered (a wait sees the revisions the executor's reports made).
    const load = async () => {
      const row = await getNetwork(db, network.id);
      if (row) {
        c.header("ETag", etagOf(row.revision));
      }
      return row ? networkView(db, row) : undefined;
    };
    return respondToOperation(c, deps, { operation, doneStatus: 200, load });
  });

  registerOperation(app, "deleteNetwork", async (c, input) => {
    const { operation } = await deleteNetwork({
      ctx: deps.commands,
      ref: input.params.networkId,
      force: input.query?.force === true,
    });
    return respondToOperation(c, deps, { operation, doneStatus: 204, load: loadOperation(db, operation) });
  });

  registerOperation(app, "connectNetwork", async (c, input) => {
    const { node, operation } = await connectNode({
      ctx: deps.commands,
      input: { network: input.params.networkId, ...input.body },
    });
    return respondToOperation(c, deps, {
      operation,
      doneStatus: 200,
      load: loadNode(node.id, operation),
    });
  });

  registerOperation(app, "disconnectNetwork", async (c, input) => {
    const { node, operation } = await disconnectNode({
      ctx: deps.commands,
      input: { network: input.params.networkId, node: input.body.node },
    });
    return respondToOperation(c, deps, {
      operation,
      doneStatus: 200,
      load: loadNode(node.id, operation),
    });
  });

  registerOperation(app, "pruneNetworks", async (c, input) => {
    const { host, label } = input.query ?? {};
    const hostId = host ? (await resolveHost(db, host, "query.host")).id : undefined;
    const removed = await pruneNetworks({
      ctx: deps.commands,
      input: {
        ...(hostId ? { hostId } : {}),
        ...(label ? { labels: Array.isArray(label) ? label : [label] } : {}),
      },
    });
    const wait = parsePreferWait(c.req.header("prefer"));
    let done = removed.length === 0;
    const operations: OperationRow[] = removed.map((r) => r.operation);
    if (wait !== undefined && wait > 0) {
      c.header("Preference-Applied", preferenceApplied(wait));
      const deadline = Date.now() + wait * 1000;
      for (const [i, op] of operations.entries()) {
        await waiter.wait(op.id, Math.max(0, deadline - Date.now()));
        operations[i] = (await getOperation(db, op.id)) ?? op;
      }
      done = operations.every((op) => op.state === "succeeded");
    }
    const items = removed.map((r, i) => ({
      id: r.network.id,
      name: r.network.name,
      hostId: r.network.hostId ?? "",
      operation: operationRef(operations[i] ?? r.operation),
    }));
    return c.json({ items }, done ? 200 : 202);
  });

  registerOperation(app, "listNetworkAllocations", async (c, input) => {
    const network = await resolveNetwork(db, input.params.networkId);
    const view = await networkAllocationsView(db, network);
    // In address order, as the whole list is.
    const page = paginate(view.items, input.query, (a) => [numberKey(parseIpv4(a.address) ?? 0), a.address]);
    return c.json({ ...view, ...page }, 200);
  });
}
