import { createNetwork, deleteNetwork, resolveHost, resolveNetwork } from "@labnet/commands";
import { getNetwork, listNetworks } from "@labnet/db";
import type { GatewayApp } from "../app";
import { registerOperation } from "../http/openapi-router";
import { requireRole } from "../middleware/auth";
import { networkView, networkViews } from "../views/network-view";
import type { AppDeps } from "./deps";
import { respondToOperation } from "./respond";

export function registerNetworkRoutes(app: GatewayApp, deps: AppDeps): void {
  const { db, waiter } = deps;

  registerOperation(app, "createNetwork", async (c, input) => {
    requireRole(c.get("token"), ["admin"]);
    const { network, operation } = await createNetwork({ ctx: deps.commands, input: input.body });
    return respondToOperation(c, {
      db,
      waiter,
      operation,
      doneStatus: 201,
      location: `/v1/networks/${network.id}`,
      load: async () => {
        const row = await getNetwork(db, network.id);
        return row ? networkView(db, row) : undefined;
      },
    });
  });

  registerOperation(app, "listNetworks", async (c, input) => {
    const { name, host, driver, label } = input.query ?? {};
    const hostId = host ? (await resolveHost(db, host, "query.host")).id : undefined;
    const rows = await listNetworks(db, {
      ...(name ? { name } : {}),
      ...(hostId ? { hostId } : {}),
      ...(driver ? { driver } : {}),
      ...(label ? { labels: Array.isArray(label) ? label : [label] } : {}),
    });
    return c.json({ items: await networkViews(db, rows) }, 200);
  });

  registerOperation(app, "getNetwork", async (c, input) => {
    const row = await resolveNetwork(db, input.params.networkId);
    return c.json(await networkView(db, row), 200);
  });

  registerOperation(app, "deleteNetwork", async (c, input) => {
    requireRole(c.get("token"), ["admin"]);
    const { network, operation } = await deleteNetwork({ ctx: deps.commands, ref: input.params.networkId });
    return respondToOperation(c, {
      db,
      waiter,
      operation,
      doneStatus: 204,
      load: async () => {
        const row = await getNetwork(db, network.id);
        return row ? networkView(db, row) : undefined;
      },
    });
  });
}
